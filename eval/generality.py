"""Does the assistant hold on other people's phrasing? One run over every question set.

    python -m eval.generality [--external PATH] [--report eval/generality.md]

Sets: the dev set's tuning half and held-out half (every file in `eval.sweep.DEV_FILES`, by
`split`), and the external set written by others (default ../shared/questions/external.jsonl, read
as it is, never copied). Per set: pass, false refusals, refusals of the unanswerable, paraphrase
consistency (share of needs whose staff/principal/formal voices all pass), then per-kind and
per-voice pass rates. Writes a Markdown report.
"""
from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

from . import score
from .__main__ import ask_with_history
from .sweep import _System, dev_rows

ROOT = Path(__file__).resolve().parent.parent
EXTERNAL = ROOT.parent / "shared" / "questions" / "external.jsonl"
VOICES = ("staff", "principal", "formal")


def evaluate(assistant, rows: list[dict]) -> dict:
    system = _System(assistant)
    scored, latencies = [], []
    for g in rows:
        t0 = time.perf_counter()
        try:
            data, _ = ask_with_history(system, g)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed question, not a failed run
            data = {"error": repr(exc)}
        latencies.append((time.perf_counter() - t0) * 1000)
        row = score.score_row(g, data)
        row.update(voice=g.get("voice"), need=g.get("need"))
        scored.append(row)
    ok = [r for r in scored if r["gold_supported"]]
    no = [r for r in scored if not r["gold_supported"]]
    needs: dict[str, list[bool]] = collections.defaultdict(list)
    for r in scored:
        if r["need"] and r["voice"] in VOICES:
            needs[r["need"]].append(r["pass"])
    by_kind, by_voice = collections.defaultdict(list), collections.defaultdict(list)
    for r in scored:
        by_kind[r["kind"]].append(r["pass"])
        by_voice[r["voice"] or "-"].append(r["pass"])
    return {
        "n": len(scored), "pass": _share(r["pass"] for r in scored),
        "false_refusal": _share(r["supported"] is False for r in ok),
        "unanswerable_refused": _share(r["supported"] is False for r in no),
        "consistency": _share(all(v) for v in needs.values() if len(v) >= 3) if needs else None,
        "needs": sum(1 for v in needs.values() if len(v) >= 3),
        "kinds": {k: (sum(v), len(v)) for k, v in sorted(by_kind.items())},
        "voices": {k: (sum(v), len(v)) for k, v in sorted(by_voice.items())},
        "p95_ms": sorted(latencies)[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "failures": [(r["id"], r["failures"]) for r in scored if not r["pass"]],
    }


def _share(values) -> float | None:
    values = list(values)
    return sum(bool(v) for v in values) / len(values) if values else None


def _pct(x) -> str:
    return "—" if x is None else f"{x:.1%}"


def report(results: dict[str, dict]) -> str:
    lines = ["# Generality report", "",
             "| set | questions | pass | false refusals | unanswerable refused | all voices pass (needs) | p95 ms |",
             "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['n']} | {_pct(r['pass'])} | {_pct(r['false_refusal'])} | "
                     f"{_pct(r['unanswerable_refused'])} | {_pct(r['consistency'])} ({r['needs']}) | {r['p95_ms']:.0f} |")
    for title, key in (("Per kind", "kinds"), ("Per voice", "voices")):
        names = sorted({k for r in results.values() for k in r[key]})
        lines += ["", f"## {title}", "", "| " + key[:-1] + " | " + " | ".join(results) + " |",
                  "|---|" + "---|" * len(results)]
        for k in names:
            cells = [f"{r[key][k][0]}/{r[key][k][1]}" if k in r[key] else "—" for r in results.values()]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from assistant.service import Assistant

    parser = argparse.ArgumentParser(prog="python -m eval.generality")
    parser.add_argument("--external", type=Path, default=EXTERNAL)
    parser.add_argument("--report", type=Path, default=Path(__file__).parent / "generality.md")
    args = parser.parse_args(argv)
    assistant = Assistant.open()
    sets = {"dev (tune)": dev_rows("tune"), "dev (held-out)": dev_rows("holdout")}
    if args.external.exists():
        sets["external"] = score.load_gold(args.external)
    else:
        print(f"(no external set at {args.external}: skipped)")
    results = {name: evaluate(assistant, rows) for name, rows in sets.items()}
    text = report(results)
    args.report.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
