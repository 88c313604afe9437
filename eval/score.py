"""Score answer files in the assistant's JSON contract against the gold set.

Usable on the answers of ANY system, as long as each line of the answers file is
`{"id": <gold id>, "answer": str, "supported": bool, "citations": [{"plan_id", "item", ...}],
"retrieved": [{"plan_id", "item", ...}], "timings_ms": {"total": ms}, ...}`; a line with an
`"error"` field is a question the system failed on (it scores as a failure everywhere).

    python -m eval.score ANSWERS.jsonl [--gold eval/gold.jsonl] [--json] [--subset] [--rows]

Per question (see `score_row`):
  pass        = supported matches gold `supported`
                AND every must_contain group has >= 1 alternative in `answer`
                AND no must_not_contain string is in `answer`
                AND (gold supported) every expected citation is among the answer's citations.
  citations   precision = |cited ∩ expected| / |cited|, recall = |cited ∩ expected| / |expected|
              (gold-supported questions with expected citations only; citing nothing = precision 0).
  retrieval   rank of the first `retrieved` entry matching any expected citation:
              hit@1, hit@5, reciprocal rank (0 when none matches).
  refusal     gold unsupported: correct when the answer says supported=false;
              gold supported: a false refusal when the answer says supported=false.
  latency     timings_ms.total, when present.

Citations match on (plan_id, item) with `item` compared as a string and null == null.
Text checks compare NFKC-normalised, case-folded text with whitespace removed on both sides.
Everything here is pure functions over dicts; the CLI at the bottom only reads files and prints.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import unicodedata
from pathlib import Path
from typing import Any, Iterable

GOLD_PATH = Path(__file__).resolve().parent / "gold.jsonl"
KINDS = ("item", "fact", "unit_role", "enumerate", "count", "section", "summary", "cross_plan",
         "compare", "exists", "deadline", "obligation", "follow_up", "out_of_scope")
HIT_K = (1, 5)

# ---- I/O -----------------------------------------------------------------------------------


def load_jsonl(path: Path | str) -> list[dict]:
    """Rows of a JSON-lines file (blank lines skipped); a bad line raises ValueError naming it."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{n}: not JSON ({exc.msg})") from exc
    return rows


def load_gold(path: Path | str | None = None) -> list[dict]:
    """The gold questions, in file order."""
    return load_jsonl(path or GOLD_PATH)


# ---- normalisation -------------------------------------------------------------------------


def norm_text(text: Any) -> str:
    """Text as compared by must_contain / must_not_contain: NFKC, case-folded, no whitespace."""
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(text.split())


def norm_item(item: Any) -> str | None:
    """An item number as a string ("17"), None for null / unnumbered records."""
    if item is None:
        return None
    return str(item).strip()


def cite_key(entry: dict) -> tuple[str | None, str | None]:
    """(plan_id, item) of a citation, retrieved entry or expected entry."""
    return (entry.get("plan_id"), norm_item(entry.get("item")))


def contains(text: str, needle: str) -> bool:
    """Whether `needle` occurs in `text` after `norm_text` on both."""
    n = norm_text(needle)
    return bool(n) and n in norm_text(text)


# ---- one question --------------------------------------------------------------------------


def first_match_rank(retrieved: Iterable[dict], expected: set[tuple]) -> int | None:
    """1-based rank of the first retrieved entry whose (plan_id, item) is expected, else None."""
    for rank, entry in enumerate(retrieved or [], start=1):
        if isinstance(entry, dict) and cite_key(entry) in expected:
            return rank
    return None


def score_row(gold: dict, answer: dict | None) -> dict:
    """Score one answer against its gold question; `answer` None means the system gave none.

    Returns a flat dict: id, kind, pass, the reasons it failed (`failures`), citation
    precision/recall, retrieval rank / hits / reciprocal rank, refusal flags, latency_ms, error.
    Metrics that do not apply to the question are None (and are left out of the means).
    """
    gold_supported = bool(gold.get("supported", True))
    expected = {cite_key(e) for e in gold.get("expected") or []}
    row: dict[str, Any] = {"id": gold["id"], "kind": gold.get("kind", ""), "gold_supported": gold_supported}
    error = None
    if answer is None:
        error = "no answer"
        answer = {}
    elif answer.get("error"):
        error = str(answer["error"])
    text = answer.get("answer") or ""
    supported = bool(answer.get("supported")) if error is None else None
    citations = [c for c in (answer.get("citations") or []) if isinstance(c, dict)]
    cited = {cite_key(c) for c in citations}
    failures: list[str] = []

    if error is not None:
        failures.append(f"error: {error}")
    if supported is None or supported != gold_supported:
        failures.append(f"supported={supported} (gold {gold_supported})")
    missing_groups = [group for group in gold.get("must_contain") or []
                      if not any(contains(text, alt) for alt in group)]
    if missing_groups:
        failures.append("missing " + " / ".join("|".join(g) for g in missing_groups))
    forbidden = [s for s in gold.get("must_not_contain") or [] if contains(text, s)]
    if forbidden:
        failures.append("contains " + "、".join(forbidden))
    missing_cites = sorted(expected - cited, key=str) if gold_supported else []
    if missing_cites:
        failures.append("uncited " + ", ".join(f"{p}:{'null' if i is None else i}" for p, i in missing_cites))

    precision = recall = None
    if gold_supported and expected:
        hit = len(cited & expected)
        precision = hit / len(cited) if cited else 0.0
        recall = hit / len(expected)

    rank = rr = None
    hits: dict[str, bool | None] = {f"hit@{k}": None for k in HIT_K}
    if gold_supported and expected:
        rank = first_match_rank(answer.get("retrieved") or [], expected)
        rr = 1.0 / rank if rank else 0.0
        hits = {f"hit@{k}": bool(rank is not None and rank <= k) for k in HIT_K}

    timings = answer.get("timings_ms") or {}
    latency = timings.get("total") if isinstance(timings, dict) else None
    row.update({
        "pass": not failures,
        "failures": failures,
        "supported": supported,
        "error": error,
        "citation_precision": precision,
        "citation_recall": recall,
        "rank": rank,
        "rr": rr,
        **hits,
        # refusal accuracy applies to gold-unsupported questions, false refusals to supported ones
        "refusal_correct": (supported is False) if not gold_supported else None,
        "false_refusal": (supported is False) if gold_supported else None,
        "latency_ms": float(latency) if isinstance(latency, (int, float)) else None,
    })
    return row


# ---- aggregates ----------------------------------------------------------------------------


def mean(values: Iterable[float | bool | None]) -> float | None:
    """Mean of the values that are not None (bools count as 0/1); None when there are none."""
    vals = [float(v) for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks; None when empty."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    pos = (len(vals) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return vals[lo] + (vals[hi] - vals[lo]) * (pos - lo)


def aggregate(rows: list[dict]) -> dict:
    """Means over scored rows: pass rate, citation P/R, hit@k, MRR, refusal, latency, counts."""
    latencies = [r["latency_ms"] for r in rows if r.get("latency_ms") is not None]
    return {
        "n": len(rows),
        "passed": sum(1 for r in rows if r["pass"]),
        "errors": sum(1 for r in rows if r.get("error")),
        "pass_rate": mean(r["pass"] for r in rows),
        "citation_precision": mean(r["citation_precision"] for r in rows),
        "citation_recall": mean(r["citation_recall"] for r in rows),
        **{f"hit@{k}": mean(r[f"hit@{k}"] for r in rows) for k in HIT_K},
        "mrr": mean(r["rr"] for r in rows),
        "refusal_accuracy": mean(r["refusal_correct"] for r in rows),
        "false_refusal_rate": mean(r["false_refusal"] for r in rows),
        "n_unsupported": sum(1 for r in rows if not r["gold_supported"]),
        "latency_p50_ms": percentile(latencies, 50),
        "latency_p95_ms": percentile(latencies, 95),
    }


def score_answers(gold: list[dict], answers: list[dict], subset: bool = False) -> dict:
    """Score an answers list against the gold set.

    Each gold question is matched to the answer row with its id (the last one if repeated).
    With `subset`, gold questions without an answer are left out (for runs with --limit);
    otherwise they count as failures ("no answer"). Returns
    {"overall": aggregate, "by_kind": {kind: aggregate}, "rows": [score_row...],
     "unknown_ids": answer ids that are not in the gold set}.
    """
    by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
    gold_ids = {g["id"] for g in gold}
    rows = [score_row(g, by_id.get(g["id"])) for g in gold if not subset or g["id"] in by_id]
    kinds = [k for k in KINDS if any(r["kind"] == k for r in rows)]
    kinds += sorted({r["kind"] for r in rows} - set(kinds))
    return {
        "overall": aggregate(rows),
        "by_kind": {k: aggregate([r for r in rows if r["kind"] == k]) for k in kinds},
        "rows": rows,
        "unknown_ids": sorted(str(i) for i in set(by_id) - gold_ids),
    }


def score_file(path: Path | str, gold_path: Path | str | None = None, subset: bool = False) -> dict:
    """`score_answers` on an answers JSON-lines file."""
    return score_answers(load_gold(gold_path), load_jsonl(path), subset=subset)


# ---- formatting ----------------------------------------------------------------------------

COLUMNS = [  # (label, key, kind of value)
    ("pass", "pass_rate", "pct"),
    ("cit P", "citation_precision", "pct"),
    ("cit R", "citation_recall", "pct"),
    ("hit@1", "hit@1", "pct"),
    ("hit@5", "hit@5", "pct"),
    ("MRR", "mrr", "num"),
    ("refusal acc", "refusal_accuracy", "pct"),
    ("false ref", "false_refusal_rate", "pct"),
    ("p50 ms", "latency_p50_ms", "ms"),
    ("p95 ms", "latency_p95_ms", "ms"),
]


def fmt(value: Any, style: str) -> str:
    """One table cell: percentages with one decimal, MRR with three, ms with one; '-' for None."""
    if value is None:
        return "-"
    if style == "pct":
        return f"{100 * value:.1f}%"
    if style == "num":
        return f"{value:.3f}"
    if style == "ms":
        return f"{value:.1f}"
    return str(value)


def table(header: list[str], rows: list[list[str]], markdown: bool = False) -> str:
    """A plain-text (aligned) or Markdown table."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)

    def width(s: str) -> int:  # CJK characters take two columns in a terminal
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)

    widths = [max(width(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            pad = " " * (w - width(str(c)))
            out.append(str(c) + pad if i == 0 else pad + str(c))
        return "  ".join(out)

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def summary_table(results: dict[str, dict], markdown: bool = False) -> str:
    """Rows = systems, columns = the headline metrics of their `overall` aggregates."""
    header = ["system", "n", "errors"] + [c[0] for c in COLUMNS]
    rows = []
    for name, res in results.items():
        agg = res["overall"]
        rows.append([name, str(agg["n"]), str(agg["errors"])] + [fmt(agg[key], st) for _, key, st in COLUMNS])
    return table(header, rows, markdown)


def kind_table(result: dict, markdown: bool = False) -> str:
    """Rows = question kinds, columns = the headline metrics, for one system."""
    header = ["kind", "n"] + [c[0] for c in COLUMNS[:8]]
    rows = [[kind, str(agg["n"])] + [fmt(agg[key], st) for _, key, st in COLUMNS[:8]]
            for kind, agg in result["by_kind"].items()]
    return table(header, rows, markdown)


def kind_pass_table(results: dict[str, dict], markdown: bool = False) -> str:
    """Rows = question kinds, columns = systems, cells = pass rate."""
    kinds: list[str] = []
    for res in results.values():
        kinds += [k for k in res["by_kind"] if k not in kinds]
    header = ["kind", "n"] + list(results)
    rows = []
    for kind in kinds:
        n = next((res["by_kind"][kind]["n"] for res in results.values() if kind in res["by_kind"]), 0)
        rows.append([kind, str(n)] + [fmt(res["by_kind"].get(kind, {}).get("pass_rate"), "pct")
                                      for res in results.values()])
    return table(header, rows, markdown)


# ---- CLI -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.score", description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", type=Path, help="answers JSON-lines file ({'id': ..., <contract fields>})")
    parser.add_argument("--gold", type=Path, default=GOLD_PATH, help="gold JSON-lines file (default eval/gold.jsonl)")
    parser.add_argument("--json", action="store_true", help="print the full result (with per-question rows) as JSON")
    parser.add_argument("--subset", action="store_true",
                        help="score only the gold questions that have an answer (default: missing = failed)")
    parser.add_argument("--rows", action="store_true", help="also list the failed questions and why")
    args = parser.parse_args(argv)
    try:
        result = score_file(args.answers, args.gold, subset=args.subset)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
        return 0
    name = args.answers.name.removesuffix(".jsonl")
    print(summary_table({name: result}))
    print("\nper kind:\n" + kind_table(result))
    if result["unknown_ids"]:
        print(f"\nanswer ids not in the gold set (ignored): {', '.join(result['unknown_ids'][:20])}")
    if args.rows:
        print("\nfailed:")
        for r in result["rows"]:
            if not r["pass"]:
                print(f"  {r['id']} [{r['kind']}] " + "; ".join(r["failures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
