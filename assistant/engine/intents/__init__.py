"""One class per question intent, in an explicit registry (name -> instance).

Each intent has `matches(query, env)` (can it take this query?) and `answer(query, env)`; they are
testable on hand-built `Plan` objects without an index (see tests/test_intents.py).
"""
from .base import REGISTRY, Env, Intent, refuse
from . import structure, units, topics, duties  # noqa: F401  (registration)

__all__ = ["REGISTRY", "Env", "Intent", "refuse"]
