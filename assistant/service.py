"""The assistant facade used by the CLI, the REST API and the web UI alike."""
from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .engine.contract import (HEADER_LABEL, HEADER_SUFFIX, MARKER_RE, Answer, Citation,  # noqa: F401
                              CitationError, Kind, header_citation, marker, verify_citations)
from .models import Item, Plan

if TYPE_CHECKING:
    from .retrieval import Retriever

MAX_QUESTION_CHARS = 500


class QuestionError(ValueError):
    """A question that cannot be asked: empty, too long, or not text."""


class Assistant:
    """Answers questions over the indexed plans; one instance serves many questions (warm)."""

    def __init__(self, retriever: Retriever) -> None:
        from .engine import Engine

        self.retriever = retriever
        self.engine = Engine(retriever)
        self.corpus_dir: Path | None = None  # the plan folder behind the index, when known (plan uploads)

    @classmethod
    def open(cls, index_dir: Path | str | None = None, corpus_dir: Path | str | None = None,
             chroma_url: str | None = None, embedder: Any = None, build: bool = False,
             progress: bool = False) -> Assistant:
        """Open the index (building or updating it first when `build` and it is missing or stale)."""
        from .embeddings import get_embedder
        from .retrieval import Retriever
        from .store import IndexStore

        store = IndexStore(index_dir, chroma_url=chroma_url)
        embedder = embedder or get_embedder()
        if build and store.is_stale(corpus_dir, getattr(embedder, "name", None)):
            log = (lambda m: print(m, file=sys.stderr)) if progress else None
            if progress:
                print(f"building the index in {store.root} …", file=sys.stderr)
            report = store.build(corpus_dir, embedder=embedder, progress=progress or None, log=log)
            if progress:
                for err in report.errors:
                    print(f"error: {err}", file=sys.stderr)
                print(f"index ready: {report.plans} plans, {report.records} records "
                      f"({report.embedded} embedded, {report.reused} reused, {report.seconds:.1f}s)", file=sys.stderr)
        assistant = cls(Retriever(store, embedder=embedder))
        from .corpus import DEFAULT_CORPUS

        # The folder plan management writes to: the one the index is built from. Opened without building
        # (tests, --no-build) and without a folder named, nothing may be added to or removed from any.
        assistant.corpus_dir = Path(corpus_dir) if corpus_dir else (DEFAULT_CORPUS if build else None)
        return assistant

    def plans(self) -> list[Plan]:
        self.retriever.refresh()
        return list(self.retriever.plans)

    def item(self, item_id: str) -> tuple[Plan, Item] | None:
        self.retriever.refresh()
        return self.retriever.records.get(item_id)

    def ask(self, question: str, history: list[Any] | None = None, plan: str | None = None) -> Answer:
        """Answer one question; `history` holds earlier turns (question strings or answer dicts)."""
        started = time.perf_counter()
        if not isinstance(question, str):
            raise QuestionError("question must be text")
        question = _clean(question)
        if not question:
            raise QuestionError("question is empty")
        if len(question) > MAX_QUESTION_CHARS:
            raise QuestionError(f"question is too long ({len(question)} characters; at most {MAX_QUESTION_CHARS})")
        self.retriever.refresh()
        if plan is not None and self.retriever.plan(plan) is None:
            raise QuestionError(f"unknown plan id '{plan}'")
        context = self._context(history or [])
        answer = self.engine.answer(question, plan=plan, context=context)
        verify_citations(answer, self.retriever.records)
        answer.timings_ms["total"] = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def _context(self, history: list[Any]) -> dict[str, Any]:
        """What the latest earlier turn was about (its answer's `context`, plus its question).

        A turn given as a plain question string is answered again to learn it; only the last
        `max_history_turns` turns are read, and anything malformed in a turn is ignored."""
        tuning = self.engine.tuning
        turns = [t for t in history if isinstance(t, (str, dict))][-tuning.max_history_turns:]
        bare = [n for n, t in enumerate(turns) if not (isinstance(t, dict) and isinstance(t.get("answer"), dict)
                                                       and isinstance(t["answer"].get("context"), dict))]
        replay = set(bare[-tuning.max_replayed_turns:])
        context: dict[str, Any] = {}
        for n, turn in enumerate(turns):
            if isinstance(turn, str):
                turn = {"question": turn}
            question = turn.get("question")
            if not isinstance(question, str) or not question.strip() or len(question) > MAX_QUESTION_CHARS:
                continue
            question = _clean(question)
            answer = turn.get("answer")
            ctx = answer.get("context") if isinstance(answer, dict) else None
            if not isinstance(ctx, dict):
                if n not in replay:
                    continue  # an older bare question: superseded by the later turns
                ctx = self.engine.answer(question, plan=None, context=context).context
            context = {k: v for k, v in _valid_context(ctx, self.retriever).items()}
            context["question"] = question
        return context


def _clean(text: str) -> str:
    """Whitespace folded, NULs and lone surrogates removed (they cannot be encoded)."""
    text = text.encode("utf-8", "ignore").decode("utf-8") if any(0xD800 <= ord(c) <= 0xDFFF for c in text) else text
    return re.sub(r"\s+", " ", text.replace("\x00", "")).strip()


def _valid_context(ctx: dict[str, Any], retriever: Retriever) -> dict[str, Any]:
    """Only context values that name what the index holds; never anything else (it reaches filters)."""
    out: dict[str, Any] = {}
    plan_id, item_id = ctx.get("plan_id"), ctx.get("item_id")
    if isinstance(plan_id, str) and retriever.plan(plan_id) is not None:
        out["plan_id"] = plan_id
    if isinstance(item_id, str) and item_id in retriever.records:
        out["item_id"] = item_id
        out.setdefault("plan_id", retriever.records[item_id][0].id)
    unit = ctx.get("unit")
    if isinstance(unit, str) and 0 < len(unit) <= 30:
        out["unit"] = unit
    topic = ctx.get("topic")
    if isinstance(topic, list):
        out["topic"] = [w for w in topic if isinstance(w, str) and 0 < len(w) <= 20][:10]
    return out
