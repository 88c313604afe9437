"""Hybrid retrieval over the item index: exact look-ups, BM25 and dense vectors fused by RRF."""
from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .keyword import KeywordIndex
from .models import Item, Plan
from .scope import Scope, resolve_scope
from .store import IndexStore, Manifest

RRF_K = 60
# Weights chosen on the dev gold set: `eval/bench.py --weights` (0.5:1 gave the best hit@1 and MRR).
DENSE_WEIGHT = 0.5
BM25_WEIGHT = 1.0
DENSE_CANDIDATES = 60
# A filtered dense search over at most this many chunks is computed here, exactly, from their vectors
# fetched by id: Chroma's metadata pre-filter costs ~1 ms per thousand vectors in the collection
# (65-95 ms of CPU at 100k items), fetching 40 vectors by id 1.5 ms. Above it, Chroma filters.
EXACT_DENSE_MAX = 2000
# Query vectors kept per process, least recently used dropped first (float32: 1.5 KB each, 1.5 MB in
# all). Embedding the question is most of an answer's CPU (≈ 20 of 35 ms on the shipped corpus), and
# people ask the same questions again (suggested questions, FAQ wording); ASSISTANT_QUERY_CACHE sets
# the size (0: embed every time, as `make load` does for its "unseen questions" row).
RECENT_QUERIES = int(os.environ.get("ASSISTANT_QUERY_CACHE", "1024"))
# Kept whatever the setting: the texts of the answers being computed now (one answer may search the
# same text once per plan; with 8 clients, 8 answers are under way).
RECENT_FLOOR = 16


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
        self._recent_queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._loaded_build: str | None = None
        self._pointer_mtime = 0.0
        self.refresh()

    # ---- loading ---------------------------------------------------------------------------
    def refresh(self, force: bool = False) -> None:
        self.store.follow_server()  # a replica following the Chroma server installs its newer build
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
            self.rows = KeywordRows(self.keyword.ids, self.records, self.plans)
            self._plan_chunks: dict[str, list[str]] = {}
            for chunk_id in manifest.chunks:  # "<plan id>:<item>#<part>" (chunks.py)
                record = self.records.get(chunk_id.rsplit("#", 1)[0])
                if record is not None:
                    self._plan_chunks.setdefault(record[0].id, []).append(chunk_id)
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
        subset = self._filtered_chunks(filters)
        if subset is not None and len(subset) <= EXACT_DENSE_MAX:
            return self._exact_dense(vector, subset, n)
        # Distances only: a chunk's id is "<item id>#<part>" (chunks.py), so the metadata (most of
        # Chroma's per-query CPU: 4 of 5.6 ms on the shipped corpus) is not needed to name its record.
        result = self.collection.query(query_embeddings=[vector], n_results=min(n, count),
                                       where=filters.chroma_where(), include=["distances"])
        best: dict[str, float] = {}
        for chunk_id, dist in zip(result["ids"][0], result["distances"][0]):
            rid = chunk_id.rsplit("#", 1)[0]
            sim = 1.0 - float(dist)
            if sim > best.get(rid, -1.0):
                best[rid] = sim
        return best

    def _filtered_chunks(self, filters: Filters) -> list[str] | None:
        """The chunk ids Chroma's `where` of these filters selects (None: no filter, all of them)."""
        if filters.chroma_where() is None:
            return None
        return [cid for p in self.plans
                if (filters.plan_ids is None or p.id in filters.plan_ids)
                and (filters.year is None or p.year == filters.year)
                and (not filters.issuer or p.issuer == filters.issuer)
                for cid in self._plan_chunks.get(p.id, ())]

    def _exact_dense(self, vector: np.ndarray, chunk_ids: list[str], n: int) -> dict[str, float]:
        """Chroma's filtered query done exactly here: the few chunks the filter allows, fetched by id
        (1.5 ms for a plan at 100k items, where Chroma's metadata pre-filter took 65-95 ms of CPU)."""
        if not chunk_ids:
            return {}
        got = self.collection.get(ids=chunk_ids, include=["embeddings"])
        matrix = np.asarray(got["embeddings"], dtype=np.float32)
        query = np.asarray(vector, dtype=np.float32)
        sims = (matrix @ query) / np.maximum(np.linalg.norm(matrix, axis=1) * np.linalg.norm(query), 1e-12)
        best: dict[str, float] = {}
        for at in np.argsort(-sims, kind="stable")[:n].tolist():
            rid = got["ids"][at].rsplit("#", 1)[0]
            sim = float(sims[at])
            if sim > best.get(rid, -1.0):
                best[rid] = sim
        return best

    def _query_vector(self, question: str) -> np.ndarray:
        """The query's embedding, remembered for the last RECENT_QUERIES texts.

        One answer may search once per plan with the same text (comparisons, mentions): at 10k items
        that re-embedded one question 300 times. A vector depends only on its text and the embedder.
        """
        with self._lock:
            vector = self._recent_queries.get(question)
            if vector is not None:
                self._recent_queries.move_to_end(question)
                return vector
        vector = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        with self._lock:
            self._recent_queries[question] = vector
            while len(self._recent_queries) > max(RECENT_QUERIES, RECENT_FLOOR):
                self._recent_queries.popitem(last=False)
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
        ranked_dense = _ranks(dense, self.records, filters)
        lexical = self.rows.rank(self.keyword, question, filters) if mode in ("hybrid", "bm25") else LexicalRanking()
        # Only candidates that can reach the top k get a Hit: exact hits, the dense candidates and the first
        # bm25 ranks (a record found by bm25 alone scores 1/(RRF_K + rank), falling with its rank, so at most
        # k of them can be in the result). Their scores, signals and order are those of a full fusion.
        rids = list(hits) + list(ranked_dense)
        bm25_ranks = lexical.head(k + len(rids), ties=mode == "bm25")
        for rid in rids:
            found = lexical.at(rid)
            if found is not None:
                bm25_ranks[rid] = found
        fused: dict[str, float] = {}
        for rid, (rank, _score) in ranked_dense.items():
            fused[rid] = fused.get(rid, 0.0) + DENSE_WEIGHT / (RRF_K + rank)
        for rid, (rank, _score) in sorted(bm25_ranks.items(), key=lambda x: x[1][0]):
            fused[rid] = fused.get(rid, 0.0) + BM25_WEIGHT / (RRF_K + rank)
        if mode == "dense":
            fused = {rid: s for rid, (_, s) in ranked_dense.items()}
        elif mode == "bm25":
            fused = {rid: s for rid, (_, s) in sorted(bm25_ranks.items(), key=lambda x: x[1][0])}
        for rid, score in fused.items():
            p, item = self.records[rid]
            hit = hits.get(rid) or Hit(p, item, 0.0, {})
            if "exact" not in hit.signals:
                hit.score = score
            if rid in ranked_dense:
                hit.signals["dense"] = {"rank": ranked_dense[rid][0], "score": round(ranked_dense[rid][1], 4)}
            if rid in bm25_ranks:
                hit.signals["bm25"] = {"rank": bm25_ranks[rid][0], "score": round(bm25_ranks[rid][1], 4)}
            hits[rid] = hit
        ordered = sorted(hits.values(), key=lambda h: ("exact" not in h.signals, -h.score, h.item.seq))
        return ordered[:k]

    def as_langchain_retriever(self, k: int = 5, mode: str = "hybrid") -> Any:
        """This index as a LangChain BaseRetriever (assistant.langchain_adapters.ItemRetriever)."""
        from .langchain_adapters import ItemRetriever

        return ItemRetriever(index=self, k=k, mode=mode)


class LexicalRanking:
    """The records with a positive BM25 score that pass the filters, best first (ties in index order)."""

    def __init__(self, ids: Sequence[str] = (), row_of: dict[str, int] | None = None,
                 rows: np.ndarray | None = None, scores: np.ndarray | None = None) -> None:
        self._ids = ids
        self._row_of = row_of or {}
        self.rows = np.empty(0, dtype=np.int64) if rows is None else rows
        self.scores = np.empty(0, dtype=np.float32) if scores is None else scores
        self._position: np.ndarray | None = None

    def head(self, n: int, ties: bool = False) -> dict[str, tuple[int, float]]:
        """{record id: (rank, score)} of the first n ranks (with `ties`, also those scoring as the n-th)."""
        n = min(n, len(self.rows))
        if ties and 0 < n < len(self.rows):
            n += int(np.count_nonzero(self.scores[n:] == self.scores[n - 1]))
        return {self._ids[row]: (rank, score) for rank, (row, score)
                in enumerate(zip(self.rows[:n].tolist(), self.scores[:n].tolist()), start=1)}

    def at(self, rid: str) -> tuple[int, float] | None:
        """(rank, score) of one record, None when it is not ranked."""
        row = self._row_of.get(rid)
        if row is None or not len(self.rows):
            return None
        if self._position is None:
            self._position = np.full(len(self._ids), -1, dtype=np.int64)
            self._position[self.rows] = np.arange(len(self.rows))
        at = int(self._position[row])
        return None if at < 0 else (at + 1, float(self.scores[at]))


class KeywordRows:
    """Per-build tables over the keyword index's rows: which plan and year each row's record is in.

    They let plan and year filters apply to all BM25 results at once (numpy masks), where a
    Python check per record cost O(records) per search (0.9 s CPU per 54 asks at 10k items).
    """

    def __init__(self, ids: list[str], records: dict[str, tuple[Plan, Item]], plans: list[Plan]) -> None:
        self.ids = ids
        self.records = records
        self.row_of = {rid: n for n, rid in enumerate(ids)}
        self.plan_index = {p.id: n for n, p in enumerate(plans)}
        self.plan = np.array([self.plan_index[records[rid][0].id] if rid in records else -1 for rid in ids],
                             dtype=np.int32)
        self.year = np.array([(records[rid][0].year or -1) if rid in records else -1 for rid in ids],
                             dtype=np.int32)

    def rank(self, keyword: KeywordIndex, question: str, filters: Filters) -> LexicalRanking:
        rows, scores = keyword.positive(question)
        plan = self.plan[rows]
        keep = plan >= 0
        if filters.plan_ids is not None:
            wanted = [self.plan_index[pid] for pid in filters.plan_ids if pid in self.plan_index]
            keep &= np.isin(plan, np.array(wanted, dtype=np.int32))
        if filters.year is not None:
            keep &= self.year[rows] == filters.year
        rows, scores = rows[keep], scores[keep]
        if filters.issuer or filters.section or filters.lead_unit:  # rare (CLI filters): checked per record
            allowed = [filters.allows(*self.records[self.ids[row]]) for row in rows.tolist()]
            rows, scores = rows[np.array(allowed, dtype=bool)], scores[np.array(allowed, dtype=bool)]
        order = np.argsort(-scores, kind="stable")
        return LexicalRanking(self.ids, self.row_of, rows[order], scores[order])


def _ranks(scores: dict[str, float], records: dict[str, tuple[Plan, Item]], filters: Filters) -> dict[str, tuple[int, float]]:
    allowed = [(rid, s) for rid, s in scores.items() if rid in records and filters.allows(*records[rid])]
    allowed.sort(key=lambda x: -x[1])
    return {rid: (rank, s) for rank, (rid, s) in enumerate(allowed, start=1)}


def open_retriever(index_dir: Path | str | None = None, chroma_url: str | None = None,
                   embedder: Any = None) -> Retriever:
    """A Retriever over the current build of an index folder."""
    return Retriever(IndexStore(index_dir, chroma_url=chroma_url), embedder=embedder)
