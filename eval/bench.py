"""Benchmarks of the retrieval layer and the assistant (prints figures; asserts nothing).

    python eval/bench.py [--index DIR] [--json] [--skip-build] [--weights [D:B,D:B,...]]

(a) retrieval quality on the gold set's supported questions that have expected citations, for
    `retriever.search(question, k=10, mode=bm25|dense|hybrid)`: hit@1, hit@5, MRR (over the 10).
    Follow-up questions are SKIPPED (alone, they lack the plan they refer to; the runner scores
    them through the assistant's conversation handling).
(b) index build: `IndexStore(tmp).build(rebuild=True)` into a temporary folder, against the raw
    embedding time of the same chunk texts (`embedder.embed_documents`, batches of the store's size).
(c) query latency of `retriever.search` over all gold questions, per mode (warm, one warm-up first).
(d) warm `Assistant.ask` latency over all gold questions (single turn), when assistant.service exists.
--weights: RRF weight sweep: sets assistant.retrieval.DENSE_WEIGHT / BM25_WEIGHT to each pair and
    prints hybrid hit@1 / hit@5 / MRR (to choose the weights by measurement).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python eval/bench.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eval.score import first_match_rank, load_gold, mean, percentile, table  # noqa: E402

MODES = ("bm25", "dense", "hybrid")
DEFAULT_WEIGHTS = [(1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (1.0, 0.5), (0.5, 1.0), (1.0, 0.75), (0.75, 1.0),
                   (1.0, 1.5), (1.5, 1.0), (2.0, 1.0), (1.0, 2.0)]


def retrieval_questions(gold: list[dict]) -> list[dict]:
    """Gold-supported questions with expected citations, follow-ups excluded."""
    return [g for g in gold if g.get("supported", True) and g.get("expected") and g.get("kind") != "follow_up"]


def hit_entries(hits) -> list[dict]:
    return [{"plan_id": h.plan.id, "item": h.item.number} for h in hits]


def retrieval_quality(retriever, questions: list[dict], mode: str, k: int = 10) -> dict:
    """hit@1, hit@5 and MRR (over the top k) of one search mode on the given gold questions."""
    ranks = []
    for g in questions:
        expected = {(e["plan_id"], None if e["item"] is None else str(e["item"])) for e in g["expected"]}
        ranks.append(first_match_rank(hit_entries(retriever.search(g["question"], k=k, mode=mode)), expected))
    return {"n": len(ranks), "hit@1": mean(r == 1 for r in ranks),
            "hit@5": mean(r is not None and r <= 5 for r in ranks),
            "mrr": mean(1.0 / r if r else 0.0 for r in ranks)}


def latency(fn, questions: list[str]) -> dict:
    """Warm latency (ms) of fn(question) over the questions, after one warm-up call."""
    fn(questions[0])
    times = []
    for q in questions:
        started = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - started) * 1000)
    return {"n": len(times), "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95), "max_ms": max(times)}


def build_timing(embedder) -> dict:
    """A full build into a temp folder vs embedding the same chunk texts directly."""
    from assistant.chunks import chunk_plans
    from assistant.corpus import load_corpus
    from assistant.store import EMBED_BATCH, IndexStore

    plans = load_corpus().plans
    count = getattr(embedder, "token_count", None) or len
    chunks = chunk_plans(plans, count)
    texts = [c.text for c in chunks]
    started = time.perf_counter()
    for i in range(0, len(texts), EMBED_BATCH):
        embedder.embed_documents(texts[i:i + EMBED_BATCH])
    raw = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="bench-index-", ignore_cleanup_errors=True) as tmp:
        started = time.perf_counter()
        report = IndexStore(tmp).build(embedder=embedder, rebuild=True, progress=False)
        total = time.perf_counter() - started
    return {"plans": len(plans), "records": report.records, "chunks": len(chunks), "build_s": total,
            "build_embed_s": report.embed_seconds, "raw_embed_s": raw,
            "overhead_s": total - raw, "chunks_per_s": len(chunks) / raw if raw else None}


def weight_sweep(retriever, questions: list[dict], pairs: list[tuple[float, float]]) -> list[dict]:
    """Hybrid retrieval quality for each (dense_weight, bm25_weight); the module weights are restored."""
    from assistant import retrieval

    saved = (retrieval.DENSE_WEIGHT, retrieval.BM25_WEIGHT)
    embedder = retriever.embedder
    retriever.embedder = _CachedQueries(embedder)  # every pair asks the same questions: embed them once
    out = []
    try:
        for dense_w, bm25_w in pairs:
            retrieval.DENSE_WEIGHT, retrieval.BM25_WEIGHT = dense_w, bm25_w
            out.append({"dense_weight": dense_w, "bm25_weight": bm25_w,
                        **retrieval_quality(retriever, questions, "hybrid")})
    finally:
        retrieval.DENSE_WEIGHT, retrieval.BM25_WEIGHT = saved
        retriever.embedder = embedder
    return out


class _CachedQueries:
    """The embedder with embed_query memoised (same name, so the retriever accepts it)."""

    def __init__(self, inner):
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self.cache: dict[str, list[float]] = {}

    def embed_query(self, text: str) -> list[float]:
        if text not in self.cache:
            self.cache[text] = self.inner.embed_query(text)
        return self.cache[text]

    def __getattr__(self, attr):
        return getattr(self.inner, attr)


def parse_pairs(text: str) -> list[tuple[float, float]]:
    pairs = []
    for part in text.split(","):
        dense_w, bm25_w = part.split(":")
        pairs.append((float(dense_w), float(bm25_w)))
    return pairs


def pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eval/bench.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=None, help="index folder (default index/)")
    parser.add_argument("--gold", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    parser.add_argument("--skip-build", action="store_true", help="skip (b), the temp-folder index build")
    parser.add_argument("--weights", nargs="?", const="default", default=None,
                        help="RRF weight sweep; optional pairs 'dense:bm25,...' (default: a built-in grid)")
    args = parser.parse_args(argv)
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    from assistant import retrieval
    from assistant.retrieval import open_retriever

    gold = load_gold(args.gold)
    questions = retrieval_questions(gold)
    retriever = open_retriever(args.index)
    out: dict = {"gold_questions": len(gold), "retrieval_questions": len(questions),
                 "follow_ups": "skipped", "weights": {"dense": retrieval.DENSE_WEIGHT, "bm25": retrieval.BM25_WEIGHT},
                 "embedder": getattr(retriever.embedder, "name", "?"), "build_id": retriever.manifest.build_id,
                 "load_average_start": [round(x, 2) for x in os.getloadavg()]}

    if args.weights is not None:
        pairs = DEFAULT_WEIGHTS if args.weights == "default" else parse_pairs(args.weights)
        log(f"weight sweep: {len(pairs)} pairs × {len(questions)} questions …")
        out["weight_sweep"] = weight_sweep(retriever, questions, pairs)
    else:
        log(f"(a) retrieval quality on {len(questions)} questions …")
        out["retrieval"] = {m: retrieval_quality(retriever, questions, m) for m in MODES}
        if not args.skip_build:
            log("(b) index build into a temp folder vs raw embedding …")
            out["build"] = build_timing(retriever.embedder)
        log("(c) retriever.search latency …")
        texts = [g["question"] for g in gold]
        out["search_latency"] = {m: latency(lambda q, m=m: retriever.search(q, k=10, mode=m), texts) for m in MODES}
        try:
            from assistant.service import Assistant
        except ImportError as exc:
            out["assistant_latency"] = {"skipped": f"assistant.service unavailable ({exc})"}
        else:
            log("(d) Assistant.ask latency …")
            assistant = Assistant.open(args.index)
            errors = []

            def ask(q):
                try:
                    assistant.ask(q)
                except Exception as exc:  # noqa: BLE001 - counted, the timing still stands
                    errors.append(f"{type(exc).__name__}: {exc}")

            out["assistant_latency"] = {**latency(ask, texts), "errors": len(errors)}

    out["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=1))
        return 0
    print(f"embedder {out['embedder']}, index build {out['build_id']}, RRF weights dense={out['weights']['dense']} "
          f"bm25={out['weights']['bm25']}; load average {out['load_average_start'][0]} at start, "
          f"{out['load_average_end'][0]} at end (2-core machine: timings are only as quiet as the machine)")
    if "weight_sweep" in out:
        print(f"\nRRF weight sweep (hybrid, {len(questions)} gold questions, follow-ups skipped):")
        print(table(["dense_w", "bm25_w", "hit@1", "hit@5", "MRR"],
                    [[f"{r['dense_weight']:g}", f"{r['bm25_weight']:g}", pct(r["hit@1"]), pct(r["hit@5"]),
                      f"{r['mrr']:.3f}"] for r in out["weight_sweep"]]))
        return 0
    print(f"\n(a) retrieval, {len(questions)} gold-supported questions with expected citations (follow-ups skipped), k=10:")
    print(table(["mode", "hit@1", "hit@5", "MRR"],
                [[m, pct(r["hit@1"]), pct(r["hit@5"]), f"{r['mrr']:.3f}"] for m, r in out["retrieval"].items()]))
    if "build" in out:
        b = out["build"]
        print(f"\n(b) index build ({b['plans']} plans, {b['records']} records, {b['chunks']} chunks):")
        print(table(["what", "seconds"],
                     [["IndexStore.build --rebuild (temp folder)", f"{b['build_s']:.2f}"],
                      ["  of which embedding (build report)", f"{b['build_embed_s']:.2f}"],
                      ["raw embed_documents of the same chunks", f"{b['raw_embed_s']:.2f}"],
                      ["build overhead beyond raw embedding", f"{b['overhead_s']:.2f}"]]))
    print(f"\n(c/d) warm latency over all {len(gold)} gold questions (ms):")
    rows = [[f"search {m}", str(r["n"]), ms(r["p50_ms"]), ms(r["p95_ms"]), ms(r["max_ms"])]
            for m, r in out["search_latency"].items()]
    a = out["assistant_latency"]
    if "skipped" in a:
        rows.append(["Assistant.ask", "-", "-", "-", a["skipped"]])
    else:
        rows.append([f"Assistant.ask ({a['errors']} errors)", str(a["n"]), ms(a["p50_ms"]), ms(a["p95_ms"]),
                     ms(a["max_ms"])])
    print(table(["what", "n", "p50", "p95", "max"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
