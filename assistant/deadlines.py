"""Time phrases of a plan clause, as printed and as dates (pure functions).

`find(text)` finds the phrases (6月底前, 年内, 2020年底, 秋季学期, 每季度…) with their offsets;
`normalise(phrase, year)` turns one into a `Deadline`: a due date, a period, or a recurring duty.

Calendar phrases (months, days, 旬, quarters, half years) are resolved by jionlp's time parser,
with the plan's year as the base. Written by hand, because jionlp does not read them the way a
school does: the school calendar (秋季学期 is September to January, not astronomical autumn;
春季开学前 is the end of February, not May), 年内 / 本年度 (unparsed), a bare plan year ("2020年，…"),
and recurring duties such as 每学期 or 定期 (unparsed, or a delta with no calendar meaning).
"""
from __future__ import annotations

import calendar
import contextlib
import io
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

DATE, PERIOD, RECURRING = "date", "period", "recurring"
_CN = "一二三四五六七八九十"
_MONTH = rf"(?:\d{{1,2}}|[{_CN}]{{1,2}})月"
_YEAR = r"(?:19|20)\d{2}年"
# Ordered: longer, more specific forms first so that "2020年6月底前" is one phrase, not two.
_PATTERNS = [
    ("calendar", rf"(?:{_YEAR})?{_MONTH}(?:\d{{1,2}}日)?(?:底|末|初|中旬|上旬|下旬)?(?:前|以前|之前)?"),
    ("calendar", rf"(?:{_YEAR})?(?:第[{_CN}1-4]季度|上半年|下半年)(?:末|底)?(?:前)?"),
    ("year_end", rf"{_YEAR}(?:年底|底|末|内|前|以前|之前)前?"),
    ("year_end", r"年内|年底前|年底|年末|本年度|今年内"),
    ("term", r"(?:春季|秋季|春|秋)(?:学期|开学前|开学)|开学前|寒暑假|寒假|暑假|暑期"),
    ("recurring", r"每(?:年|半年|学期|季度|月|周|天|日)|定期"),
    ("year", rf"(?:到|至|于)?{_YEAR}(?![\d月度级])"),
]
_PHRASE_RE = re.compile("|".join(f"(?P<{kind}{i}>{p})" for i, (kind, p) in enumerate(_PATTERNS)))
_BOOK_RE = re.compile(r"《[^》]*》|“[^”]*”")  # titles and quoted names: their years are not deadlines
_TERMS = {  # (start month, end month, end in the following year)
    "秋季学期": (9, 1, True), "秋学期": (9, 1, True), "秋季开学": (9, 9, False),
    "春季学期": (2, 7, False), "春学期": (2, 7, False), "春季开学": (2, 3, False),
    "暑假": (7, 8, False), "暑期": (7, 8, False), "寒假": (1, 2, False), "寒暑假": (1, 8, False),
}
_BEFORE_TERM = {"春季开学前": (2, 28), "春开学前": (2, 28), "秋季开学前": (8, 31), "秋开学前": (8, 31),
                "开学前": (8, 31)}


@dataclass(frozen=True)
class Deadline:
    """A time phrase as printed, and what it means in the plan's year.

    kind: `date` (due by `due`), `period` (between `start` and `due`), `recurring` (`every`, no date).
    """

    printed: str
    kind: str
    due: date | None = None
    start: date | None = None
    every: str = ""

    @property
    def dated(self) -> bool:
        """Whether the phrase gives a date a calendar can hold."""
        return self.due is not None

    def label(self) -> str:
        """Human form: 2020-06-30, 2020-09-01 至 2021-01-31, 每学期."""
        if self.kind == RECURRING:
            return self.every
        if self.kind == PERIOD and self.start and self.due:
            return f"{self.start.isoformat()} 至 {self.due.isoformat()}"
        return self.due.isoformat() if self.due else ""

    def to_dict(self) -> dict[str, str | None]:
        """JSON form (dates as ISO strings)."""
        return {"printed": self.printed, "kind": self.kind, "due": self.due.isoformat() if self.due else None,
                "start": self.start.isoformat() if self.start else None, "every": self.every or None}


@dataclass(frozen=True)
class Phrase:
    """A time phrase found in a text, with its offsets."""

    text: str
    start: int
    end: int
    kind: str  # which pattern family found it (calendar, year_end, term, recurring, year)


def find(text: str) -> list[Phrase]:
    """Time phrases of a text in order, outside 《titles》 and quoted names."""
    text = text or ""
    masked = _BOOK_RE.sub(lambda m: "\x00" * len(m.group(0)), text)
    out = []
    for m in _PHRASE_RE.finditer(masked):
        kind = re.sub(r"\d+$", "", m.lastgroup or "")
        out.append(Phrase(m.group(0), m.start(), m.end(), kind))
    return out


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _printed_year(phrase: str, year: int) -> int:
    m = re.search(r"((?:19|20)\d{2})年", phrase)
    return int(m.group(1)) if m else year


_jionlp_lock = threading.Lock()  # one import (it swaps sys.stdout) and one parse at a time


@lru_cache(maxsize=512)
def _jionlp_span(phrase: str, year: int) -> tuple[date, date] | None:
    """jionlp's reading of a calendar phrase relative to 1 January of `year` (None when it cannot)."""
    base = datetime(year, 1, 1).timestamp()
    with _jionlp_lock:
        # jionlp and jiojio print banners on import: kept off stdout (the CLI writes JSON there).
        # Imported here, not at the top, so that only callers needing dates pay its ~1 s import.
        with contextlib.redirect_stdout(io.StringIO()):
            import jionlp
        try:
            parsed = jionlp.parse_time(phrase, time_base=base)
        except (ValueError, TypeError, KeyError, IndexError):
            return None
    if parsed.get("type") not in ("time_span", "time_point"):
        return None
    start, end = (datetime.strptime(t[:10], "%Y-%m-%d").date() for t in parsed["time"][:2])
    return start, end


def normalise(phrase: str, year: int | None) -> Deadline:
    """A printed time phrase as a Deadline in the plan year (no date when the year is unknown)."""
    kind = next((p.kind for p in find(phrase) if p.text == phrase), "")
    if kind == "recurring":
        return Deadline(phrase, RECURRING, every=phrase)
    if year is None:
        return Deadline(phrase, DATE)
    y = _printed_year(phrase, year)
    if kind in ("year_end", "year"):
        return Deadline(phrase, DATE, due=date(y, 12, 31))
    if kind == "term":
        before = next((v for k, v in _BEFORE_TERM.items() if phrase.endswith(k)), None)
        if before:
            return Deadline(phrase, DATE, due=date(y, *before))
        term = next((v for k, v in _TERMS.items() if k in phrase), None)
        if term:
            first, last, next_year = term
            return Deadline(phrase, PERIOD, start=date(y, first, 1), due=_last_day(y + next_year, last))
        return Deadline(phrase, DATE)
    span = _jionlp_span(phrase, y)
    if span is None:
        return Deadline(phrase, DATE)
    start, end = span
    # "6月底前" comes back as a span from the base date: a due date. Anything else is a period.
    if start == date(y, 1, 1) or phrase.endswith(("前", "以前", "之前")):
        return Deadline(phrase, DATE, due=end)
    return Deadline(phrase, PERIOD, start=start, due=end)


def find_deadlines(text: str) -> list[str]:
    """Time phrases as printed, in order, once each (a bare year is left out unless 到/至/于 leads it)."""
    seen: list[str] = []
    for p in find(text):
        if (p.kind != "year" or p.text[0] in "到至于") and p.text not in seen:
            seen.append(p.text)
    return seen
