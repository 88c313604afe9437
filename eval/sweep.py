"""Calibrate the engine's evidence thresholds on the tuning half of the dev set only.

    python -m eval.sweep [--grid unknown_word_weight=0.6,1.0,1.5 dense_floor=0.83,0.88]

Prints, per setting, the pass rate, false refusals (answerable questions refused) and false answers
(unanswerable questions answered) on `split == "tune"` of eval/gold.jsonl + eval/families*.jsonl,
then the chosen setting's figures on the held-out half. Choose by tune figures only.
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

from . import score
from .__main__ import ask_with_history

DEV_FILES = tuple(Path(__file__).parent / name for name in ("gold.jsonl", "families.jsonl", "families2.jsonl", "families3.jsonl", "families4.jsonl", "families5.jsonl",
                                                               "refusals.jsonl"))


def dev_rows(split: str | None = None) -> list[dict]:
    rows = [json.loads(line) for f in DEV_FILES if f.exists() for line in open(f, encoding="utf-8") if line.strip()]
    return [r for r in rows if split is None or r.get("split") == split]


class _System:
    uses_history = True

    def __init__(self, assistant):
        self.assistant = assistant

    def ask(self, question, history=None):
        return self.assistant.ask(question, history=history).to_dict()


def run(assistant, rows: list[dict]) -> dict:
    system = _System(assistant)
    scored = []
    for g in rows:
        try:
            data, _ = ask_with_history(system, g)
        except Exception as exc:  # noqa: BLE001 - one bad question never stops a sweep
            data = {"error": repr(exc)}
        scored.append(score.score_row(g, data))
    ok = [r for r in scored if r["gold_supported"]]
    no = [r for r in scored if not r["gold_supported"]]
    return {"pass": sum(r["pass"] for r in scored) / len(scored),
            "false_refusal": sum(r["supported"] is False for r in ok) / max(1, len(ok)),
            "false_answer": sum(r["supported"] is True for r in no) / max(1, len(no))}


def main(argv=None) -> int:
    from assistant.engine.core import Engine
    from assistant.service import Assistant

    parser = argparse.ArgumentParser(prog="python -m eval.sweep")
    parser.add_argument("--grid", nargs="*", default=["unknown_word_weight=0.6,1.0,1.5", "dense_floor=0.83,0.88"])
    parser.add_argument("--intent-models", action="store_true",
                        help="instead: compare the n-gram and the e5 intent models on the tuning half")
    args = parser.parse_args(argv)
    if args.intent_models:
        return compare_intent_models()
    grid = {k: [float(x) for x in v.split(",")] for k, v in (g.split("=") for g in args.grid)}
    assistant = Assistant.open()
    base = assistant.engine.tuning
    tune = dev_rows("tune")
    results = []
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        assistant.engine = Engine(assistant.retriever, base.with_(**changes), assistant.engine.model)
        res = run(assistant, tune)
        results.append((res["pass"], -res["false_answer"], changes, res))
        print(f"{changes}: pass {res['pass']:.1%}  false refusals {res['false_refusal']:.1%}  "
              f"false answers {res['false_answer']:.1%}", flush=True)
    best = max(results, key=lambda r: (r[0], r[1]))[2]
    assistant.engine = Engine(assistant.retriever, base.with_(**best), assistant.engine.model)
    held = run(assistant, dev_rows("holdout"))
    print(f"chosen on tune: {best}; held-out: pass {held['pass']:.1%}  false refusals {held['false_refusal']:.1%}  "
          f"false answers {held['false_answer']:.1%}")
    return 0


def compare_intent_models() -> int:
    """End-to-end pass on the tuning half with each intent model (the engine keeps the winner)."""
    import time

    from assistant.engine.core import Engine
    from assistant.engine.intent_model import E5IntentModel, NgramIntentModel, load_exemplars
    from assistant.service import Assistant

    assistant = Assistant.open()
    exemplars = load_exemplars()
    tune = dev_rows("tune")
    for model in (NgramIntentModel(exemplars), E5IntentModel(exemplars, assistant.retriever.embedder)):
        assistant.engine = Engine(assistant.retriever, assistant.engine.tuning, model)
        t0 = time.perf_counter()
        res = run(assistant, tune)
        print(f"{model.name}: pass {res['pass']:.1%}  false refusals {res['false_refusal']:.1%}  "
              f"false answers {res['false_answer']:.1%}  ({time.perf_counter() - t0:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
