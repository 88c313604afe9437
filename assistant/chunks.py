"""Item records -> embedding chunks that carry their context and still cite their item."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import Item, Plan

CHUNK_TOKENS = 480  # under the embedder's 512-token window, with room for special tokens
_SENTENCE_RE = re.compile(r"[^。；！？\n]*(?:[。；！？]|\n|$)")


@dataclass
class Chunk:
    """One embedded text: a whole item, or a window of a long item (`part` > 0)."""

    id: str
    item_id: str
    part: int
    text: str
    metadata: dict[str, Any]

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def item_label(item: Item) -> str:
    if item.number is not None:
        return f"第{item.number}项"
    return {"preamble": "总体要求", "text": "其他内容"}.get(item.kind, "其他内容")


def context_header(plan: Plan, item: Item) -> str:
    """Plan title, section path, item number and title: what the item is, before what it says."""
    parts = [plan.title]
    if item.section:
        parts.append(" > ".join(item.section))
    parts.append(f"{item_label(item)} {item.title}".strip())
    header = "｜".join(parts)
    if item.lead_units or item.responsible_units:
        header += f"\n牵头单位：{'、'.join(item.lead_units) or '未列'}；责任单位：{'、'.join(item.responsible_units) or '未列'}"
    return header


def item_body(item: Item) -> str:
    body = item.text
    if item.number is not None and body.startswith(item.title):
        body = body[len(item.title):].lstrip("。 \n")
    return body


def item_metadata(plan: Plan, item: Item) -> dict[str, Any]:
    """Every item field as flat Chroma metadata (lists joined with 、)."""
    return {
        "item_id": item.id,
        "plan_id": plan.id,
        "plan": plan.title,
        "issuer": plan.issuer,
        "place": plan.place,
        "year": plan.year or 0,
        "item": item.number or "",
        "kind": item.kind,
        "title": item.title,
        "section": " > ".join(item.section),
        "section_top": item.section[0] if item.section else "",
        "lead_units": "、".join(item.lead_units),
        "responsible_units": "、".join(item.responsible_units),
        "seq": item.seq,
    }


def split_sentences(text: str) -> list[str]:
    return [s for s in (m.group(0) for m in _SENTENCE_RE.finditer(text)) if s.strip()]


def chunk_item(plan: Plan, item: Item, count_tokens: Callable[[str], int], budget: int = CHUNK_TOKENS) -> list[Chunk]:
    """One chunk when the item fits the window, else overlapping sentence windows, each with the header."""
    header = context_header(plan, item)
    body = item_body(item)
    meta = item_metadata(plan, item)
    whole = f"{header}\n{body}" if body else header
    if count_tokens(whole) <= budget:
        return [Chunk(f"{item.id}#0", item.id, 0, whole, {**meta, "part": 0})]
    room = max(64, budget - count_tokens(header) - 2)
    sentences = split_sentences(body)
    windows: list[list[str]] = []
    current: list[str] = []
    used = 0
    for sentence in sentences:
        cost = count_tokens(sentence)
        if current and used + cost > room:
            windows.append(current)
            # one sentence of overlap keeps a fact that straddles the cut findable
            current = current[-1:] if count_tokens(current[-1]) < room // 2 else []
            used = sum(count_tokens(s) for s in current)
        if cost > room:  # a single overlong sentence: cut it by characters
            step = max(32, len(sentence) * room // cost)
            for i in range(0, len(sentence), step):
                windows.append(current + [sentence[i:i + step]])
                current, used = [], 0
            continue
        current.append(sentence)
        used += cost
    if current:
        windows.append(current)
    return [
        Chunk(f"{item.id}#{k}", item.id, k, f"{header}\n{''.join(w)}", {**meta, "part": k})
        for k, w in enumerate(windows)
    ]


def chunk_plans(plans: list[Plan], count_tokens: Callable[[str], int]) -> list[Chunk]:
    return [c for plan in plans for item in plan.items for c in chunk_item(plan, item, count_tokens)]
