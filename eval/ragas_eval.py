"""RAGAS export of a run, and the RAGAS metrics that need no LLM (computed in a subprocess).

Export (`ragas_rows`): one row per question with RAGAS' column names:
  user_input          the question (follow-ups: the question alone)
  retrieved_contexts  texts of what the system retrieved (records for assistant/bm25/dense, the
                      top-5 chunks for tutorial); at most 5
  response            the system's answer text
  reference           the ground-truth answer as far as the gold set states it: its key phrases (first
                      alternative of each must_contain group) and the titles of the expected records;
                      for gold-unsupported questions a fixed refusal text. Record texts are contexts,
                      not answers, so they go to reference_contexts only
  reference_contexts  texts of the gold expected records (NonLLM context metrics need them)
plus id / kind / gold_supported to join back to the gold set.

Metrics (`python -m eval.ragas_eval FILE...`, JSON on stdout): NonLLMContextRecall,
NonLLMContextPrecisionWithReference and NonLLMStringSimilarity (Levenshtein, via rapidfuzz) from
ragas 0.4.3, over the gold-supported rows. ragas is not in the project venv (see
eval/requirements-ragas.txt): it is loaded from eval/runs/ragas-site (or $EVAL_RAGAS_SITE), appended
to sys.path of this subprocess only. When it cannot be imported the result says so; nothing is
substituted for it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent
DEFAULT_SITE = EVAL_DIR / "runs" / "ragas-site"
REFUSAL_REFERENCE = "现有计划中没有相关内容，无法回答。"
MAX_CONTEXTS = 5
METRICS = ("non_llm_context_recall", "non_llm_context_precision_with_reference", "non_llm_string_similarity")


def ragas_row(gold: dict, answer: dict, contexts: list[str], records) -> dict:
    """One export row; `records` is an `eval.systems.Records` (text of expected entries)."""
    reference_contexts = [t for t in (records.text(e) for e in gold.get("expected") or []) if t]
    if gold.get("supported", True):
        phrases = "；".join(group[0] for group in gold.get("must_contain") or [] if group)
        titles = "；".join(t for t in (records.title(e) for e in gold.get("expected") or []) if t)
        reference = "\n".join(p for p in [phrases, titles] if p)
    else:
        reference = REFUSAL_REFERENCE
    return {
        "id": gold["id"],
        "kind": gold.get("kind"),
        "gold_supported": bool(gold.get("supported", True)),
        "user_input": gold["question"],
        "retrieved_contexts": [c for c in contexts if c][:MAX_CONTEXTS],
        "response": answer.get("answer") or "",
        "reference": reference,
        "reference_contexts": reference_contexts,
    }


def site_dir() -> Path:
    return Path(os.environ.get("EVAL_RAGAS_SITE") or DEFAULT_SITE)


def compute_in_subprocess(files: list[Path], timeout: float = 600) -> dict:
    """Run `python -m eval.ragas_eval FILE...` and return its JSON (status + per-file means)."""
    env = dict(os.environ, RAGAS_DO_NOT_TRACK="true", HF_HUB_OFFLINE="1", PYTHONWARNINGS="ignore")
    try:
        proc = subprocess.run([sys.executable, "-m", "eval.ragas_eval", *map(str, files)], cwd=EVAL_DIR.parent,
                              env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"status": "failed", "reason": f"ragas subprocess timed out after {timeout:.0f}s"}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"status": "failed", "reason": f"ragas subprocess exit {proc.returncode}: {' | '.join(tail)}"}


# ---- the subprocess side ---------------------------------------------------------------------------


def _import_ragas():
    """ragas, from the venv or else from the overlay folder; raises ImportError with the reason."""
    try:
        import ragas  # noqa: F401
    except ImportError:
        site = site_dir()
        if not site.is_dir():
            raise ImportError(f"ragas is not installed and {site} does not exist "
                              "(see eval/requirements-ragas.txt)") from None
        sys.path.append(str(site))
        import ragas  # noqa: F401
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from ragas.dataset_schema import SingleTurnSample
    from ragas.metrics import (NonLLMContextPrecisionWithReference, NonLLMContextRecall,
                               NonLLMStringSimilarity)

    return ragas, SingleTurnSample, [NonLLMContextRecall(), NonLLMContextPrecisionWithReference(),
                                     NonLLMStringSimilarity()]


def _score_file(path: Path, SingleTurnSample, metrics) -> dict:
    import asyncio

    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("gold_supported") and r.get("reference_contexts")]

    async def run():
        sums = {m.name: [] for m in metrics}
        failed = {m.name: 0 for m in metrics}
        for r in rows:
            sample = SingleTurnSample(user_input=r["user_input"], response=r["response"], reference=r["reference"],
                                      retrieved_contexts=r["retrieved_contexts"],
                                      reference_contexts=r["reference_contexts"])
            for m in metrics:
                if m.name == "non_llm_context_recall" and not r["retrieved_contexts"]:
                    # ragas 0.4.3 raises on an empty list (max() of nothing); nothing retrieved
                    # recalls nothing, so it counts 0 (and the rows are reported as empty_retrieval)
                    sums[m.name].append(0.0)
                    continue
                try:
                    sums[m.name].append(float(await m.single_turn_ascore(sample)))
                except Exception:  # noqa: BLE001 - counted and reported, never hidden
                    failed[m.name] += 1
        return sums, failed

    sums, failed = asyncio.run(run())
    return {"n": len(rows), "empty_retrieval": sum(1 for r in rows if not r["retrieved_contexts"]),
            "metrics": {k: (sum(v) / len(v) if v else None) for k, v in sums.items()},
            "failed": {k: v for k, v in failed.items() if v}}


def main(argv: list[str] | None = None) -> int:
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])]
    try:
        ragas, SingleTurnSample, metrics = _import_ragas()
    except Exception as exc:  # noqa: BLE001 - ImportError or a broken install: report, never fake
        print(json.dumps({"status": "unavailable", "reason": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False))
        return 0
    out = {"status": "ok", "version": getattr(ragas, "__version__", "?"), "metrics": list(METRICS), "files": {}}
    for path in files:
        out["files"][path.name] = _score_file(path, SingleTurnSample, metrics)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
