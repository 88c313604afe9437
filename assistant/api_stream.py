"""`POST /api/ask/stream`: the answer as server-sent events, for the web chat and any client.

    event: draft   data: {"text": "…"}          the model's raw text as it is written (generative mode only)
    event: final   data: {answer contract, "stream_id": "…"}   the verified answer; it replaces the drafts
    event: error   data: {"error": "…"}         the answer could not be finished (the client may ask again)

In extractive mode the stream is just the `final` event, so a client has one code path. Drafts are
unverified: a sentence that fails verification is absent from `final` (`generation.removed` lists it).
The request is guarded like `POST /api/ask` (header auth, the /api/ body limit, heavy requests on the
heavy lane); bad input is a 4xx JSON error before the stream starts. When the client disconnects
(the chat's stop button) the generation stops at the model's next chunk and its stream is closed.

`/v1/chat/completions` streams through the same `AnswerStream` (its `verified` events).
"""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from .schemas import AskRequest, ErrorOut

DRAFT, VERIFIED, FINAL, ERROR = "draft", "verified", "final", "error"
_STARTED, _RAISED, _CANCELLED = "started", "raised", "cancelled"
FINISHED_TTL_S = 600.0  # how long the web chat may take to claim a streamed answer
FINISHED_MAX = 256  # streamed answers kept for claiming at once (oldest dropped first)

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}  # no proxy may buffer the drafts
Runner = Callable[[Callable[[], None]], Awaitable[Any]]  # runs work on a thread: the heavy lane or the pool


@dataclass
class StreamStats:
    """What the streams of one app did (read by tests and ops): running now, finished, stopped by clients."""

    active: int = 0
    completed: int = 0
    cancelled: int = 0
    last_chunks: int = 0  # model chunks the last generation read before it ended
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def change(self, **delta: int) -> None:
        """Add `delta` to the named counters (thread-safe)."""
        with self.lock:
            for name, value in delta.items():
                setattr(self, name, getattr(self, name) + value)


class FinishedAnswers:
    """Streamed answers by stream id, so the web chat can file the answer it has shown without asking again.

    An id is 128 random bits, known only to the client that streamed it; it is claimed once."""

    def __init__(self, ttl: float = FINISHED_TTL_S, limit: int = FINISHED_MAX):
        self.ttl, self.limit = ttl, limit
        self._items: OrderedDict[str, tuple[float, str, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, question: str, answer: dict[str, Any]) -> str:
        """Keep `answer` to `question`; returns its stream id."""
        sid = secrets.token_urlsafe(16)
        now = time.monotonic()
        with self._lock:
            self._items[sid] = (now, question, answer)
            while len(self._items) > self.limit or (self._items and next(iter(self._items.values()))[0] < now - self.ttl):
                self._items.popitem(last=False)
        return sid

    def take(self, sid: str, question: str) -> dict[str, Any] | None:
        """The answer streamed under `sid` for this very question (once), else None."""
        with self._lock:
            found = self._items.pop(sid, None)
        if found is None or found[1] != question or found[0] < time.monotonic() - self.ttl:
            return None
        return found[2]


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class AnswerStream:
    """One answer produced on a worker thread; iterate for (kind, payload) events ending in FINAL or ERROR.

    `open()` returns once the answer has begun (a generative answer's evidence chosen, or an extractive
    answer done), so a bad question raises there, before any response is sent."""

    def __init__(self, assistant: Any, question: str, history: list[Any], plan: str | None, stats: StreamStats):
        self.assistant, self.question, self.history, self.plan = assistant, question, history, plan
        self.stats = stats
        self.stop = threading.Event()
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._first: tuple[str, Any] | None = None
        self._task: asyncio.Future[Any] | None = None

    async def open(self, runner: Runner) -> AnswerStream:
        """Start the work through `runner`; raises what beginning the answer raised (QuestionError, Busy…)."""
        self._task = asyncio.ensure_future(runner(self._work))
        getter = asyncio.ensure_future(self._queue.get())
        await asyncio.wait({self._task, getter}, return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():  # the runner refused (Busy) or failed before the work began
            getter.cancel()
            self._task.result()
            raise RuntimeError("the answer stream ended before it began")
        kind, payload = getter.result()
        if kind == _RAISED:
            raise payload
        self._first = (kind, payload)
        return self

    async def events(self) -> AsyncIterator[tuple[str, Any]]:
        """The events after `open()`; leaving early (a disconnected client) stops the generation."""
        try:
            item = self._first
            while item is not None:
                kind, payload = item
                if kind != _STARTED:
                    yield kind, payload
                if kind in (FINAL, ERROR, _CANCELLED):
                    return
                item = await self._queue.get()
        finally:
            self.stop.set()

    def _put(self, kind: str, payload: Any = None) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, (kind, payload))
        except RuntimeError:  # the event loop is gone (server shutting down): nobody is listening
            self.stop.set()

    def _work(self) -> None:
        """On the worker thread: begin, stream drafts and verified pieces, then the final answer."""
        self.stats.change(active=1)
        chunks = 0
        try:
            begin = getattr(self.assistant, "begin", None)
            try:
                if begin is None:  # extractive: the whole answer at once
                    self._put(FINAL, self.assistant.ask(self.question, history=self.history, plan=self.plan).to_dict())
                    self.stats.change(completed=1)
                    return
                generation = begin(self.question, self.history, self.plan)
            except Exception as exc:  # noqa: BLE001 — handed to the request, which answers 4xx/503 as /api/ask does
                self._put(_RAISED, exc)
                return
            self._put(_STARTED)
            generation.stop = self.stop
            generation.on_draft = lambda text: self._put(DRAFT, text)
            for piece in generation:
                self._put(VERIFIED, piece)
            chunks = generation.chunks
            if generation.cancelled or generation.answer is None:
                self.stats.change(cancelled=1)
                self._put(_CANCELLED)
                return
            self._put(FINAL, generation.answer.to_dict())
            self.stats.change(completed=1)
        except Exception:  # noqa: BLE001 — the stream has begun: say so in-band, never a half-open stream
            self._put(ERROR, {"error": "internal error: the answer could not be finished"})
        finally:
            with self.stats.lock:
                self.stats.active -= 1
                self.stats.last_chunks = chunks


async def ask_events(stream: AnswerStream, finished: FinishedAnswers) -> AsyncIterator[str]:
    """The /api/ask/stream body: draft events, then the final answer with its stream id (or an error)."""
    async for kind, payload in stream.events():
        if kind == DRAFT:
            yield sse(DRAFT, {"text": payload})
        elif kind == FINAL:
            yield sse(FINAL, {**payload, "stream_id": finished.put(stream.question, payload)})
        elif kind == ERROR:
            yield sse(ERROR, payload)


def stream_router(assistant: Any, guarded: list[Any], lane_run: Runner, stats: StreamStats,
                  finished: FinishedAnswers) -> APIRouter:
    """`POST /api/ask/stream`, with `POST /api/ask`'s guards (`guarded`: header auth) and heavy lane."""
    from .api import _is_heavy  # here, not at import: api.py includes this router

    router = APIRouter(tags=["answers"])
    errors: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 413, 422, 503)}
    errors[200] = {"content": {"text/event-stream": {}},
                   "description": "`draft` events (generative mode), then one `final` event with the answer contract "
                                  "and `stream_id`, or an `error` event"}

    @router.post("/api/ask/stream", dependencies=guarded, responses=errors, response_class=StreamingResponse)
    async def ask_stream(body: AskRequest) -> StreamingResponse:
        """Answer like `POST /api/ask`, as server-sent events: the model's drafts as written, then the verified answer."""
        stream = AnswerStream(assistant, body.question, body.history_for_engine(), body.plan or None, stats)
        await stream.open(lane_run if _is_heavy(body) else run_in_threadpool)
        return StreamingResponse(ask_events(stream, finished), media_type="text/event-stream", headers=SSE_HEADERS)

    return router
