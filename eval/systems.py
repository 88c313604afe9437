"""The systems the runner compares, each answering in the assistant's JSON contract.

- `assistant`: `assistant.service.Assistant` (the product).
- `tutorial`:  the LangChain RAG tutorial pipeline: RecursiveCharacterTextSplitter(500/50) over each
               plan file's full text, a Chroma collection with the SAME embedder, top chunk = answer.
- `bm25`, `dense`: `Retriever.search(question, k=5, mode=...)`, top record's text = answer.

Every `ask(question, history)` returns a contract dict (`question, answer, supported, kind,
citations, retrieved, timings_ms`) plus `_contexts`: the texts the system retrieved (for the
RAGAS export; the runner strips it before writing the answers file).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from assistant.models import Item, Plan

EVAL_DIR = Path(__file__).resolve().parent
RUNS_DIR = EVAL_DIR / "runs"
TOP_K = 5
QUOTE_CHARS = 200


# ---- records: the text behind a (plan_id, item) ------------------------------------------------


class Records:
    """The records of the indexed plans, looked up by id or (plan_id, item number)."""

    def __init__(self, plans: list[Plan]):
        self.plans = {p.id: p for p in plans}
        self.by_id: dict[str, tuple[Plan, Item]] = {i.id: (p, i) for p in plans for i in p.items}
        self.by_key: dict[tuple[str, str], tuple[Plan, Item]] = {
            (p.id, i.number): (p, i) for p in plans for i in p.items if i.number is not None}

    def text(self, entry: dict) -> str:
        """The text of a citation / retrieved / expected entry.

        A numbered item gives its text; an unnumbered reference (item null) gives the plan's
        header (notice, document number, date) and its unnumbered records (preamble, closing text).
        """
        rid = entry.get("id")
        if rid and rid in self.by_id:
            plan, item = self.by_id[rid]
            if item.number is not None or entry.get("item") is None:
                return item.text
        plan_id, number = entry.get("plan_id"), entry.get("item")
        if number is not None:
            found = self.by_key.get((plan_id, str(number)))
            return found[1].text if found else ""
        plan = self.plans.get(plan_id)
        if plan is None:
            return ""
        parts = [plan.full_title or plan.title, plan.header]
        parts += [i.text for i in plan.items if i.number is None]
        return "\n".join(p for p in parts if p)


    def title(self, entry: dict) -> str:
        """The title of an expected entry: the item's heading, or the plan's title for item null."""
        number, plan_id = entry.get("item"), entry.get("plan_id")
        if number is not None:
            found = self.by_key.get((plan_id, str(number)))
            return found[1].title if found else ""
        plan = self.plans.get(plan_id)
        return plan.title if plan else ""


def citation(plan: Plan, item: Item, quote: str) -> dict:
    """A citation in the contract's shape."""
    return {"plan": plan.title, "plan_id": plan.id, "item": item.number, "section": list(item.section),
            "title": item.title, "lead_units": list(item.lead_units),
            "responsible_units": list(item.responsible_units), "quote": quote[:QUOTE_CHARS], "id": item.id}


def retrieved_entry(plan: Plan, item: Item, score: float) -> dict:
    return {"plan": plan.title, "plan_id": plan.id, "item": item.number, "id": item.id,
            "score": round(float(score), 6)}


# ---- the assistant --------------------------------------------------------------------------------


class AssistantSystem:
    """The product: `Assistant.open(index_dir).ask(question, history)`."""

    name = "assistant"
    uses_history = True

    def __init__(self, index_dir: Path | str | None, records: Records | None = None):
        from assistant.service import Assistant

        self.assistant = Assistant.open(index_dir)
        self.records = records or Records(self.assistant.plans())

    def ask(self, question: str, history: list | None = None) -> dict:
        started = time.perf_counter()
        data = self.assistant.ask(question, history=history or None).to_dict()
        timings = data.setdefault("timings_ms", {})
        timings.setdefault("total", round((time.perf_counter() - started) * 1000, 2))
        data["_contexts"] = [self.records.text(r) for r in (data.get("retrieved") or [])[:TOP_K]]
        return data


# ---- BM25 / dense baselines ---------------------------------------------------------------------


class RetrieverSystem:
    """`retriever.search(question, k=5, mode=bm25|dense)`: the top record's text is the answer."""

    uses_history = False

    def __init__(self, mode: str, retriever):
        self.mode = mode
        self.name = mode
        self.retriever = retriever

    def ask(self, question: str, history: list | None = None) -> dict:
        started = time.perf_counter()
        hits = self.retriever.search(question, k=TOP_K, mode=self.mode)
        took = round((time.perf_counter() - started) * 1000, 2)
        top = hits[0] if hits else None
        return {
            "question": question,
            "answer": top.item.text if top else "",
            "supported": bool(hits),
            "kind": f"baseline-{self.mode}",
            "citations": [citation(top.plan, top.item, top.item.text)] if top else [],
            "retrieved": [retrieved_entry(h.plan, h.item, h.score) for h in hits],
            "timings_ms": {"retrieve": took, "total": took},
            "_contexts": [h.item.text for h in hits],
        }


# ---- the LangChain tutorial pipeline --------------------------------------------------------------

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50


class TutorialSystem:
    """LangChain's RAG tutorial: split raw text, embed chunks in Chroma, answer with the top chunk.

    Citations are the records whose [start, end) source offsets overlap the top chunk; `retrieved`
    are the records overlapping the top-5 chunks, in chunk order, deduplicated. The store lives in
    `eval/runs/tutorial-chroma/`, one collection per hash of (corpus files, splitter, embedder), so
    reruns on an unchanged corpus do not embed again. Always answers (supported = true).
    """

    name = "tutorial"
    uses_history = False

    def __init__(self, corpus_dir: Path | str | None = None, persist_dir: Path | str | None = None, embedder=None):
        import chromadb
        from chromadb.config import Settings
        from langchain_chroma import Chroma
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.corpus import DEFAULT_CORPUS, load_corpus, plan_files
        from assistant.embeddings import get_embedder
        from assistant.loaders import read_plan_file

        folder = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS
        self.embedder = embedder or get_embedder()
        corpus = load_corpus(folder)
        self.plans = {p.source: p for p in corpus.plans}
        splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP,
                                                  add_start_index=True)
        self.texts: dict[str, str] = {}
        docs = []
        digest = hashlib.sha256(f"{getattr(self.embedder, 'name', type(self.embedder).__name__)}|"
                                f"{CHUNK_SIZE}|{CHUNK_OVERLAP}".encode())
        for path in plan_files(folder):
            plan = self.plans.get(path.name)
            if plan is None:
                continue
            text = read_plan_file(path)
            self.texts[path.name] = text
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
            docs += splitter.create_documents([text], metadatas=[{"source": path.name, "plan_id": plan.id}])
        for doc in docs:
            doc.metadata["end_index"] = doc.metadata["start_index"] + len(doc.page_content)
        self.chunks = len(docs)
        self.corpus_hash = digest.hexdigest()[:16]
        name = f"tutorial_{self.corpus_hash}"
        self.persist_dir = Path(persist_dir) if persist_dir else RUNS_DIR / "tutorial-chroma"
        self.persist_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(self.persist_dir), settings=Settings(anonymized_telemetry=False))
        existing = [c if isinstance(c, str) else c.name for c in client.list_collections()]
        for old in existing:  # collections of older corpora
            if old.startswith("tutorial_") and old != name:
                client.delete_collection(old)
        self.store = Chroma(collection_name=name, embedding_function=self.embedder, client=client)
        self.embedded = 0
        self.build_seconds = 0.0
        if self.store._collection.count() != len(docs):
            if name in existing:
                client.delete_collection(name)
                self.store = Chroma(collection_name=name, embedding_function=self.embedder, client=client)
            started = time.perf_counter()
            self.store.add_documents(docs, ids=[f"{self.corpus_hash}-{n}" for n in range(len(docs))])
            self.build_seconds = time.perf_counter() - started
            self.embedded = len(docs)

    def items_of(self, meta: dict) -> list[tuple[Plan, Item, str]]:
        """Records whose source span overlaps a chunk, with the overlapping text, in text order."""
        plan = self.plans[meta["source"]]
        start, end = meta["start_index"], meta["end_index"]
        text = self.texts[meta["source"]]
        found = []
        for item in plan.items:
            if item.start < end and start < item.end:
                found.append((plan, item, text[max(start, item.start):min(end, item.end)].strip()))
        return found

    def ask(self, question: str, history: list | None = None) -> dict:
        started = time.perf_counter()
        results = self.store.similarity_search_with_score(question, k=TOP_K)
        took = round((time.perf_counter() - started) * 1000, 2)
        citations: list[dict] = []
        retrieved: list[dict] = []
        seen: set[str] = set()
        for rank, (doc, distance) in enumerate(results):
            for plan, item, overlap in self.items_of(doc.metadata):
                if rank == 0:
                    citations.append(citation(plan, item, overlap))
                if item.id not in seen:
                    seen.add(item.id)
                    retrieved.append(retrieved_entry(plan, item, -float(distance)))
        return {
            "question": question,
            "answer": results[0][0].page_content if results else "",
            "supported": True,
            "kind": "baseline-tutorial",
            "citations": citations,
            "retrieved": retrieved,
            "timings_ms": {"retrieve": took, "total": took},
            "_contexts": [doc.page_content for doc, _ in results],
        }


SYSTEMS = ("assistant", "tutorial", "bm25", "dense")


def open_system(name: str, index_dir: Path | str | None, shared: dict[str, Any]):
    """Open one system by name; `shared` caches the retriever / records between systems."""
    if name == "assistant":
        return AssistantSystem(index_dir, records=shared.get("records"))
    if name == "tutorial":
        return TutorialSystem()
    if name in ("bm25", "dense"):
        if "retriever" not in shared:
            from assistant.retrieval import open_retriever

            shared["retriever"] = open_retriever(index_dir)
        return RetrieverSystem(name, shared["retriever"])
    raise ValueError(f"unknown system '{name}' (choose from {', '.join(SYSTEMS)})")
