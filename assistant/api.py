"""The server: a FastAPI app with the REST API, offline OpenAPI docs and the Gradio UI mounted at `/`.

Routes (all JSON):

    POST /api/ask                 {question, plan?, history?} -> the answer contract (Answer.to_dict())
    POST /api/ask/stream          the same, as server-sent events: model drafts, then the final answer
    GET  /api/plans               the indexed plans
    GET  /api/plans/{id}/items    every record of one plan
    GET  /api/items/{id}          one record, e.g. dazhou-2020:17
    GET  /healthz                 liveness + what is loaded (never needs auth)
    GET  /docs, /openapi.json     Swagger UI served from the swagger-ui-bundle wheel (no CDN)

Safe by default: bound to a loopback address nothing is required; bound anywhere else the server
refuses to start unless ASSISTANT_TOKEN (bearer) or ASSISTANT_USER/ASSISTANT_PASSWORD is set, and
then the API needs `Authorization: Bearer <token>` or HTTP Basic, and the UI shows Gradio's login.
Who may connect and what every response carries is in `security.py`; request models in
`schemas.py`; SECURITY.md sums both up.
"""
from __future__ import annotations

import asyncio
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api_openai import openai_router
from .api_conversations import conversations_router
from .api_plans import UPLOAD_BODY_LIMIT, UPLOAD_PATH, plans_router
from .cli import item_json, plan_json
from .schemas import MAX_HISTORY_TURNS, AskRequest, AskResponse, ErrorOut, ItemOut, PlanOut  # noqa: F401
from .security import ConfigError, Guard, LoginThrottle, Settings, gradio_cookie_user  # noqa: F401
from .service import QuestionError
from .store import IndexUnavailable

MAX_BODY_BYTES = 64 * 1024
API_PREFIX = "/api/"
DOCS_ASSETS = "/docs-assets"
# Amplification guard: a request whose plain-string history turns must be answered again, or with a
# long question, is "heavy". Heavy requests run one at a time at low CPU priority, at most
# HEAVY_QUEUE wait; the rest get 503 at once. A normal question never waits behind them.
HEAVY_QUESTION_CHARS = 120
HEAVY_LANES = 1
HEAVY_QUEUE = 4
HEAVY_NICE = 19
HEAVY_WAIT_S = 20  # the Retry-After given with a 503
BUSY_DELAY_S = 1.0  # a refused heavy request is answered after this pause (costs no CPU)
T = TypeVar("T")
BODY_PARSE_ERROR = "There was an error parsing the body"  # FastAPI's wording for a body json.loads rejects


# ---- body size limit ----------------------------------------------------------------------
class BodySizeLimit:
    """ASGI middleware: a request body over `max_bytes` on an /api/ path gets 413 before any handler."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, prefix: str = API_PREFIX,
                 overrides: dict[str, int] | None = None):
        self.app, self.max_bytes, self.prefix = app, max_bytes, prefix
        self.overrides = overrides or {}  # exact path -> its own limit (the plan upload)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        if scope["path"] in self.overrides:
            return await BodySizeLimit(self.app, self.overrides[scope["path"]], self.prefix)(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._reject(send)
        # Read the (possibly chunked) body up to the limit, then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, _replay([message]), send)
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                return await self._reject(send)
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        return await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive),
                              send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps({"error": f"request body too large (at most {self.max_bytes} bytes)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return receive


# ---- the app ------------------------------------------------------------------------------
def create_app(assistant: Any, settings: Settings | None = None, ui: bool = True) -> FastAPI:
    """The REST API over an Assistant, with the Gradio UI mounted at `/` unless `ui` is False."""
    settings = settings or Settings()
    settings.check()

    def require_auth(request: Request) -> None:
        if settings.auth_required and not settings.header_ok(request.headers.get("authorization")):
            raise HTTPException(401, "authentication required: Authorization: Bearer <token> or HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="assistant", Bearer'})

    app = FastAPI(title="工作要点问答助手 API", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url=None, description=__doc__.split("\n\n")[0])
    # Innermost first. Declaring CORS with no allowed origin also switches off Gradio's own CORS
    # layer, which reflects any origin (with credentials) when the Host is not localhost.
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    app.add_middleware(JsonErrors)
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES, overrides={UPLOAD_PATH: UPLOAD_BODY_LIMIT})
    # who a Gradio session cookie belongs to, once the UI is mounted
    session: dict[str, Callable[[dict[str, str]], str | None]] = {"user": lambda cookies: None}
    app.add_middleware(Guard, settings=settings, throttle=LoginThrottle(),
                       cookie_user=lambda cookies: session["user"](cookies))
    app.state.assistant = assistant
    app.state.settings = settings
    guarded = [Depends(require_auth)]
    _add_error_handlers(app)
    lane = HeavyLane()

    errors: dict[int | str, dict[str, Any]] = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut},
              503: {"model": ErrorOut}}

    @app.post("/api/ask", response_model=AskResponse, dependencies=guarded, responses=errors, tags=["answers"])
    async def ask(body: AskRequest) -> dict[str, Any]:
        """Answer a question from the plans, with inline citations 〔计划·第N项〕 and their records."""
        def run() -> dict[str, Any]:
            answer: dict[str, Any] = assistant.ask(body.question, history=body.history_for_engine(),
                                                   plan=body.plan or None).to_dict()
            return answer
        return await (lane.run(run) if _is_heavy(body) else run_in_threadpool(run))

    from .api_stream import FinishedAnswers, StreamStats, stream_router  # noqa: E402  (SSE answers: api_stream.py)
    app.state.answer_streams, app.state.finished_answers = StreamStats(), FinishedAnswers()
    app.include_router(stream_router(assistant, guarded, lane.run, app.state.answer_streams,
                                     app.state.finished_answers))  # POST /api/ask/stream

    @app.get("/api/plans", response_model=list[PlanOut], dependencies=guarded, tags=["plans"])
    def plans() -> list[dict[str, Any]]:
        """The indexed plans (id, title, issuer, year, item count, sections)."""
        return [plan_json(p) for p in assistant.plans()]

    @app.get("/api/plans/{plan_id}/items", response_model=list[ItemOut], dependencies=guarded, tags=["plans"],
             responses={404: {"model": ErrorOut}})
    def plan_items(plan_id: str) -> list[dict[str, Any]]:
        """Every record of one plan, in order (numbered items and unnumbered text)."""
        plan = next((p for p in assistant.plans() if p.id == plan_id), None)
        if plan is None:
            raise HTTPException(404, f"no plan with id '{plan_id}'")
        return [item_json(plan, i) for i in plan.items]

    from .api_obligations import obligations_router  # noqa: E402  (school obligations: api_obligations.py)
    app.include_router(obligations_router(assistant, guarded))  # GET /api/plans/{id}/obligations
    from .web_item_page import item_page_router  # noqa: E402  (an item's page with a clause marked)
    app.include_router(item_page_router(assistant))  # GET /plans/{id}/items/{n}?from=&to= (Guard: UI login)

    @app.get("/api/items/{item_id}", response_model=ItemOut, dependencies=guarded, tags=["plans"],
             responses={404: {"model": ErrorOut}})
    def item(item_id: str) -> dict[str, Any]:
        """One record by id, e.g. `dazhou-2020:17` (numbered) or `hengyang-2022:p20` (unnumbered)."""
        found = assistant.item(item_id)
        if found is None:
            raise HTTPException(404, f"no item with id '{item_id}'")
        return item_json(*found)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict[str, Any]:
        """Liveness: the loaded index build and plan count. Open even when auth is on."""
        plans = assistant.plans()
        retriever = getattr(assistant, "retriever", None)
        build = getattr(getattr(retriever, "manifest", None), "build_id", None)
        return {"status": "ok", "plans": len(plans), "build": build}

    app.include_router(openai_router(assistant, settings, app.state.answer_streams))  # /v1: OpenAI-compatible chat (api_openai.py)
    app.include_router(plans_router(assistant, settings))  # upload / accept / correct / delete plans (api_plans.py)
    app.include_router(conversations_router(settings))  # the web chat's stored conversations (api_conversations.py)
    _add_docs(app, guarded)
    _add_api_fallback(app)
    if ui:
        from .web import mount_ui

        mount_ui(app, assistant, settings)
        gradio_app = next((r.app for r in app.routes if isinstance(r, Mount) and r.path in ("", "/")), None)
        if gradio_app is not None:
            session["user"] = gradio_cookie_user(gradio_app)
    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error is a JSON object with an `error` field; nothing escapes as a bare 500."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_PARSE_ERROR:  # e.g. invalid UTF-8, nesting too deep
            cause = exc.__cause__
            reason = "JSON nested too deeply" if isinstance(cause, RecursionError) else "body is not valid JSON"
            return JSONResponse({"error": f"invalid request: {reason}",
                                 "detail": [{"loc": ["body"], "msg": reason, "type": "json_invalid"}]}, status_code=422)
        return JSONResponse({"error": _printable(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [{"loc": [_printable(p) for p in e.get("loc", [])], "msg": _printable(e.get("msg", "")),
                   "type": e.get("type", "")} for e in exc.errors()]
        first = detail[0] if detail else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse({"error": f"invalid request: {where + ': ' if where else ''}{first['msg']}",
                             "detail": detail}, status_code=422)

    @app.exception_handler(QuestionError)
    async def bad_question(request: Request, exc: QuestionError) -> JSONResponse:
        return JSONResponse({"error": _printable(str(exc))}, status_code=400)

    @app.exception_handler(IndexUnavailable)
    async def no_index(request: Request, exc: IndexUnavailable) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=503)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        await asyncio.sleep(BUSY_DELAY_S)  # a flooding client that is refused at once just asks again at once
        return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:  # last resort; the fuzz suite expects none
        return JSONResponse({"error": "internal error"}, status_code=500)


def _add_api_fallback(app: FastAPI) -> None:
    """Unknown /api/ routes: 405 with Allow when the path exists for another method, else 404 (both JSON)."""

    @app.api_route(API_PREFIX.rstrip("/") + "/{rest:path}", include_in_schema=False,
                   methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    def api_fallback(request: Request) -> JSONResponse:
        allowed: set[str] = set()
        for route in app.routes:
            if getattr(route, "include_in_schema", False) and hasattr(route, "methods"):
                match, _ = route.matches({**request.scope, "method": "\0"})
                if match == Match.PARTIAL:
                    allowed |= set(route.methods)
        if allowed:
            return JSONResponse({"error": f"method {request.method} not allowed here (use {', '.join(sorted(allowed))})"},
                                status_code=405, headers={"Allow": ", ".join(sorted(allowed))})
        return JSONResponse({"error": f"no such endpoint: {_printable(request.url.path)}"}, status_code=404)


def _printable(value: Any) -> Any:
    """Text that can be encoded as UTF-8 (lone surrogates from a hostile body replaced)."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value if isinstance(value, (int, float, bool, type(None))) else _printable(str(value))


class Busy(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"server busy with long requests: retry in {retry_after} s, or send a shorter question "
                         "and the earlier answers (not bare questions) as history")


class HeavyLane:
    """Heavy requests run on HEAVY_LANES dedicated low-priority threads, at most HEAVY_QUEUE waiting.

    The threads are niced (Linux nices threads one by one), so under a flood of maximal bodies the
    scheduler still gives a normal question's thread the CPU first.
    """

    def __init__(self, lanes: int = HEAVY_LANES, queue: int = HEAVY_QUEUE, wait: float = HEAVY_WAIT_S):
        self._pool = ThreadPoolExecutor(max_workers=lanes, thread_name_prefix="heavy", initializer=_lower_priority)
        self._lock = threading.Lock()
        self._pending, self.limit, self.wait = 0, lanes + queue, wait

    async def run(self, fn: Callable[[], T]) -> T:
        """`fn()` on a heavy lane thread; Busy at once when HEAVY_QUEUE requests already wait."""
        with self._lock:
            if self._pending >= self.limit:
                raise Busy(int(self.wait))
            self._pending += 1
        future = self._pool.submit(fn)
        future.add_done_callback(self._done)
        return await asyncio.wrap_future(future)

    def _done(self, _future: object) -> None:
        with self._lock:
            self._pending -= 1


def _lower_priority() -> None:
    from .embeddings import use_background_handle

    use_background_handle()  # never hold the shared model handle a normal question needs
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HEAVY_NICE)
    except (AttributeError, OSError):  # not Linux, or not allowed: the queue bound still holds
        pass


def _is_heavy(body: AskRequest) -> bool:
    """Plain-string turns are re-answered by the engine; a long question costs more to embed."""
    return len(body.question) > HEAVY_QUESTION_CHARS or any(isinstance(t, str) for t in body.history)


class JsonErrors:
    """ASGI middleware: a 404/405 from a mounted app (Gradio says {"detail": …}) or a refused CORS
    preflight becomes {"error": …}."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":  # a HEAD answer has no body to rewrite
            return await self.app(scope, receive, send)
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def sending(message: Message) -> None:
            # a refused CORS preflight is Starlette's plain text: rewritten too (Gradio needs the
            # CORS layer to be Starlette's own class, so it is not subclassed)
            rewrite = (404, 405, 400) if scope["method"] == "OPTIONS" else (404, 405)
            if message["type"] == "http.response.start" and message["status"] in rewrite:
                start.update(message)
                return
            if not start or message["type"] != "http.response.body":
                return await send(message)
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            try:
                data = json.loads(body)
            except ValueError:
                data = None
            if isinstance(data, dict) and "detail" in data and "error" not in data:
                detail = data["detail"]
                body = json.dumps({"error": detail if isinstance(detail, str) else "not found"}).encode()
            elif data is None:
                body = json.dumps({"error": body.decode("utf-8", "replace").strip() or "not found"}).encode()
            headers = [(k, v) for k, v in start.get("headers") or []
                       if k.lower() not in (b"content-length", b"content-type")]
            await send({**start, "headers": headers + [(b"content-type", b"application/json"),
                                                       (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
        return await self.app(scope, receive, sending)


def _add_docs(app: FastAPI, guarded: list[Any]) -> None:
    """/openapi.json and /docs, with Swagger UI's files from the swagger-ui-bundle wheel (no CDN)."""
    from fastapi.openapi.docs import get_swagger_ui_html

    @app.get("/openapi.json", include_in_schema=False, dependencies=guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # the wheel is missing: a plain offline page instead of Swagger UI
        swagger_ui_path = None

    if swagger_ui_path is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False, dependencies=guarded)
    def docs() -> HTMLResponse:
        if swagger_ui_path is None:
            return HTMLResponse(_plain_docs(app.openapi()))
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title=f"{app.title} – docs",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js", swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png", swagger_ui_parameters={"validatorUrl": None})


def _plain_docs(schema: dict[str, Any]) -> str:
    """A self-contained list of the endpoints (used only when swagger-ui-bundle is not installed)."""
    from html import escape

    rows = []
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            rows.append(f"<li><code>{escape(method.upper())} {escape(path)}</code> – "
                        f"{escape(op.get('summary', ''))}<br><small>{escape(op.get('description', ''))}</small></li>")
    return (f"<!doctype html><meta charset=utf-8><title>{escape(schema['info']['title'])}</title>"
            f"<h1>{escape(schema['info']['title'])}</h1><ul>{''.join(rows)}</ul>"
            "<p>Full schema: <a href=/openapi.json>/openapi.json</a></p>")


def _version() -> str:
    from . import __version__

    return __version__
