"""Run the gold set through the assistant and the baselines, score them, write the report.

    python -m eval [--systems assistant,tutorial,bm25,dense] [--limit N] [--kinds item,fact,...]
                   [--index DIR] [--gold FILE] [--no-ragas]

Writes eval/runs/<system>.jsonl (answers in the JSON contract, one per gold question, or an error
row), eval/runs/<system>.ragas.jsonl (RAGAS export), eval/report.md and eval/report.json, and prints
the comparison tables. A system that raises on a question gets an error row for it; a system that
cannot even open gets error rows for every question: the run always finishes.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from . import score
from .ragas_eval import METRICS as RAGAS_METRICS
from .ragas_eval import compute_in_subprocess, ragas_row
from .systems import RUNS_DIR, SYSTEMS, Records, open_system

EVAL_DIR = Path(__file__).resolve().parent


def ask_with_history(system, gold: dict) -> tuple[dict, list[str]]:
    """Ask one gold question; for a follow-up, first replay its `history` through the same system.

    Each replayed turn is passed on as {"question", "answer": <to_dict()>}, the way a chat client
    would. Systems without conversation support (`uses_history = False`) get the question alone.
    Returns (contract dict without `_contexts`, retrieved context texts).
    """
    history: list[dict] = []
    if getattr(system, "uses_history", False):
        for earlier in gold.get("history") or []:
            previous = system.ask(earlier, history=list(history))
            previous.pop("_contexts", None)
            history.append({"question": earlier, "answer": previous})
    data = system.ask(gold["question"], history=list(history) or None)
    contexts = data.pop("_contexts", [])
    return data, contexts


def error_row(gold: dict, exc: BaseException | str) -> dict:
    message = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return {"id": gold["id"], "question": gold["question"], "error": message, "answer": "", "supported": None,
            "kind": None, "citations": [], "retrieved": [], "timings_ms": {}}


def run_system(system, gold_rows: list[dict], progress=None) -> tuple[list[dict], list[list[str]]]:
    """Answers (id first, then the contract fields) and context texts for each gold question."""
    answers, contexts = [], []
    for gold in gold_rows:
        try:
            data, ctx = ask_with_history(system, gold)
            answers.append({"id": gold["id"], **data})
            contexts.append(ctx)
        except Exception as exc:  # noqa: BLE001 - one bad question never stops the run
            answers.append(error_row(gold, exc))
            contexts.append([])
            if progress:
                progress(f"  {gold['id']}: {type(exc).__name__}: {exc}")
    return answers, contexts


def warm_up(system, gold: dict) -> None:
    """One unrecorded question first, so lazy loading is not timed as the first answer's latency."""
    try:
        system.ask(gold["question"])
    except Exception:  # noqa: BLE001 - the real run records the error
        pass


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def select(gold: list[dict], kinds: list[str] | None, limit: int | None) -> list[dict]:
    rows = [g for g in gold if not kinds or g.get("kind") in kinds]
    return rows[:limit] if limit else rows


def load_records(index_dir: Path | str | None) -> Records:
    """Records of the index (for context / reference texts); the parsed corpus when there is no index."""
    from assistant.store import IndexStore, IndexUnavailable

    try:
        return Records(IndexStore(index_dir).read_plans())
    except (IndexUnavailable, OSError):
        from assistant.corpus import load_corpus

        return Records(load_corpus().plans)


# ---- the report ---------------------------------------------------------------------------------

METHOD_NOTES = """\
- Gold set: `eval/gold.jsonl` ({n_gold} questions; this run: {n_run}). Every system answers the same questions.
- **pass** = `supported` equals gold, every `must_contain` group has an alternative in the answer text, no
  `must_not_contain` string is in it, and (gold-supported) every expected (plan_id, item) is cited.
  Text is compared after NFKC + case-folding with whitespace removed.
- **cit P / cit R**: cited ∩ expected over cited / over expected, per gold-supported question with expected
  citations (citing nothing = P 0), then averaged. **hit@k / MRR**: rank of the first `retrieved` entry
  matching any expected citation (MRR over the whole retrieved list; the assistant lists 10, baselines 5).
- **refusal acc**: share of the {n_unsup} gold-unsupported questions answered with `supported=false`;
  **false ref**: share of gold-supported questions answered with `supported=false` (errors are neither).
  The tutorial pipeline never refuses, by construction.
- **latency**: `timings_ms.total` per question, warm (each system opened once and asked one unrecorded
  warm-up question first); for follow-ups the final turn only. Baselines time only their retrieval.
  Measured on a shared 2-core machine (load average above): treat p95 as indicative; `eval/bench.py`
  measures latency on its own.
- **Follow-ups**: the assistant replays each `history` question through the same `Assistant`, passing the
  accumulated `{{"question", "answer": to_dict()}}` turns. Baselines are single-turn: they get the
  follow-up question alone (which usually lacks the plan it refers to).
- **assistant**: `Assistant.open(index).ask(question, history)`.
- **tutorial**: LangChain tutorial pipeline: `RecursiveCharacterTextSplitter(chunk_size=500,
  chunk_overlap=50, add_start_index=True)` over each plan file's full decoded text, `langchain_chroma.Chroma`
  with the project's embedder ({embedder}); answer = top chunk; citations = records whose source
  offsets overlap the top chunk; retrieved = records overlapping the top-5 chunks; always supported.
- **bm25 / dense**: `retriever.search(question, k=5, mode=...)` (plan scope from the question still
  applies); answer = top record's text; citation = top record; supported = any hit.
"""


def report_markdown(results: dict, meta: dict, ragas: dict) -> str:
    lines = ["# Evaluation report", "", f"Date: {meta['date']}  ", f"Gold: `{meta['gold']}` — "
             f"{meta['n']} questions{' (subset: ' + meta['subset'] + ')' if meta.get('subset') else ''}  ",
             f"Index: `{meta['index']}` (build {meta.get('build') or '?'})  ",
             f"Machine: {meta['machine']}", "", "## Systems", "", score.summary_table(results, markdown=True), "",
             "## Pass rate per question kind", "", score.kind_pass_table(results, markdown=True), ""]
    if "assistant" in results:
        lines += ["## assistant per kind", "", score.kind_table(results["assistant"], markdown=True), ""]
    lines += ["## RAGAS (non-LLM metrics)", ""]
    if ragas.get("status") == "ok":
        header = ["system", "n"] + list(RAGAS_METRICS)
        rows = []
        for name in results:
            got = ragas["files"].get(f"{name}.ragas.jsonl")
            if got:
                rows.append([name, str(got["n"])] + [score.fmt(got["metrics"].get(m), "num") for m in RAGAS_METRICS])
        lines += [score.table(header, rows, markdown=True), "",
                  f"ragas {ragas.get('version')} (loaded from `eval/runs/ragas-site`, see `eval/requirements-ragas.txt`), "
                  "over gold-supported questions. Context recall / precision compare retrieved texts with the gold "
                  "records' texts by Levenshtein similarity (threshold 0.5), so they reward retrieving whole "
                  "records: tutorial chunks cut across records and score low by construction. String similarity "
                  "compares the answer with a reference made of key phrases + expected record texts. No "
                  "LLM-based metric was computed (no LLM here). Export files: `eval/runs/<system>.ragas.jsonl`.", ""]
    else:
        lines += [f"Not computed: {ragas.get('reason', ragas.get('status'))}. The export files "
                  "`eval/runs/<system>.ragas.jsonl` were still written (user_input, retrieved_contexts, "
                  "response, reference, reference_contexts).", ""]
    lines += ["## Method", "", METHOD_NOTES.format(**meta["notes"]), ""]
    failed = results.get("assistant")
    if failed:
        bad = [r for r in failed["rows"] if not r["pass"]]
        if bad:
            lines += [f"## assistant failures ({len(bad)})", ""]
            lines += [f"- {r['id']} [{r['kind']}] " + "; ".join(r["failures"]) for r in bad]
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--systems", default=",".join(SYSTEMS), help=f"comma-separated (default {','.join(SYSTEMS)})")
    parser.add_argument("--limit", type=int, default=None, help="only the first N selected questions")
    parser.add_argument("--kinds", default="", help="comma-separated question kinds (default all)")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default index/)")
    parser.add_argument("--gold", type=Path, default=score.GOLD_PATH)
    parser.add_argument("--out", type=Path, default=RUNS_DIR, help="folder for answer files (default eval/runs)")
    parser.add_argument("--report", type=Path, default=EVAL_DIR, help="folder for report.md / report.json")
    parser.add_argument("--no-ragas", action="store_true", help="skip the RAGAS metrics (the export is still written)")
    args = parser.parse_args(argv)

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system(s): {', '.join(unknown)} (choose from {', '.join(SYSTEMS)})")
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    gold_all = score.load_gold(args.gold)
    gold = select(gold_all, kinds, args.limit)
    if not gold:
        parser.error("no gold question selected")
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731

    load_start = os.getloadavg()
    records = load_records(args.index)
    shared: dict = {"records": records}
    results: dict[str, dict] = {}
    opened: dict[str, dict] = {}
    ragas_files: list[Path] = []
    for name in systems:
        log(f"[{name}] opening …")
        started = time.perf_counter()
        try:
            system = open_system(name, args.index, shared)
        except Exception as exc:  # noqa: BLE001 - a system that cannot open scores 0, the others still run
            log(f"[{name}] cannot open: {type(exc).__name__}: {exc}")
            answers = [error_row(g, f"open failed: {type(exc).__name__}: {exc}") for g in gold]
            contexts = [[] for _ in gold]
            opened[name] = {"open_seconds": round(time.perf_counter() - started, 2), "open_error": str(exc)}
        else:
            opened[name] = {"open_seconds": round(time.perf_counter() - started, 2)}
            for attr in ("chunks", "embedded", "build_seconds", "corpus_hash"):
                if hasattr(system, attr):
                    opened[name][attr] = getattr(system, attr)
            log(f"[{name}] opened in {opened[name]['open_seconds']}s; asking {len(gold)} questions …")
            warm_up(system, gold[0])
            started = time.perf_counter()
            answers, contexts = run_system(system, gold, progress=log)
            opened[name]["run_seconds"] = round(time.perf_counter() - started, 2)
        write_jsonl(args.out / f"{name}.jsonl", answers)
        by_id = {a["id"]: (a, c) for a, c in zip(answers, contexts)}
        export = [ragas_row(g, by_id[g["id"]][0], by_id[g["id"]][1], records) for g in gold]
        ragas_path = args.out / f"{name}.ragas.jsonl"
        write_jsonl(ragas_path, export)
        ragas_files.append(ragas_path)
        results[name] = score.score_answers(gold_all, answers, subset=True)
        log(f"[{name}] pass {score.fmt(results[name]['overall']['pass_rate'], 'pct')}, "
            f"{results[name]['overall']['errors']} errors")

    if args.no_ragas:
        ragas = {"status": "skipped", "reason": "--no-ragas"}
    else:
        log("[ragas] non-LLM metrics …")
        ragas = compute_in_subprocess(ragas_files)
        if ragas.get("status") != "ok":
            log(f"[ragas] {ragas.get('status')}: {ragas.get('reason')}")

    from assistant.embeddings import get_embedder
    from assistant.store import IndexStore

    manifest = None
    try:
        manifest = IndexStore(args.index).current()
    except Exception:  # noqa: BLE001
        pass
    embedder = get_embedder()
    meta = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "gold": str(args.gold.resolve().relative_to(EVAL_DIR.parent) if args.gold.resolve().is_relative_to(EVAL_DIR.parent) else args.gold),
        "n": len(gold),
        "subset": ",".join(filter(None, [f"kinds={','.join(kinds)}" if kinds else "", f"limit={args.limit}" if args.limit else ""])),
        "index": str(args.index or "index/"),
        "build": manifest.build_id if manifest else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}; load average {load_start[0]:.2f} at start, "
                   f"{os.getloadavg()[0]:.2f} at end",
        "notes": {"n_gold": len(gold_all), "n_run": len(gold), "n_unsup": sum(1 for g in gold if not g.get("supported", True)),
                  "embedder": getattr(embedder, "name", type(embedder).__name__)},
    }

    print("\n" + score.summary_table(results))
    print("\npass rate per kind:\n" + score.kind_pass_table(results))
    if ragas.get("status") == "ok":
        header = ["system", "n"] + list(RAGAS_METRICS)
        rows = [[n, str(ragas["files"][f"{n}.ragas.jsonl"]["n"])] +
                [score.fmt(ragas["files"][f"{n}.ragas.jsonl"]["metrics"].get(m), "num") for m in RAGAS_METRICS]
                for n in results if f"{n}.ragas.jsonl" in ragas["files"]]
        print(f"\nRAGAS {ragas.get('version')} (non-LLM):\n" + score.table(header, rows))
    else:
        print(f"\nRAGAS: {ragas.get('status')} ({ragas.get('reason')})")

    args.report.mkdir(parents=True, exist_ok=True)
    (args.report / "report.md").write_text(report_markdown(results, meta, ragas), encoding="utf-8")
    report = {"meta": meta, "systems": {
        name: {"overall": res["overall"], "by_kind": res["by_kind"], "run": opened.get(name, {}),
               "answers": str(args.out / f"{name}.jsonl"),
               "failed": [{"id": r["id"], "kind": r["kind"], "failures": r["failures"]}
                          for r in res["rows"] if not r["pass"]]}
        for name, res in results.items()}, "ragas": ragas}
    (args.report / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\nwrote {args.report / 'report.md'}, {args.report / 'report.json'} and {args.out}/<system>.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
