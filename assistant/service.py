"""The assistant facade used by the CLI, the REST API and the web UI alike."""
from __future__ import annotations

import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .models import Item, Plan

MAX_QUESTION_CHARS = 500


class QuestionError(ValueError):
    """A question that cannot be asked: empty, too long, or not text."""


@dataclass
class Citation:
    plan: str
    plan_id: str
    item: str | None
    section: list[str]
    title: str
    lead_units: list[str]
    responsible_units: list[str]
    quote: str
    id: str

    @classmethod
    def of(cls, plan: Plan, item: Item, quote: str) -> "Citation":
        return cls(plan=plan.title, plan_id=plan.id, item=item.number, section=list(item.section), title=item.title,
                   lead_units=list(item.lead_units), responsible_units=list(item.responsible_units),
                   quote=quote, id=item.id)


@dataclass
class Answer:
    """A grounded answer: text with inline citations, the citations, and what it was chosen from."""

    question: str
    answer: str
    supported: bool
    kind: str
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[dict] = field(default_factory=list)
    timings_ms: dict = field(default_factory=dict)
    context: dict = field(default_factory=dict)  # plan_id / item_id a follow-up question may reuse

    def to_dict(self) -> dict:
        data = asdict(self)
        return data


def marker(plan: Plan, item: Item) -> str:
    """Inline citation, e.g. 〔达州市教育局2020年工作要点·第23项〕."""
    from .chunks import item_label

    return f"〔{plan.title}·{item_label(item)}〕"


HEADER_SUFFIX = ":header"
HEADER_LABEL = "印发通知"


def header_citation(plan: Plan, quote: str) -> Citation:
    """A citation of the notice printed before the title (document number, date, recipients)."""
    return Citation(plan=plan.title, plan_id=plan.id, item=None, section=[], title=HEADER_LABEL,
                    lead_units=[], responsible_units=[], quote=quote, id=plan.id + HEADER_SUFFIX)


MARKER_RE = re.compile(r"〔([^〔〕·]+)·([^〔〕]+)〕")


class CitationError(RuntimeError):
    """An answer cited something the index does not hold or did not use (a bug, never shown as fact)."""


def verify_citations(answer: Answer, records: dict[str, tuple[Plan, Item]]) -> None:
    """Every citation exists in the index and is marked in the text; every marker is a citation."""
    cited_markers = set()
    plans = {p.id: p for p, _ in records.values()}
    for c in answer.citations:
        if c.id.endswith(HEADER_SUFFIX) and c.plan_id in plans:
            plan = plans[c.plan_id]
            if c.id != plan.id + HEADER_SUFFIX or c.item is not None:
                raise CitationError(f"citation {c.id} does not match its plan")
            m = f"〔{plan.title}·{HEADER_LABEL}〕"
            if m not in answer.answer:
                raise CitationError(f"citation {c.id} is not marked in the answer text")
            if any(piece not in plan.header for piece in c.quote.split("……") if piece):
                raise CitationError(f"quote of {c.id} is not from the notice header")
            cited_markers.add(m)
            continue
        if c.id not in records:
            raise CitationError(f"citation of unknown record {c.id}")
        plan, item = records[c.id]
        if (plan.id, item.number) != (c.plan_id, c.item):
            raise CitationError(f"citation {c.id} does not match its record")
        m = marker(plan, item)
        if m not in answer.answer:
            raise CitationError(f"citation {c.id} is not marked in the answer text")
        flat = item.text.replace("\n", "")
        for piece in (p for p in c.quote.split("……") if p):
            if piece not in item.text and piece not in flat:
                raise CitationError(f"quote of {c.id} is not from the item")
        cited_markers.add(m)
    for m in MARKER_RE.finditer(answer.answer):
        if m.group(0) not in cited_markers:
            raise CitationError(f"answer marks {m.group(0)} without citing it")


class Assistant:
    """Answers questions over the indexed plans; one instance serves many questions (warm)."""

    def __init__(self, retriever):
        from .answer import Engine

        self.retriever = retriever
        self.engine = Engine(retriever)

    @classmethod
    def open(cls, index_dir: Path | str | None = None, corpus_dir: Path | str | None = None,
             chroma_url: str | None = None, embedder=None, build: bool = False, progress: bool = False) -> "Assistant":
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
        return cls(Retriever(store, embedder=embedder))

    def plans(self) -> list[Plan]:
        self.retriever.refresh()
        return list(self.retriever.plans)

    def item(self, item_id: str) -> tuple[Plan, Item] | None:
        self.retriever.refresh()
        return self.retriever.records.get(item_id)

    def ask(self, question: str, history: list | None = None, plan: str | None = None) -> Answer:
        """Answer one question; `history` holds earlier turns (question strings or answer dicts)."""
        started = time.perf_counter()
        if not isinstance(question, str):
            raise QuestionError("question must be text")
        question = re.sub(r"\s+", " ", question.replace("\x00", "")).strip()
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

    def _context(self, history: list) -> dict:
        """Plan and item of the latest earlier turn that had them (answering plain question strings anew)."""
        context: dict = {}
        for turn in history[-4:]:
            if isinstance(turn, str):
                turn = {"question": turn}
            if not isinstance(turn, dict) or not isinstance(turn.get("question", ""), str):
                continue
            answer = turn.get("answer")
            if not isinstance(answer, dict):
                q = turn.get("question", "").strip()
                if not q or len(q) > MAX_QUESTION_CHARS:
                    continue
                answer = self.engine.answer(q, plan=None, context=context).to_dict()
            ctx = answer.get("context") or {}
            if not ctx:
                cites = answer.get("citations") or []
                plans = {c.get("plan_id") for c in cites}
                ctx = {"plan_id": next(iter(plans)) if len(plans) == 1 else None,
                       "item_id": cites[0].get("id") if len(cites) == 1 else None}
            context = {"plan_id": ctx.get("plan_id") or context.get("plan_id"),
                       "item_id": ctx.get("item_id"),
                       "question": turn.get("question", ""),
                       "kind": answer.get("kind")}
        return context
