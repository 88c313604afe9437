"""Hybrid retrieval over the item index: exact look-ups, BM25 and dense vectors fused by RRF."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .models import Item, Plan
from .scope import Scope, resolve_scope
from .store import IndexStore, Manifest

RRF_K = 60
# Weights chosen on the dev gold set: `eval/bench.py --weights` (0.5:1 gave the best hit@1 and MRR).
DENSE_WEIGHT = 0.5
BM25_WEIGHT = 1.0
DENSE_CANDIDATES = 60
RECENT_QUERIES = 16  # query vectors kept (texts of the questions being answered now)


@dataclass
class Hit:
    """A ranked record with the signals that found it."""

    plan: Plan
    item: Item
    score: float
    signals: dict[str, Any] = field(default_factory=dict)  # {"dense": {"rank", "score"}, "bm25": {...}, "exact": "..."}

    @property
    def dense_score(self) -> float:
        return float(self.signals.get("dense", {}).get("score", 0.0))

    @property
    def bm25_score(self) -> float:
        return float(self.signals.get("bm25", {}).get("score", 0.0))

    def to_dict(self) -> dict[str, Any]:
        return {"plan": self.plan.title, "plan_id": self.plan.id, "item": self.item.number,
                "id": self.item.id, "title": self.item.title, "score": round(self.score, 6),
                "signals": self.signals}


@dataclass
class Filters:
    """Metadata filters: any that is set must hold."""

    plan_ids: list[str] | None = None
    year: int | None = None
    issuer: str | None = None
    section: str | None = None  # substring of the section path
    lead_unit: str | None = None

    def allows(self, plan: Plan, item: Item) -> bool:
        if self.plan_ids is not None and plan.id not in self.plan_ids:
            return False
        if self.year is not None and plan.year != self.year:
            return False
        if self.issuer and self.issuer not in (plan.issuer, *plan.co_issuers):
            return False
        if self.section and not any(self.section in s for s in item.section):
            return False
        if self.lead_unit and self.lead_unit not in item.lead_units:
            return False
        return True

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.plan_ids is not None:
            clauses.append({"plan_id": {"$in": list(self.plan_ids) or ["-"]}})
        if self.year is not None:
            clauses.append({"year": self.year})
        if self.issuer:
            clauses.append({"issuer": self.issuer})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class Retriever:
    """Read side of the index: records, BM25, the Chroma collection and the query embedder.

    Reloads by itself when a new build becomes current.
    """

    def __init__(self, store: IndexStore, embedder: Any = None) -> None:
        from .embeddings import get_embedder

        self.store = store
        self.embedder = embedder or get_embedder()
        self._lock = threading.Lock()
        self._recent_queries: dict[str, list[float]] = {}
        self._loaded_build: str | None = None
        self._pointer_mtime = 0.0
        self.refresh()

    # ---- loading ---------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        pointer = self.store.root / "CURRENT.json"
        mtime = pointer.stat().st_mtime if pointer.exists() else 0.0
        if not force and self._loaded_build and mtime == self._pointer_mtime:
            return
        with self._lock:
            manifest = self.store.require()
            if not force and manifest.build_id == self._loaded_build:
                self._pointer_mtime = mtime
                return
            embedder_name = getattr(self.embedder, "name", type(self.embedder).__name__)
            if manifest.embedder != embedder_name:
                from .store import IndexUnavailable

                raise IndexUnavailable(
                    f"index was built with {manifest.embedder} but the embedder is {embedder_name}: "
                    "run `python -m assistant index` to rebuild")
            self.manifest: Manifest = manifest
            self.plans: list[Plan] = self.store.read_plans(manifest)
            self.keyword = self.store.keyword_index(manifest)
            self.collection = self.store.collection(manifest)
            # A build's collection never changes after the build: count it once, not per question.
            self.vector_count: int = self.collection.count()
            self.records: dict[str, tuple[Plan, Item]] = {i.id: (p, i) for p in self.plans for i in p.items}
            self._loaded_build = manifest.build_id
            self._pointer_mtime = mtime

    def plan(self, plan_id: str) -> Plan | None:
        return next((p for p in self.plans if p.id == plan_id), None)

    def scope(self, question: str, plan: str | None = None) -> Scope:
        return resolve_scope(question, self.plans, default_plan=plan)

    # ---- signals ---------------------------------------------------------------------------
    def dense(self, question: str, filters: Filters, n: int = DENSE_CANDIDATES) -> dict[str, float]:
        """Best chunk similarity per record id (cosine, 1 = identical)."""
        vector = self._query_vector(question)
        count = self.vector_count
        if count == 0:
            return {}
        result = self.collection.query(query_embeddings=[vector], n_results=min(n, count),
                                       where=filters.chroma_where(), include=["metadatas", "distances"])
        best: dict[str, float] = {}
        for meta, dist in zip(result["metadatas"][0], result["distances"][0]):
            rid = meta["item_id"]
            sim = 1.0 - float(dist)
            if sim > best.get(rid, -1.0):
                best[rid] = sim
        return best

    def _query_vector(self, question: str) -> list[float]:
        """The query's embedding, remembered for the last few texts.

        One answer may search once per plan with the same text (comparisons, mentions): at 10k items
        that re-embedded one question 300 times. A vector depends only on its text and the embedder.
        """
        with self._lock:
            vector = self._recent_queries.get(question)
        if vector is None:
            vector = list(self.embedder.embed_query(question))
            with self._lock:
                self._recent_queries[question] = vector
                while len(self._recent_queries) > RECENT_QUERIES:
                    del self._recent_queries[next(iter(self._recent_queries))]
        return vector

    def bm25(self, question: str) -> dict[str, float]:
        return self.keyword.scores(question)

    # ---- search ----------------------------------------------------------------------------
    def search(self, question: str, plan: str | None = None, k: int = 10, filters: Filters | None = None,
               mode: str = "hybrid", scope: Scope | None = None) -> list[Hit]:
        """Ranked records for a question. `mode`: hybrid (default), bm25 or dense.

        The plan named in the question (or `plan`) becomes a filter; an item number named in the
        question ("第17项") is looked up exactly and ranked first.
        """
        self.refresh()
        scope = scope or self.scope(question, plan)
        filters = filters or Filters()
        if filters.plan_ids is None and scope.plan_ids is not None:
            filters.plan_ids = scope.plan_ids
        if filters.plan_ids == []:
            return []
        hits: dict[str, Hit] = {}
        if mode == "hybrid" and scope.item_number:
            for p in self.plans:
                item = p.item(scope.item_number)
                if item is not None and filters.allows(p, item):
                    hits[item.id] = Hit(p, item, 1.0, {"exact": f"第{scope.item_number}项"})
        elif mode == "hybrid" and scope.section_number and filters.plan_ids:
            # "第三部分": the items of that section of the named plan, in order.
            for p in self.plans:
                if p.id in filters.plan_ids and scope.section_number <= len(p.sections):
                    heading = p.sections[scope.section_number - 1]
                    for item in p.numbered_items:
                        if item.section and item.section[0] == heading and filters.allows(p, item):
                            hits[item.id] = Hit(p, item, 1.0, {"exact": f"第{scope.section_number}部分"})
        dense = self.dense(question, filters) if mode in ("hybrid", "dense") else {}
        lexical = self.bm25(question) if mode in ("hybrid", "bm25") else {}
        ranked_dense = _ranks(dense, self.records, filters)
        ranked_bm25 = _ranks(lexical, self.records, filters)
        fused: dict[str, float] = {}
        for rid, (rank, _score) in ranked_dense.items():
            fused[rid] = fused.get(rid, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
        for rid, (rank, _score) in ranked_bm25.items():
            fused[rid] = fused.get(rid, 0.0) + BM25_WEIGHT / (RRF_K + rank)
        if mode == "dense":
            fused = {rid: s for rid, (_, s) in ranked_dense.items()}
        elif mode == "bm25":
            fused = {rid: s for rid, (_, s) in ranked_bm25.items()}
        for rid, score in fused.items():
            p, item = self.records[rid]
            hit = hits.get(rid) or Hit(p, item, 0.0, {})
            if "exact" not in hit.signals:
                hit.score = score
            if rid in ranked_dense:
                hit.signals["dense"] = {"rank": ranked_dense[rid][0], "score": round(ranked_dense[rid][1], 4)}
            if rid in ranked_bm25:
                hit.signals["bm25"] = {"rank": ranked_bm25[rid][0], "score": round(ranked_bm25[rid][1], 4)}
            hits[rid] = hit
        ordered = sorted(hits.values(), key=lambda h: ("exact" not in h.signals, -h.score, h.item.seq))
        return ordered[:k]

    def as_langchain_retriever(self, k: int = 5, mode: str = "hybrid") -> Any:
        """This index as a LangChain BaseRetriever (assistant.langchain_adapters.ItemRetriever)."""
        from .langchain_adapters import ItemRetriever

        return ItemRetriever(index=self, k=k, mode=mode)


def _ranks(scores: dict[str, float], records: dict[str, tuple[Plan, Item]], filters: Filters) -> dict[str, tuple[int, float]]:
    allowed = [(rid, s) for rid, s in scores.items() if rid in records and filters.allows(*records[rid])]
    allowed.sort(key=lambda x: -x[1])
    return {rid: (rank, s) for rank, (rid, s) in enumerate(allowed, start=1)}


def open_retriever(index_dir: Path | str | None = None, chroma_url: str | None = None,
                   embedder: Any = None) -> Retriever:
    """A Retriever over the current build of an index folder."""
    return Retriever(IndexStore(index_dir, chroma_url=chroma_url), embedder=embedder)
