"""Which records contain a string, without a pass over every record per question.

Chinese has no spaces, and the engine asks substring questions ("which records contain 控辍保学?",
"how many records contain 学位?"), so a word index does not serve: a character-bigram inverted index
does. A string's candidates are the records holding all of its rarest bigrams (postings intersected,
rarest first), then verified by a substring test on those candidates only. The cost of a lookup grows
with the number of records that share the string's rarest bigrams, not with the corpus.

Built once per index build (`Vocabulary`), from `flat` record texts; memory is one int32 per distinct
(bigram, record) pair. Per-record facts that need a sentence pass (deadlines) are memoised per record,
so each record is read once per build, not once per question.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable, TypeVar

import numpy as np

#: Postings intersected before verifying: the rarest bigrams prune most; more intersections cost
#: more than the substring tests they save.
MAX_INTERSECTED = 3

T = TypeVar("T")


def _bigrams(text: str) -> set[str]:
    return {text[k:k + 2] for k in range(len(text) - 1)}


class TextIndex:
    """Character-bigram postings over a list of texts; `containing` answers substring lookups."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        lists: dict[str, list[int]] = defaultdict(list)
        chars: dict[str, list[int]] = defaultdict(list)
        for n, text in enumerate(texts):
            for gram in _bigrams(text):
                lists[gram].append(n)
            for ch in set(text):
                chars[ch].append(n)
        # appended in record order, so every posting list is sorted and unique
        self._postings = {g: np.fromiter(ids, dtype=np.int32, count=len(ids)) for g, ids in lists.items()}
        self._chars = {c: np.fromiter(ids, dtype=np.int32, count=len(ids)) for c, ids in chars.items()}
        self._cache: dict[str, np.ndarray] = {}
        self._empty = np.zeros(0, dtype=np.int32)

    def __len__(self) -> int:
        return len(self.texts)

    def containing(self, needle: str) -> np.ndarray:
        """Sorted positions of the texts that contain `needle` (an empty needle matches none)."""
        if not needle:
            return self._empty
        if needle in self._cache:
            return self._cache[needle]
        if len(needle) == 1:
            found = self._chars.get(needle, self._empty)
        else:
            got = [self._postings.get(g) for g in _bigrams(needle)]
            lists = [p for p in got if p is not None]
            if len(lists) < len(got):
                found = self._empty
            else:
                lists.sort(key=len)
                candidates = lists[0]
                for other in lists[1:MAX_INTERSECTED]:
                    candidates = np.intersect1d(candidates, other, assume_unique=True)
                texts = self.texts
                found = np.fromiter((n for n in candidates.tolist() if needle in texts[n]), dtype=np.int32)
        if len(self._cache) < 200_000:
            self._cache[needle] = found
        return found

    def count(self, needle: str) -> int:
        """How many texts contain `needle`."""
        return int(len(self.containing(needle)))

    def containing_any(self, needles: Iterable[str]) -> np.ndarray:
        """Sorted positions of the texts that contain at least one of the needles."""
        parts = [self.containing(n) for n in needles]
        parts = [p for p in parts if len(p)]
        if not parts:
            return self._empty
        return np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]


class PerRecord(dict[int, T]):
    """A memo of one derived fact per record position: computed on first use, once per build."""

    def __init__(self, compute: Callable[[int], T]):
        super().__init__()
        self._compute = compute

    def __missing__(self, key: int) -> T:
        value = self[key] = self._compute(key)
        return value
