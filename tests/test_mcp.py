"""MCP server through the `mcp` SDK's own client: `python -m assistant mcp` as a stdio subprocess,
and `--http PORT` (streamable HTTP) as a server process, both over the session's real index."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from live_server import free_port

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"list_plans", "search_items", "get_item", "ask"}
PLAN_IDS = {"dazhou-2020", "hengyang-2022", "shaodong-2020", "yongshun-2023"}
TOKEN = "mcp-token-0123456789abcdef"
STUDENT_AID = "学生资助由哪个科室牵头？"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("ASSISTANT_TOKEN", "ASSISTANT_USER", "ASSISTANT_PASSWORD")}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


def result(call) -> dict:
    """A tool result's structured JSON, checked against the text copy every client can read."""
    assert not call.is_error, call.content
    assert json.loads(call.content[0].text) == call.structured_content
    return call.structured_content


async def exercise(client: Client) -> None:
    """The four tools, answers and errors, as an MCP host would call them."""
    assert {t.name for t in (await client.list_tools()).tools} == TOOLS

    plans = result(await client.call_tool("list_plans", {}))["plans"]
    assert {p["id"] for p in plans} == PLAN_IDS

    answer = result(await client.call_tool("ask", {"question": STUDENT_AID}))
    assert answer["supported"] is True and "市后勤与资助中心牵头" in answer["answer"]
    assert "〔达州市教育局2020年工作要点·第21项〕" in answer["answer"]
    assert [c["id"] for c in answer["citations"]] == ["dazhou-2020:21"]
    follow = result(await client.call_tool("ask", {"question": "那它的责任科室呢？", "history": [STUDENT_AID]}))
    assert "计财科" in follow["answer"] and "dazhou-2020:21" in {c["id"] for c in follow["citations"]}

    found = result(await client.call_tool("search_items", {"query": "新增学位", "plan": "shaodong-2020", "k": 3}))
    items = found["items"]
    assert 1 <= len(items) <= 3 and {i["plan_id"] for i in items} == {"shaodong-2020"}
    assert "shaodong-2020:7" in {i["id"] for i in items}
    assert all(i["citation"].startswith("〔邵东") and i["text"] for i in items)

    item = result(await client.call_tool("get_item", {"item_id": "dazhou-2020:17"}))
    assert item["title"] == "深入推进教育信息化建设和应用" and item["lead_units"] == ["市电教技装中心"]
    assert item["citation"] == "〔达州市教育局2020年工作要点·第17项〕"

    for name, args, says in [("get_item", {"item_id": "dazhou-2020:999"}, "no item with id 'dazhou-2020:999'"),
                             ("ask", {"question": STUDENT_AID, "plan": "nowhere-1999"}, "unknown plan id"),
                             ("search_items", {"query": "学生资助", "plan": "nowhere-1999"}, "unknown plan id"),
                             ("search_items", {"query": "学生资助", "k": 500}, "less than or equal to 20"),
                             ("ask", {"question": "   "}, "empty")]:
        bad = await client.call_tool(name, args)
        assert bad.is_error and says in bad.content[0].text, (name, args, bad.content)


async def test_stdio_subprocess(built_index):
    params = StdioServerParameters(command=sys.executable, cwd=str(ROOT), env=_env(),
                                   args=["-m", "assistant", "mcp", "--index", str(built_index[0])])
    async with Client(params, read_timeout_seconds=180) as client:
        assert client.server_info.name == "workplan-assistant"
        await exercise(client)


@contextmanager
def mcp_http(index: Path, **env: str):
    """`python -m assistant mcp --http PORT` until the block ends; yields the endpoint URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "mcp", "--http", str(port), "--index", str(index)],
                            cwd=ROOT, env=_env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mcp server exited {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def test_streamable_http(built_index):
    with mcp_http(built_index[0]) as url:
        async with Client(url, read_timeout_seconds=180) as client:
            await exercise(client)
        # the web server's guard is in front: a Host the server is not reachable as is refused
        assert httpx.post(url, json={}, headers={"Host": "evil.example"}).status_code == 400


async def test_streamable_http_with_a_token(built_index):
    with mcp_http(built_index[0], ASSISTANT_TOKEN=TOKEN) as url:
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=180) as http:
            async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=180) as client:
                plans = result(await client.call_tool("list_plans", {}))["plans"]
                assert {p["id"] for p in plans} == PLAN_IDS
        # without the header (or with a wrong one) nothing reaches the MCP app
        assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401
        assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Authorization": "Bearer wrong-" + TOKEN}).status_code == 401


def test_refuses_an_exposed_http_server_without_credentials(built_index):
    run = subprocess.run([sys.executable, "-m", "assistant", "mcp", "--http", str(free_port()), "--host", "0.0.0.0",
                          "--index", str(built_index[0])], cwd=ROOT, env=_env(), capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 2 and "refusing to listen on 0.0.0.0 without authentication" in run.stderr


def test_a_bad_llm_spec_is_refused_before_the_index_is_opened(built_index):
    run = subprocess.run([sys.executable, "-m", "assistant", "mcp", "--llm", "qwen", "--index", str(built_index[0])],
                         cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "--llm must be openai:<model>@<base_url> or gguf:" in run.stderr
