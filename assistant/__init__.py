"""工作要点问答助手: parse Chinese education work plans, index their items, answer with citations."""

from .models import Item, Plan

__all__ = ["Item", "Plan"]
__version__ = "0.1.0"
