"""Evidence: what the plans' own vocabulary says about a question's words and a record's relevance.

A `Vocabulary` is derived once per index build (document frequencies, unit names, place words).
Relevance is IDF-weighted coverage of the question's topic words, with retrieval's dense similarity
as a second witness: words the plans never use do not by themselves sink a question, but a topic
word that names what is asked and that the plans lack does count against the evidence.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Callable, Iterable
import re

from .. import units as unitlib
from ..models import Item, Plan
from ..retrieval import Hit
from ..scope import plan_aliases
from ..text import coverage
from .synonyms import same_sense_synonyms
from .textindex import PerRecord, TextIndex
from .tuning import Tuning

_QUOTE_CHARS = re.compile(r"[“”\"'‘’「」『』\s]")
_ABBREVIATED_RE = re.compile(r"[(（]([\u4e00-\u9fff])(?:、([\u4e00-\u9fff]))?[)）]")


def flat(text: str) -> str:
    """Text for verbatim matching: no quote marks or whitespace ("1+X"证书 ~ 1+X证书), and
    abbreviated coordination written out (新改(扩、建) ~ 新改扩建, 改(扩)建 ~ 改扩建)."""
    text = _ABBREVIATED_RE.sub(lambda m: m.group(1) + (m.group(2) or ""), text)
    return _QUOTE_CHARS.sub("", text)


@functools.lru_cache(maxsize=4096)
def compound_parts(word: str) -> tuple[str, ...]:
    """The dictionary words a compound is made of ("体育锻炼" → 体育, 锻炼); () for a simple word."""
    import jieba

    if len(word) < 4:
        return ()
    parts = [p for p in jieba.lcut_for_search(word, HMM=False) if len(p) >= 2 and p != word]
    # only a split that spells the whole word: overlapping guesses say nothing of its parts
    return tuple(parts) if "".join(parts) == word else ()


def record_text(item: Item) -> str:
    return item.title + item.text + "".join(item.section)


def word_freq(word: str) -> int:
    """Frequency of a word in jieba's dictionary (0 for strings it only guesses at)."""
    import jieba

    jieba.initialize()
    return int(jieba.dt.FREQ.get(word, 0))


class Vocabulary:
    """Document frequencies, unit names and place words of one index build."""

    def __init__(self, plans: list[Plan]):
        self.plans = plans
        #: every record, in plan order then item order; positions index `text_index` and `by_unit`
        self.entries: list[tuple[Plan, Item]] = [(p, i) for p in plans for i in p.items]
        self.text_index = TextIndex([flat(record_text(i)) for _, i in self.entries])
        self._position = {i.id: n for n, (_, i) in enumerate(self.entries)}
        self._df: dict[str, int] = {}
        self._memos: dict[str, PerRecord[Any]] = {}
        #: plan id → its position in `plans`
        self.plan_index = {p.id: n for n, p in enumerate(plans)}
        #: plan id → the positions of its records
        self.positions: dict[str, range] = {}
        start = 0
        for p in plans:
            self.positions[p.id] = range(start, start + len(p.items))
            start += len(p.items)
        names = set(unitlib.all_aliases()) | set(unitlib.all_known_units())
        #: unit name as printed → positions of the records it leads or is responsible for
        self.by_unit: dict[str, list[int]] = {}
        for n, (_, i) in enumerate(self.entries):
            names.update(i.lead_units + i.responsible_units)
            for u in dict.fromkeys(i.lead_units + i.responsible_units):
                self.by_unit.setdefault(u, []).append(n)
        self.unit_names = sorted((n for n in names if len(n) >= 2), key=len, reverse=True)
        self.place_words: set[str] = set()
        for p in plans:
            self.place_words.update(plan_aliases(p))
            self.place_words.update(a[:2] for a in plan_aliases(p))
        # names a question may use for a plan's place or issuer, longest first (for masking)
        self.place_names = sorted({n for p in plans for n in (p.place, p.issuer) if n}
                                  | {a for a in self.place_words if len(a) >= 2}, key=len, reverse=True)
        self.unit_nicknames = _nicknames(self.unit_names)

    def df(self, word: str) -> int:
        """How many records contain the word (verbatim, after `flat`)."""
        if word not in self._df:
            self._df[word] = self.text_index.count(flat(word))
        return self._df[word]

    def weight(self, word: str) -> float:
        """IDF of a word over the records: rare topic words count more than common ones."""
        n = len(self.text_index)
        return math.log((n + 1) / (self.df(word) + 1)) + 0.2

    def records(self, positions: Iterable[int], plan_ids: set[str] | None = None) -> list[tuple[Plan, Item]]:
        """The records at these positions (in corpus order), within the plans named, if any."""
        out = [self.entries[n] for n in positions]
        return out if plan_ids is None else [(p, i) for p, i in out if p.id in plan_ids]

    def index_of(self, item_id: str) -> int:
        """The position of a record, by its id."""
        return self._position[item_id]

    def per_record(self, name: str, compute: Callable[[Plan, Item], Any]) -> PerRecord[Any]:
        """A memo of one derived fact per record position (`compute(plan, item)`), kept for this build."""
        if name not in self._memos:
            self._memos[name] = PerRecord(lambda n: compute(*self.entries[n]))
        return self._memos[name]

    def flat_text(self, item_id: str) -> str:
        """A record's text as `flat` makes it (title, text and section), kept by the text index."""
        return self.text_index.texts[self._position[item_id]]

    def known(self, word: str) -> bool:
        return self.df(word) > 0

    def real_word(self, word: str) -> bool:
        """A word of the plans, or a common Chinese word (not a fragment jieba guessed)."""
        return self.known(word) or word_freq(word) >= 50


UNIT_SUFFIX = re.compile(r"(?:科|办|中心|所|室|股)$")


def _nicknames(unit_names: list[str]) -> list[tuple[str, str, bool]]:
    """(nickname, canonical unit, is_stem) for the shortenings people use: the tail of one unit's name
    ("师训科" for 人事师训科) or its stem without the unit suffix ("计财" for 计财科). A shortening
    shared by two units names neither."""
    canon = sorted({unitlib.normalise_unit(n) for n in unit_names}, key=len, reverse=True)
    out = []
    for name in canon:
        stem = UNIT_SUFFIX.sub("", name)
        tails = [name[k:] for k in range(1, len(name) - 2)] if len(name) >= 5 else []
        for part in tails + ([stem] if len(stem) >= 2 and stem != name else []):
            if sum(1 for n in canon if part in n) == 1:
                out.append((part, name, part == stem))
    return out


class Evidence:
    """Scores how well records speak of a question's topic."""

    def __init__(self, vocab: Vocabulary, tuning: Tuning):
        self.vocab = vocab
        self.tuning = tuning

    def cover(self, words: list[str] | tuple[str, ...], text: str, unknown: tuple[str, ...] = (),
              partial: bool = False, flattened: bool = False) -> float:
        """IDF-weighted share of topic words in a text. A word the plans contain must appear verbatim;
        an unknown compound ("幼儿园学位") may appear in halves. `unknown` words (asked about, absent
        from every plan) weigh against the share with their full (maximal) IDF. `flattened`: the text
        is already `flat` (a record's text from the text index)."""
        words = list(words)
        if not words and not unknown:
            return 0.0
        f = text if flattened else flat(text)
        weight = self.vocab.weight
        total = sum(weight(w) for w in words)
        found = 0.0
        for w in words:
            if flat(w) in f or (not self.vocab.known(w) and coverage([w], f) == 1.0):
                found += weight(w)
            elif self.tuning.synonym_credit and any(flat(x) in f for x in same_sense_synonyms(w)):
                # "资助" asked, "补助" written: a synonym of one sense sharing a morpheme names the same thing
                found += self.tuning.synonym_credit * weight(w)
            elif partial and (parts := compound_parts(w)):
                # "体育锻炼" asked, "体育活动" written: the shared part earns part of the word's weight
                # a part as common as 教育 earns little: parts weigh by their own IDF
                share = sum(weight(x) for x in parts if x in f) / sum(weight(x) for x in parts)
                found += self.tuning.compound_part_credit * share * weight(w)
        if unknown:
            # an asked-about word no record contains weighs as much as the rarest word can
            total += self.tuning.unknown_word_weight * sum(weight(w) for w in unknown)
        return found / total if total else 0.0

    def relevant(self, hits: list[Hit], topic: tuple[str, ...], unknown: tuple[str, ...] = (),
                 threshold: float | None = None) -> list[Hit]:
        """Hits that really speak of the topic, best first: enough weighted coverage, or the first
        hit when dense similarity vouches for it and it covers part of the topic."""
        t = self.tuning
        threshold = t.min_coverage if threshold is None else threshold
        if not topic and not unknown:
            return [h for h in hits if "exact" in h.signals][:1]
        # compounds found only in parts ("体育锻炼" ~ "体育活动") count only when no record has them whole
        for partial in (False, True):
            out = []
            for n, h in enumerate(hits):
                c = self.cover(topic, record_text(h.item), unknown, partial)
                if c >= threshold:
                    out.append(h)
                elif n == 0 and h.dense_score >= t.dense_floor and c >= t.dense_min_coverage \
                        and h.dense_score - max((x.dense_score for x in hits[1:5]), default=0.0) >= t.dense_margin:
                    out.append(h)
            if out:
                break
        return out
