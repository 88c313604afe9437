"""The server: a FastAPI app with the REST API, offline OpenAPI docs and the Gradio UI mounted at `/`.

Routes (all JSON):

    POST /api/ask                 {question, plan?, history?} -> the answer contract (Answer.to_dict())
    GET  /api/plans               the indexed plans
    GET  /api/plans/{id}/items    every record of one plan
    GET  /api/items/{id}          one record, e.g. dazhou-2020:17
    GET  /healthz                 liveness + what is loaded (never needs auth)
    GET  /docs, /openapi.json     Swagger UI served from the swagger-ui-bundle wheel (no CDN)

Safe by default: bound to a loopback address nothing is required; bound anywhere else the server
refuses to start unless ASSISTANT_TOKEN (bearer) or ASSISTANT_USER/ASSISTANT_PASSWORD is set, and
then the API needs `Authorization: Bearer <token>` or HTTP Basic, and the UI shows Gradio's login.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import os
from base64 import b64decode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from .cli import item_json, plan_json
from .service import MAX_QUESTION_CHARS, QuestionError
from .store import IndexUnavailable

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 64 * 1024
MAX_HISTORY_TURNS = 20
API_PREFIX = "/api/"
DOCS_ASSETS = "/docs-assets"


class ConfigError(ValueError):
    """The server configuration is unsafe or incomplete; the message says what to set."""


@dataclass
class Settings:
    """Where to listen, who may use it, and where feedback goes (from CLI flags and the environment)."""

    host: str = "127.0.0.1"
    port: int = 7860
    token: str | None = None
    user: str | None = None
    password: str | None = None
    data_dir: Path = field(default_factory=lambda: ROOT / "data")

    @classmethod
    def from_env(cls, host: str = "127.0.0.1", port: int = 7860, env: dict | None = None) -> "Settings":
        env = os.environ if env is None else env
        data_dir = env.get("ASSISTANT_DATA_DIR")
        return cls(host=host, port=port, token=env.get("ASSISTANT_TOKEN") or None,
                   user=env.get("ASSISTANT_USER") or None, password=env.get("ASSISTANT_PASSWORD") or None,
                   data_dir=Path(data_dir) if data_dir else ROOT / "data")

    @property
    def loopback(self) -> bool:
        if self.host in ("localhost", "localhost.localdomain"):
            return True
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_loopback
        except ValueError:
            return False

    @property
    def has_credentials(self) -> bool:
        return bool(self.token or (self.user and self.password))

    @property
    def auth_required(self) -> bool:
        """Off on loopback without credentials; on whenever credentials are configured."""
        return self.has_credentials

    def check(self) -> None:
        """Refuse an exposed server without credentials, and half-set user/password."""
        if bool(self.user) != bool(self.password):
            raise ConfigError("set both ASSISTANT_USER and ASSISTANT_PASSWORD (or neither)")
        if not self.loopback and not self.has_credentials:
            raise ConfigError(
                f"refusing to listen on {self.host} without authentication: set ASSISTANT_TOKEN "
                "(bearer token) or ASSISTANT_USER and ASSISTANT_PASSWORD, or bind 127.0.0.1")

    def login_ok(self, username: str, password: str) -> bool:
        """UI login (and HTTP Basic): user/password, or any user name with the token as password."""
        ok = False
        if self.user and self.password:
            ok = _same(username, self.user) and _same(password, self.password)
        if self.token:
            ok = ok or _same(password, self.token)
        return ok

    def header_ok(self, authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer" and self.token:
            return _same(value, self.token)
        if scheme.lower() == "basic":
            try:
                username, _, password = b64decode(value, validate=True).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return False
            return self.login_ok(username, password)
        return False


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


# ---- request / response models ------------------------------------------------------------
class HistoryTurn(BaseModel):
    """An earlier turn: its question and, ideally, the answer JSON the API returned for it."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: dict[str, Any] | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "学生资助由哪个科室牵头？"},
                     {"question": "那它的责任科室呢？", "history": ["学生资助由哪个科室牵头？"]},
                     {"question": "要新增多少学位？", "plan": "shaodong-2020"}]})
    question: str = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="the question (≤ 500 characters)")
    plan: str | None = Field(None, max_length=100, description="only this plan id (see GET /api/plans)")
    history: list[str | HistoryTurn] = Field(default_factory=list, max_length=MAX_HISTORY_TURNS,
                                             description="earlier turns, oldest first")


class Citation(BaseModel):
    model_config = ConfigDict(extra="allow")
    plan: str
    plan_id: str
    item: str | None
    section: list[str]
    title: str
    lead_units: list[str]
    responsible_units: list[str]
    quote: str
    id: str


class Retrieved(BaseModel):
    model_config = ConfigDict(extra="allow")
    plan: str
    plan_id: str
    item: str | None
    score: float


class AskResponse(BaseModel):
    """The answer contract: text with inline 〔计划·第N项〕 markers, and what each marker cites."""

    model_config = ConfigDict(extra="allow")
    question: str
    answer: str
    supported: bool
    kind: str
    citations: list[Citation]
    retrieved: list[Retrieved]
    timings_ms: dict[str, float]


class PlanOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    issuer: str
    year: int | None
    item_count: int
    record_count: int
    sections: list[str]


class ItemOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    plan: str
    plan_id: str
    item: str | None
    kind: str
    title: str
    section: list[str]
    text: str
    lead_units: list[str]
    responsible_units: list[str]


class ErrorOut(BaseModel):
    error: str
    detail: Any = None


# ---- body size limit ----------------------------------------------------------------------
class BodySizeLimit:
    """ASGI middleware: a request body over `max_bytes` on an /api/ path gets 413 before any handler."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, prefix: str = API_PREFIX):
        self.app, self.max_bytes, self.prefix = app, max_bytes, prefix

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await self._reject(send)
        # Read the (possibly chunked) body up to the limit, then replay it to the app.
        chunks, size = [], 0
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

    async def _reject(self, send):
        body = json.dumps({"error": f"request body too large (at most {self.max_bytes} bytes)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _replay(messages: list[dict], then=None):
    async def receive():
        if messages:
            return messages.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}
    return receive


# ---- the app ------------------------------------------------------------------------------
def create_app(assistant, settings: Settings | None = None, ui: bool = True) -> FastAPI:
    """The REST API over an Assistant, with the Gradio UI mounted at `/` unless `ui` is False."""
    settings = settings or Settings()
    settings.check()

    def require_auth(request: Request) -> None:
        if settings.auth_required and not settings.header_ok(request.headers.get("authorization")):
            raise HTTPException(401, "authentication required: Authorization: Bearer <token> or HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="assistant", Bearer'})

    app = FastAPI(title="工作要点问答助手 API", version=_version(), docs_url=None, redoc_url=None,
                  openapi_url=None, description=__doc__.split("\n\n")[0])
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    app.state.assistant = assistant
    app.state.settings = settings
    guarded = [Depends(require_auth)]

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        detail = [{"loc": list(e.get("loc", [])), "msg": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        first = detail[0] if detail else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse({"error": f"invalid request: {where + ': ' if where else ''}{first['msg']}",
                             "detail": detail}, status_code=422)

    @app.exception_handler(QuestionError)
    async def bad_question(request: Request, exc: QuestionError):
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(IndexUnavailable)
    async def no_index(request: Request, exc: IndexUnavailable):
        return JSONResponse({"error": str(exc)}, status_code=503)

    errors = {400: {"model": ErrorOut}, 401: {"model": ErrorOut}, 413: {"model": ErrorOut}, 422: {"model": ErrorOut}}

    @app.post("/api/ask", response_model=AskResponse, dependencies=guarded, responses=errors, tags=["answers"])
    def ask(body: AskRequest) -> dict:
        """Answer a question from the plans, with inline citations 〔计划·第N项〕 and their records."""
        history = [t if isinstance(t, str) else t.model_dump() for t in body.history]
        return assistant.ask(body.question, history=history, plan=body.plan or None).to_dict()

    @app.get("/api/plans", response_model=list[PlanOut], dependencies=guarded, tags=["plans"])
    def plans() -> list[dict]:
        """The indexed plans (id, title, issuer, year, item count, sections)."""
        return [plan_json(p) for p in assistant.plans()]

    @app.get("/api/plans/{plan_id}/items", response_model=list[ItemOut], dependencies=guarded, tags=["plans"],
             responses={404: {"model": ErrorOut}})
    def plan_items(plan_id: str) -> list[dict]:
        """Every record of one plan, in order (numbered items and unnumbered text)."""
        plan = next((p for p in assistant.plans() if p.id == plan_id), None)
        if plan is None:
            raise HTTPException(404, f"no plan with id '{plan_id}'")
        return [item_json(plan, i) for i in plan.items]

    @app.get("/api/items/{item_id}", response_model=ItemOut, dependencies=guarded, tags=["plans"],
             responses={404: {"model": ErrorOut}})
    def item(item_id: str) -> dict:
        """One record by id, e.g. `dazhou-2020:17` (numbered) or `hengyang-2022:p20` (unnumbered)."""
        found = assistant.item(item_id)
        if found is None:
            raise HTTPException(404, f"no item with id '{item_id}'")
        return item_json(*found)

    @app.get("/healthz", tags=["ops"])
    def healthz() -> dict:
        """Liveness: the loaded index build and plan count. Open even when auth is on."""
        plans = assistant.plans()
        retriever = getattr(assistant, "retriever", None)
        build = getattr(getattr(retriever, "manifest", None), "build_id", None)
        return {"status": "ok", "plans": len(plans), "build": build}

    _add_docs(app, guarded)
    if ui:
        from .web import mount_ui

        mount_ui(app, assistant, settings)
    return app


def _add_docs(app: FastAPI, guarded: list) -> None:
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


def _plain_docs(schema: dict) -> str:
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
