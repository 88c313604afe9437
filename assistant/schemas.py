"""Request and response models of the REST API.

Every field of a request, nested ones included, has a type and a bound: an earlier turn's answer
is echoed back by clients and reaches the engine, so its `context` and `citations` are checked as
strictly as the question (ids by pattern, so nothing odd ever reaches a Chroma filter). Text
with a lone surrogate (`"\\ud800"`) cannot be encoded and is refused anywhere.
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from .service import MAX_QUESTION_CHARS

# Bounds the work one request can cause: each plain-string turn is answered again to learn what it
# was about, so turns × question length is the CPU a body can ask for (the engine reads fewer still).
MAX_HISTORY_TURNS = 8
MAX_TEXT_CHARS = 8000  # answer text, quotes, titles echoed back in a turn
MAX_LIST_ITEMS = 100  # citations, sections, units … in one echoed answer
MAX_ID_CHARS = 120
MAX_PLAN_ID_CHARS = 100
PLAN_ID_PATTERN = r"^[A-Za-z0-9_.-]+$"
ITEM_ID_PATTERN = r"^[A-Za-z0-9_.:-]+$"


def _no_surrogates(value: str) -> str:
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError("text contains a lone surrogate (not valid Unicode)")
    return value


Text = Annotated[str, AfterValidator(_no_surrogates)]
ShortText = Annotated[Text, Field(max_length=MAX_QUESTION_CHARS)]
LongText = Annotated[Text, Field(max_length=MAX_TEXT_CHARS)]
PlanId = Annotated[str, Field(max_length=MAX_PLAN_ID_CHARS, pattern=PLAN_ID_PATTERN)]
ItemId = Annotated[str, Field(max_length=MAX_ID_CHARS, pattern=ITEM_ID_PATTERN)]
Names = Annotated[list[ShortText], Field(max_length=MAX_LIST_ITEMS)]


class TurnContext(BaseModel):
    """What an earlier answer was about; keys the engine adds later are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")
    plan_id: PlanId | None = None
    item_id: ItemId | None = None
    section: ShortText | None = None
    unit: ShortText | None = None
    topic: Names | None = None
    inherited: Names = Field(default_factory=list)


class TurnCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    plan: ShortText | None = None
    plan_id: PlanId | None = None
    item: Annotated[Text, Field(max_length=MAX_ID_CHARS)] | None = None
    section: Names = Field(default_factory=list)
    title: LongText | None = None
    lead_units: Names = Field(default_factory=list)
    responsible_units: Names = Field(default_factory=list)
    quote: LongText | None = None
    id: ItemId | None = None


class AnswerTurn(BaseModel):
    """The JSON /api/ask returned for an earlier turn (extra fields such as `retrieved` are ignored)."""

    model_config = ConfigDict(extra="ignore")
    answer: LongText = ""
    supported: bool | None = None
    kind: Annotated[Text, Field(max_length=40)] | None = None
    citations: Annotated[list[TurnCitation], Field(max_length=MAX_LIST_ITEMS)] = Field(default_factory=list)
    context: TurnContext | None = None


class HistoryTurn(BaseModel):
    """An earlier turn: its question and, ideally, the answer JSON the API returned for it."""

    model_config = ConfigDict(extra="forbid")
    question: ShortText
    answer: AnswerTurn | None = None


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "学生资助由哪个科室牵头？"},
                     {"question": "那它的责任科室呢？", "history": ["学生资助由哪个科室牵头？"]},
                     {"question": "要新增多少学位？", "plan": "shaodong-2020"}]})
    question: Text = Field(min_length=1, max_length=MAX_QUESTION_CHARS, description="the question (≤ 500 characters)")
    plan: Text | None = Field(None, max_length=MAX_PLAN_ID_CHARS, description="only this plan id (see GET /api/plans)")
    history: list[ShortText | HistoryTurn] = Field(
        default_factory=list, max_length=MAX_HISTORY_TURNS,
        description=f"earlier turns, oldest first (at most {MAX_HISTORY_TURNS}, each question ≤ 500 characters)")

    def history_for_engine(self) -> list[Any]:
        """Turns as the engine takes them: strings, or dicts holding only what the client sent."""
        return [t if isinstance(t, str) else t.model_dump(exclude_unset=True) for t in self.history]


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
