"""Verification of a model-written answer against the numbered evidence it was given.

A sentence that states something must carry at least one [n] marker naming evidence it was
given, and every number, date, item number, unit name and plan it mentions must appear in the
evidence it cites. A sentence that fails is removed; the caller decides what a failed core means.
The rules read only the text: they never trust the model to have followed the prompt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# [1], ［1］, 【1】, [1,2], [1][2]: models write markers in several ways; all mean "evidence 1".
MARKER_RE = re.compile(r"[\[［【]\s*(\d+(?:\s*[,，、]\s*\d+)*)\s*[\]］】]")
_SENTENCE_RE = re.compile(r"[^。！？；!?\n]*(?:[。！？；!?]|\n|$)")
_NUMBER_RE = re.compile(r"\d+(?:[.．]\d+)?")
_ITEM_RE = re.compile(r"第\s*([0-9一二三四五六七八九十百零两]+)\s*[项条]")
# Share of a sentence's character pairs that must occur in the evidence it cites: a model may
# rephrase a little, but a sentence mostly in its own words is a claim the evidence does not make.
MIN_SUPPORT = 0.5
_FILLER = {"根据", "据此", "其中", "此外", "另外", "同时", "以及", "主要", "包括", "要求", "工作", "要点", "提到",
           "指出", "明确", "规定", "内容", "如下", "方面", "相关", "进行", "开展"}
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


@dataclass
class Evidence:
    """One numbered piece of evidence as the model saw it."""

    n: int
    plan_id: str
    plan_title: str
    place: str
    item_number: str | None
    text: str  # everything the model was shown for it: header, title, units, text
    units: list[str] = field(default_factory=list)
    item_id: str = ""
    marker: str = ""  # the record's 〔计划·第N项〕, which replaces [n] in the answer that leaves


@dataclass
class Checked:
    """One sentence of the model's answer and the verdict on it."""

    text: str  # the sentence with its markers, as written
    cites: list[int]
    ok: bool
    reason: str = ""
    states: bool = True  # False for connective filler ("如下：") that needs no marker


def sentences(text: str) -> list[str]:
    """The answer cut into sentences; a marker written after the full stop stays with its sentence."""
    text = re.sub(r"([。！？；!?])\s*((?:[\[［【][\d\s,，、]+[\]］】]\s*)+)",
                  lambda m: m.group(2).strip() + m.group(1), text.strip())
    return [s.strip() for s in _SENTENCE_RE.findall(text) if s.strip()]


def cited(sentence: str) -> list[int]:
    return [int(n) for m in MARKER_RE.finditer(sentence) for n in re.split(r"\s*[,，、]\s*", m.group(1))]


def strip_markers(sentence: str) -> str:
    return MARKER_RE.sub("", sentence)


def _cn_int(token: str) -> int | None:
    """'17' → 17, '十七' → 17, '二十三' → 23 (the item numbers plans use)."""
    if token.isdigit():
        return int(token)
    total, current = 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def _states(sentence: str) -> bool:
    """Does the sentence say anything checkable (two Chinese characters or a digit), beyond a lead-in?"""
    bare = strip_markers(sentence)
    return bool(re.search(r"\d", bare)) or len(re.findall(r"[\u4e00-\u9fff]", bare)) >= 2


def check(sentence: str, evidence: dict[int, Evidence], known_units: set[str],
          known_plans: dict[str, tuple[str, str]]) -> Checked:
    """The verdict on one sentence. `known_plans`: plan id → (title, place), to catch plans not cited."""
    cites = cited(sentence)
    if not _states(sentence):
        return Checked(sentence, cites, True, states=False)
    if not cites:
        return Checked(sentence, cites, False, "no evidence marker")
    missing = [n for n in cites if n not in evidence]
    if missing:
        return Checked(sentence, cites, False, f"cites evidence it was not given: {missing}")
    sources = [evidence[n] for n in cites]
    corpus = "\n".join(e.text for e in sources)
    bare = strip_markers(sentence)
    stated = set(_NUMBER_RE.findall(corpus))  # whole numbers: "5" is not supported by "2025"
    for number in _NUMBER_RE.findall(bare):
        if number not in stated:
            return Checked(sentence, cites, False, f"number {number} is not in the cited evidence")
    for m in _ITEM_RE.finditer(bare):
        value = _cn_int(m.group(1))
        if value is None or str(value) not in {e.item_number for e in sources}:
            return Checked(sentence, cites, False, f"{m.group(0)} is not the cited item")
    cited_units = {u for e in sources for u in e.units}
    for unit in known_units:
        if unit in bare and unit not in corpus and unit not in cited_units:
            return Checked(sentence, cites, False, f"unit {unit} is not in the cited evidence")
    cited_plans, cited_places = {e.plan_id for e in sources}, {_short(e.place) for e in sources}
    for plan_id, (title, place) in known_plans.items():
        # a place (达州市, or just 达州) names a plan, unless a cited plan is of the same place (another year)
        short = _short(place)
        named = (title in bare and plan_id not in cited_plans) or (
            len(short) >= 2 and short in bare and short not in cited_places)
        if named:
            return Checked(sentence, cites, False, f"names {title}, which the cited evidence is not from")
    grams = _bigrams(bare)
    if grams:
        support = sum(g in corpus for g in grams) / len(grams)
        if support < MIN_SUPPORT:
            return Checked(sentence, cites, False, f"only {support:.0%} of its wording is in the cited evidence")
    return Checked(sentence, cites, True)


def _short(place: str) -> str:
    """达州市 → 达州, 永顺县 → 永顺: how a place is usually written in a sentence."""
    return place[:-1] if len(place) > 2 and place[-1] in "市县区省州" and place[-2] != "自" else place


def _bigrams(text: str) -> list[str]:
    """Chinese character pairs of the sentence (connectives such as 根据/其中 excepted)."""
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    grams = [run[i:i + 2] for run in runs for i in range(len(run) - 1)]
    return [g for g in grams if g not in _FILLER]


def verify(answer: str, evidence: list[Evidence], known_units: set[str],
           known_plans: dict[str, tuple[str, str]]) -> list[Checked]:
    """Every sentence of `answer` with its verdict, in order."""
    by_n = {e.n: e for e in evidence}
    return [check(s, by_n, known_units, known_plans) for s in sentences(answer)]
