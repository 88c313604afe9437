"""The answer contract shared by the engine, the facade, the API, the CLI and the evaluation.

`Answer` and `Citation` are what every surface returns; `verify_citations` checks an answer against
the records before it leaves (a failed check is a bug, never shown as fact).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from ..models import Item, Plan


class Kind(str, Enum):
    """What an answer is (the `kind` field of the JSON contract)."""

    ITEM = "item"
    SECTION = "section"
    UNIT_ROLE = "unit_role"
    ENUMERATE = "enumerate"
    COUNT = "count"
    FACT = "fact"
    SUMMARY = "summary"
    CROSS_PLAN = "cross_plan"
    COMPARE = "compare"
    EXISTS = "exists"
    DEADLINE = "deadline"
    OBLIGATION = "obligation"
    CLARIFY = "clarify"
    MULTI = "multi"
    OUT_OF_SCOPE = "out_of_scope"


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
    retrieved: list[dict[str, Any]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)  # plan_id / item_id a follow-up question may reuse

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return data


def marker(plan: Plan, item: Item) -> str:
    """Inline citation, e.g. 〔达州市教育局2020年工作要点·第23项〕."""
    from ..chunks import item_label

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
    for c in answer.citations:
        # the plan of a notice header citation; looked for only then (a pass over every record)
        header_plan = next((p for p, _ in records.values() if p.id == c.plan_id), None) \
            if c.id.endswith(HEADER_SUFFIX) else None
        if header_plan is not None:
            plan = header_plan
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
    for found in MARKER_RE.finditer(answer.answer):
        if found.group(0) not in cited_markers:
            raise CitationError(f"answer marks {found.group(0)} without citing it")
