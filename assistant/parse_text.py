"""Line-level text helpers shared by the plan parser and the title/metadata reader (pure)."""
from __future__ import annotations

import re
import unicodedata

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
BOOKMARK_RE = re.compile(r"\[bookmark:[^\]]*\]")
PAGE_NUMBER_RE = re.compile(r"^(?:[-—－–]\s*\d{1,3}\s*[-—－–]|第\s*\d{1,3}\s*页(?:\s*[/，,]?\s*共\s*\d{1,3}\s*页)?|\d{1,3}\s*/\s*\d{1,3})$")
MARKDOWN_PREFIX_RE = re.compile(r"^(?:#{1,6}\s+|[-*+•·]\s+|>\s*)+")
TERMINAL = "。！？!?；;："


def clean_line(raw: str) -> str:
    """One source line without markup, bullets, odd spaces or page furniture."""
    line = unicodedata.normalize("NFKC", raw) if _needs_nfkc(raw) else raw
    line = BOOKMARK_RE.sub("", line)
    line = line.replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", "").replace("\u200b", "")
    line = line.strip()
    if PAGE_NUMBER_RE.match(line):
        return ""
    line = MARKDOWN_PREFIX_RE.sub("", line).replace("**", "").replace("__", "")
    return fold_spaces(line)


def _needs_nfkc(raw: str) -> bool:
    # Full-width digits and letters (１２．) would hide item numbers; leave CJK punctuation alone.
    return any("\uff10" <= ch <= "\uff19" or "\uff21" <= ch <= "\uff5a" for ch in raw)


def cn_number(text: str) -> int:
    """'十二' -> 12, '三' -> 3, '二十' -> 20."""
    if text == "十":
        return 10
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + CN_DIGITS.get(ch, 0)
    return value


def ends_sentence(text: str) -> bool:
    """True when the text ends a sentence or a clause list (。；：…), closing quotes aside."""
    text = text.rstrip("”’」』\"' ")
    return bool(text) and text[-1] in TERMINAL


def fold_spaces(text: str) -> str:
    """Remove spaces between CJK characters and around CJK punctuation; keep them between Latin words."""
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=[^A-Za-z0-9]) | (?=[^A-Za-z0-9])", "", text)


def join_wrapped(left: str, right: str) -> str:
    """Join a line broken mid-sentence (page break, hard wrap) back together."""
    if left and right and left[-1].isascii() and left[-1].isalnum() and right[0].isascii() and right[0].isalnum():
        return f"{left} {right}"
    return left + right
