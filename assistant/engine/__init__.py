"""The extractive answer engine: a typed question reader, one class per intent, evidence-based refusals.

    question -> query.read_query -> Query(scope, asks, topic, units, chatter, context)
             -> core.Engine picks an intent per ask (intent_model + each intent's `matches`)
             -> intents.* answer from the records, quoting and citing -> contract.Answer
"""
from .contract import Answer, Citation, Kind
from .core import Engine
from .tuning import DEFAULT_TUNING, Tuning

__all__ = ["Answer", "Citation", "Engine", "Kind", "Tuning", "DEFAULT_TUNING"]
