"""LangChain integration: the item index as a `BaseRetriever`, the assistant as a `Runnable`.

    from assistant.langchain_adapters import ItemRetriever, AssistantRunnable

    retriever = ItemRetriever.from_index("index", k=4)            # Documents, one per plan record
    docs = retriever.invoke("学生资助由哪个科室牵头？")
    docs[0].metadata["id"], docs[0].metadata["lead_units"]        # 'dazhou-2020:21', ['市后勤与资助中心']

    chain = AssistantRunnable.from_index("index") | (lambda a: a["answer"])
    chain.invoke("学生资助由哪个科室牵头？")                        # the answer text with 〔…〕 markers

Both wrap the same objects the API serves from (`Retriever`, `Assistant`), so what a LangChain
pipeline retrieves or answers is exactly what the REST API would.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field

from .chunks import item_label
from .engine.contract import marker
from .models import Item, Plan

MAX_K = 100


def item_document(plan: Plan, item: Item, score: float | None = None) -> Document:
    """One record as a LangChain Document: its full text, and where it stands in which plan."""
    metadata: dict[str, Any] = {
        "id": item.id, "plan_id": plan.id, "plan": plan.title, "year": plan.year, "issuer": plan.issuer,
        "item": item.number, "label": item_label(item), "kind": item.kind, "title": item.title,
        "section": list(item.section), "lead_units": list(item.lead_units),
        "responsible_units": list(item.responsible_units),
        "citation": marker(plan, item),  # the inline marker an answer citing this record carries
    }
    if score is not None:
        metadata["score"] = round(score, 6)
    return Document(id=item.id, page_content=item.text, metadata=metadata)


class ItemRetriever(BaseRetriever):
    """The hybrid item index (exact look-ups, BM25 and e5 fused) as a LangChain retriever.

    `k` documents at most, best first; `plan` limits the search to one plan id. Both can also be
    given per call: `retriever.invoke(query, k=3, plan="dazhou-2020")`.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    index: Any = Field(description="an assistant.retrieval.Retriever (or an Assistant, whose retriever is used)")
    k: int = Field(default=4, ge=1, le=MAX_K)
    plan: str | None = None
    mode: Literal["hybrid", "bm25", "dense"] = "hybrid"

    @classmethod
    def from_index(cls, index_dir: Path | str | None = None, **kwargs: Any) -> ItemRetriever:
        """Open a built index folder (default: ./index) and wrap it."""
        from .retrieval import open_retriever

        return cls(index=open_retriever(index_dir), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                k: int | None = None, plan: str | None = None) -> list[Document]:
        retriever = getattr(self.index, "retriever", self.index)  # an Assistant holds its Retriever
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be non-empty text")
        k = self.k if k is None else k
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise ValueError(f"k must be an integer from 1 to {MAX_K}, not {k!r}")
        plan = plan or self.plan
        retriever.refresh()
        if plan is not None and retriever.plan(plan) is None:
            known = ", ".join(p.id for p in retriever.plans)
            raise ValueError(f"unknown plan id '{plan}' (the index has: {known})")
        hits = retriever.search(query, plan=plan, k=k, mode=self.mode)
        return [item_document(h.plan, h.item, h.score) for h in hits]


class AssistantRunnable(RunnableSerializable[Any, dict[str, Any]]):
    """The assistant as a Runnable: a question in, the answer contract (`POST /api/ask`'s JSON) out.

    Input is the question text, or `{"question": …, "history": [...], "plan": "dazhou-2020"}`;
    bad input raises `assistant.service.QuestionError` (a ValueError) with the reason.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)
    assistant: Any = Field(description="an assistant.service.Assistant")

    @classmethod
    def from_index(cls, index_dir: Path | str | None = None) -> AssistantRunnable:
        from .service import Assistant

        return cls(assistant=Assistant.open(index_dir))

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        answer: dict[str, Any] = self._call_with_config(self._ask, input, config, run_type="chain")
        return answer

    def _ask(self, input: Any) -> dict[str, Any]:
        from .service import QuestionError

        question: Any
        history: Any
        plan: Any
        if isinstance(input, str):
            question, history, plan = input, None, None
        elif isinstance(input, dict):
            unknown = set(input) - {"question", "history", "plan"}
            if unknown:
                raise QuestionError(f"unknown input keys: {', '.join(sorted(map(str, unknown)))} "
                                    "(expected question, history, plan)")
            question, history, plan = input.get("question"), input.get("history"), input.get("plan")
            if history is not None and not isinstance(history, list):
                raise QuestionError("history must be a list of earlier turns")
        else:
            raise QuestionError(f"input must be a question or a dict with 'question', not {type(input).__name__}")
        answer: dict[str, Any] = self.assistant.ask(question, history=history, plan=plan).to_dict()
        return answer
