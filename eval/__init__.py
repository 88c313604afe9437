"""Evaluation harness: gold set, scorer (`python -m eval.score`), runner (`python -m eval`), baselines, bench."""
