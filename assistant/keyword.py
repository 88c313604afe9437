"""Keyword index: jieba tokens (with a user dictionary from the plans) scored by BM25 (bm25s)."""
from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from . import units as unitlib
from .models import Plan

_jieba_lock = threading.Lock()
_loaded_words: set[str] = set()

STOPWORDS = set(
    "的 了 和 与 及 是 在 有 对 把 将 为 等 或 也 都 就 而 并 其 之 中 上 下 要 会 能 这 那 个 们 吗 呢 吧 啊 呀 么 "
    "什么 哪些 哪个 哪项 哪条 哪里 怎么 怎样 如何 多少 几 谁 啥 咋 请问 一下 一个 这个 那个 今年 方面 "
    "工作 要点 计划 项 条 第 讲 说 内容 提到 提出 关于 问 告诉 我 我们 你 他 它 有关 相关 具体 主要 "
    "由 归 管 负责 牵头 配合 哪 部分 包括 一共 总共".split()
)
_TOKEN_RE = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+(?:\.\d+)?%?")
_QUOTED_RE = re.compile(r"[“\"《]([^”\"》]{2,12})[”\"》]")


def plan_terms(plans: list[Plan]) -> list[str]:
    """Words jieba should keep whole: unit names, quoted programme names, places."""
    words: set[str] = set(unitlib.all_known_units()) | set(unitlib.all_aliases())
    for plan in plans:
        if plan.place:
            words.add(plan.place)
            words.add(re.sub(r"[市县区]$", "", plan.place))
        for item in plan.items:
            words.update(item.lead_units + item.responsible_units)
            for m in _QUOTED_RE.finditer(item.text):
                term = m.group(1).strip()
                if 2 <= len(term) <= 8 and not re.search(r"[，。、：；\s]", term):
                    words.add(term)
    return sorted(w for w in words if len(w) >= 2)


def _jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def add_words(words: list[str]) -> None:
    """Teach jieba the user dictionary (idempotent, process-wide)."""
    with _jieba_lock:
        jieba = _jieba()
        for w in words:
            if w not in _loaded_words:
                jieba.add_word(w, freq=20000)
                _loaded_words.add(w)


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens without stopwords and punctuation."""
    jieba = _jieba()
    with _jieba_lock:
        raw = list(jieba.cut_for_search(text))
    out = []
    for tok in raw:
        tok = tok.strip()
        if not tok or tok in STOPWORDS or not _TOKEN_RE.search(tok):
            continue
        out.append(tok.lower())
    return out


class KeywordIndex:
    """BM25 over one document per record (bm25s: an inverted index, scored from the query's postings)."""

    def __init__(self, ids: list[str], retriever: Any, vocab: set[str], words: list[str]) -> None:
        self.ids = ids
        self._retriever = retriever
        self._vocab = vocab
        self.words = words

    @classmethod
    def build(cls, ids: list[str], texts: list[str], words: list[str]) -> "KeywordIndex":
        import bm25s

        add_words(words)
        corpus_tokens = [tokenize(t) or ["∅"] for t in texts]
        retriever = bm25s.BM25()
        retriever.index(corpus_tokens, show_progress=False)
        vocab = {t for toks in corpus_tokens for t in toks}
        return cls(list(ids), retriever, vocab, words)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._retriever.save(str(folder / "bm25"), show_progress=False)
        (folder / "keyword.json").write_text(
            json.dumps({"ids": self.ids, "vocab": sorted(self._vocab), "words": self.words}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex":
        import bm25s

        meta = json.loads((folder / "keyword.json").read_text(encoding="utf-8"))
        retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        add_words(meta["words"])
        return cls(meta["ids"], retriever, set(meta["vocab"]), meta["words"])

    def positive(self, query: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, scores): positions in `ids` of the records with a positive BM25 score, and the scores.

        bm25s scores from its inverted (sparse column) index, so the work is the postings of the
        query's tokens; only the final nonzero pass is vectorised over all rows (no Python loop).
        """
        tokens = [t for t in tokenize(query) if t in self._vocab]
        if not tokens:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        scores = np.asarray(self._retriever.get_scores(tokens))
        rows = np.flatnonzero(scores > 0)
        return rows, scores[rows]

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score per record id (only ids with a positive score)."""
        rows, scores = self.positive(query)
        return {self.ids[i]: float(s) for i, s in zip(rows.tolist(), scores.tolist())}
