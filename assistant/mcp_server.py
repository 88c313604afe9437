"""MCP server (Model Context Protocol, the `mcp` SDK): desktop AI assistants consult the plans.

    python -m assistant mcp                       # stdio: the client starts this as a subprocess
    python -m assistant mcp --http 8765           # streamable HTTP on http://127.0.0.1:8765/mcp

Tools (each result is structured JSON, also sent as text for clients that read only text):

    list_plans()                          the indexed plans
    search_items(query, plan?, k?)        ranked records, each with its citation marker 〔计划·第N项〕
    get_item(item_id)                     one record in full, e.g. dazhou-2020:17
    ask(question, plan?, history?)        the assistant's answer with inline markers and citations

Over HTTP the server is guarded like the web server (`security.Guard`): it answers only to its
own Host names, and bound anywhere but loopback it refuses to start without ASSISTANT_TOKEN (or
ASSISTANT_USER/ASSISTANT_PASSWORD), which clients then send as `Authorization: Bearer …`.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field

from .schemas import ITEM_ID_PATTERN, MAX_HISTORY_TURNS, MAX_ID_CHARS, MAX_PLAN_ID_CHARS, PLAN_ID_PATTERN
from .service import MAX_QUESTION_CHARS

if TYPE_CHECKING:
    from .security import Settings
    from .service import Assistant

SERVER_NAME = "workplan-assistant"
MCP_PATH = "/mcp"
MAX_BODY_BYTES = 64 * 1024  # as the REST API: a tool call is a question and a few ids
MAX_K = 20
INSTRUCTIONS = ("Answers questions about Chinese education bureaus' annual work plans (工作要点) from the plans "
                "themselves. Quote the 〔计划·第N项〕 markers and the citations the tools return; when `supported` "
                "is false the plans do not state the answer.")

PlanArg = Annotated[str | None, Field(default=None, max_length=MAX_PLAN_ID_CHARS, pattern=PLAN_ID_PATTERN,
                                      description="only this plan id (see list_plans), e.g. dazhou-2020")]


def build_server(assistant: Assistant) -> Any:
    """An MCPServer whose four tools read `assistant` (an assistant.service.Assistant)."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    from .cli import item_json, plan_json
    from .engine.contract import marker
    from .langchain_adapters import item_document
    from .service import QuestionError

    server = MCPServer(SERVER_NAME, instructions=INSTRUCTIONS, version=_version(), log_level="WARNING")

    def known_plan(plan: str | None) -> str | None:
        if plan is not None and not any(p.id == plan for p in assistant.plans()):
            raise ToolError(f"unknown plan id '{plan}' (list_plans gives the ids)")
        return plan

    @server.tool(description="The indexed work plans: id, title, issuer, year, item count, top-level sections.")
    def list_plans() -> dict[str, Any]:
        keys = ("id", "title", "issuer", "year", "item_count", "record_count", "sections", "has_units")
        return {"plans": [{k: plan_json(p)[k] for k in keys} for p in assistant.plans()]}

    @server.tool(description="Search the plans' items (hybrid keyword + semantic retrieval). Returns the best "
                             "records first, each with its text, lead/responsible units and citation marker.")
    def search_items(query: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                                 description="what to look for, e.g. 学生资助 or 第17项")],
                     plan: PlanArg = None,
                     k: Annotated[int, Field(ge=1, le=MAX_K, description="how many records at most")] = 5
                     ) -> dict[str, Any]:
        if not query.strip():
            raise ToolError("query is empty")
        plan = known_plan(plan)
        hits = assistant.retriever.search(query, plan=plan, k=k)
        return {"items": [{"score": d.metadata.pop("score"), **d.metadata, "text": d.page_content}
                          for d in (item_document(h.plan, h.item, h.score) for h in hits)]}

    @server.tool(description="One record of a plan in full, by id: `<plan_id>:<item number>` (dazhou-2020:17) or "
                             "`<plan_id>:p<N>` for unnumbered text.")
    def get_item(item_id: Annotated[str, Field(max_length=MAX_ID_CHARS, pattern=ITEM_ID_PATTERN,
                                               description="e.g. dazhou-2020:17")]) -> dict[str, Any]:
        found = assistant.item(item_id)
        if found is None:
            raise ToolError(f"no item with id '{item_id}' (search_items gives ids)")
        return {**item_json(*found), "citation": marker(*found)}

    @server.tool(description="Ask the assistant a question in Chinese. The answer is extractive: its sentences "
                             "come from the plans and carry 〔计划·第N项〕 markers; `citations` lists the cited "
                             "records; `supported: false` means the plans do not state the answer.")
    def ask(question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION_CHARS,
                                           description="the question, e.g. 学生资助由哪个科室牵头？")],
            plan: PlanArg = None,
            history: Annotated[list[Annotated[str, Field(max_length=MAX_QUESTION_CHARS)]],
                               Field(max_length=MAX_HISTORY_TURNS,
                                     description="earlier questions of this conversation, oldest first "
                                                 "(for follow-ups such as 那它的责任科室呢？)")] | None = None
            ) -> dict[str, Any]:
        try:
            answer = assistant.ask(question, history=list(history or []), plan=plan).to_dict()
        except QuestionError as exc:
            raise ToolError(str(exc)) from exc
        keys = ("question", "answer", "supported", "kind", "citations", "context", "mode", "fallback")
        return {k: answer[k] for k in keys if k in answer}  # mode/fallback: only with --llm

    return server


def _version() -> str:
    from . import __version__

    return __version__


# ---- running it -----------------------------------------------------------------------------
def http_app(server: Any, settings: Settings) -> Any:
    """The streamable HTTP app behind the web server's Guard (Host check, auth, security headers)."""
    from mcp.server.transport_security import TransportSecuritySettings

    from .security import Guard

    settings.check()
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, max_request_body_size=MAX_BODY_BYTES, host=settings.host,
        # Guard checks Host against the operator's allow-list (ASSISTANT_ALLOWED_HOSTS) already
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    return Guard(app, settings=settings)


def cmd_mcp(args: argparse.Namespace) -> int:
    from .security import ConfigError, Settings
    from .service import Assistant
    from .store import IndexUnavailable

    settings = Settings.from_env(host=args.host, port=args.http or 0)
    try:
        if args.http:
            settings.check()  # before the index is opened: a refused configuration fails fast
        llm = None
        if args.llm:  # a model phrases the answers; every sentence is verified (generative.py)
            from .generative import GenerativeAssistant, chat_model

            llm = chat_model(args.llm)
        # stdout is the stdio transport's channel: anything a library prints while loading goes to stderr
        with contextlib.redirect_stdout(sys.stderr):
            assistant: Any = Assistant.open(args.index, corpus_dir=args.corpus, build=args.build,
                                            progress=args.build)
        if llm is not None:
            assistant = GenerativeAssistant(assistant, *llm)
    except (ConfigError, IndexUnavailable, ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server = build_server(assistant)
    if not args.http:
        server.run("stdio")
        return 0
    import uvicorn

    print(f"MCP (streamable HTTP) on http://{args.host}:{args.http}{MCP_PATH}", file=sys.stderr)
    uvicorn.run(http_app(server, settings), host=args.host, port=args.http, log_level="warning")
    return 0


def register(sub: Any) -> None:
    """`python -m assistant mcp`: the subcommand, registered by cli.py."""
    from .corpus import DEFAULT_CORPUS
    from .store import DEFAULT_INDEX

    p = sub.add_parser("mcp", help="serve the plans to MCP clients (stdio, or streamable HTTP with --http PORT)")
    p.add_argument("--http", type=_port, metavar="PORT", help=f"serve streamable HTTP on PORT (path {MCP_PATH}) "
                                                              "instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1; any other needs "
                                                       "ASSISTANT_TOKEN or ASSISTANT_USER/ASSISTANT_PASSWORD)")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index folder (default: index/)")
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="plan files, read only with --build")
    p.add_argument("--build", action="store_true", help="build or update the index first when it is stale")
    p.add_argument("--llm", default=os.environ.get("ASSISTANT_LLM") or None,
                   help="generative mode for the ask tool: openai:<model>@<base_url> or gguf:/path/model.gguf")
    p.set_defaults(func=cmd_mcp)


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value!r}")
    return int(value)
