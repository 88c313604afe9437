"""Extractive and generative mode side by side on the gold set (`make eval LLM=…`).

    python -m eval.generative_eval --llm openai:<model>@<base_url> [--kinds fact,summary] [--limit N]
                                   [--index DIR] [--gold FILE] [--out eval/generative.md]

Both modes answer the same questions (follow-ups replay their history through the same mode) and
are scored by the same scorer (`eval/score.py`): pass rate, citation precision/recall, refusal
accuracy, latency. The generative column adds how often the model's answer was used, how often
the extractive fallback fired, the unsupported-claim rate (sentences verification removed, over
all sentences the model wrote) and first-token / total latency of the model.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from . import score
from .__main__ import ask_with_history

EVAL_DIR = Path(__file__).resolve().parent


class Mode:
    """One answering mode as an eval system: .ask(question, history) -> the contract dict."""

    uses_history = True

    def __init__(self, name: str, assistant: Any):
        self.name, self.assistant = name, assistant

    def ask(self, question: str, history: list[Any] | None = None) -> dict[str, Any]:
        started = time.perf_counter()
        data: dict[str, Any] = self.assistant.ask(question, history=history or None).to_dict()
        data.setdefault("timings_ms", {})["total"] = round((time.perf_counter() - started) * 1000, 2)
        return data


def run(mode: Mode, gold: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers = []
    for n, row in enumerate(gold, start=1):
        try:
            data, _ = ask_with_history(mode, row)
        except Exception as exc:  # noqa: BLE001 — one failing question must not end the run
            data = {"error": f"{type(exc).__name__}: {exc}", "answer": "", "citations": []}
        answers.append({"id": row["id"], **data})
        print(f"\r{mode.name}: {n}/{len(gold)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return answers


def generation_figures(answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Share phrased by the model, fallbacks, unsupported-claim rate, model latency."""
    tried = [a for a in answers if a.get("mode") == "generative" or a.get("fallback")]
    written = sum((a.get("generation") or {}).get("sentences") or 0 for a in answers)
    removed = sum(len((a.get("generation") or {}).get("removed") or []) for a in answers)
    firsts = [a["timings_ms"]["first_token"] for a in answers if "first_token" in (a.get("timings_ms") or {})]
    totals = [a["timings_ms"]["total"] for a in tried if "total" in (a.get("timings_ms") or {})]
    return {"model_tried": len(tried), "generative": sum(1 for a in answers if a.get("mode") == "generative"),
            "fallback": sum(1 for a in answers if a.get("fallback")), "sentences": written, "removed": removed,
            "unsupported_claim_rate": removed / written if written else None,
            "first_token_p50_ms": score.percentile(firsts, 50), "model_answer_p50_ms": score.percentile(totals, 50),
            "model_answer_p95_ms": score.percentile(totals, 95)}


def report(results: dict[str, dict[str, Any]], figures: dict[str, Any], llm: str, n: int) -> str:
    rows = [["", "extractive", "generative"]]
    for key, style in [("pass_rate", "pct"), ("citation_precision", "pct"), ("citation_recall", "pct"),
                       ("refusal_accuracy", "pct"), ("false_refusal_rate", "pct"), ("latency_p50_ms", "ms"),
                       ("latency_p95_ms", "ms")]:
        rows.append([key] + [score.fmt(results[m]["overall"].get(key), style) for m in ("extractive", "generative")])
    lines = [f"# Generative vs extractive ({n} gold questions, --llm {llm})", "",
             score.table(rows[0], rows[1:], markdown=True), "",
             "| generation | |", "|---|---|"]
    for key, value in figures.items():
        shown = score.fmt(value, "pct") if key.endswith("rate") else (
            score.fmt(value, "ms") if key.endswith("_ms") else str(value))
        lines.append(f"| {key} | {shown} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.generative_eval", description=__doc__.split("\n\n")[0])
    p.add_argument("--llm", required=True, help="openai:<model>@<base_url> or gguf:/path/model.gguf")
    p.add_argument("--index", type=Path, default=None)
    p.add_argument("--gold", type=Path, default=None)
    p.add_argument("--kinds", default=None, help="only these gold kinds, comma-separated")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", type=Path, default=EVAL_DIR / "generative.md")
    args = p.parse_args(argv)
    sys.path.insert(0, str(EVAL_DIR.parent))
    from assistant.generative import GenerativeAssistant, chat_model
    from assistant.service import Assistant

    gold = score.load_gold(args.gold)
    if args.kinds:
        gold = [g for g in gold if g.get("kind") in set(args.kinds.split(","))]
    gold = gold[:args.limit] if args.limit else gold
    extractive = Assistant.open(args.index)
    try:
        model, name = chat_model(args.llm)
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    modes = {"extractive": Mode("extractive", extractive),
             "generative": Mode("generative", GenerativeAssistant(extractive, model, name))}
    answers = {m: run(mode, gold) for m, mode in modes.items()}
    results = {m: score.score_answers(gold, a, subset=True) for m, a in answers.items()}
    text = report(results, generation_figures(answers["generative"]), args.llm, len(gold))
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
