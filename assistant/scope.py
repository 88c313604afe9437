"""Which plan a question is about: places, years, item and section numbers named in its text."""
from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from .models import Plan

YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?:\s*年(?!级)|(?=\s*(?:的|工作|计划|要点|版|$|[，。？?、\s])))")
_FINANCIAL_NUMERALS = str.maketrans("壹贰叁肆伍陆柒捌玖拾佰仟", "一二三四五六七八九十百千")
# Item and section numbers: Arabic or Chinese numerals (一百零一, 两百, 九万九千九百九十九).
_CN_NUM = r"[一二三四五六七八九十百千万零两〇]{1,16}"
ITEM_NO_RE = re.compile(
    r"第\s*(?P<a>\d{1,9}|" + _CN_NUM + r")\s*"
    r"(?:项|条|点|个任务|号任务|(?=[呢吗？?，,。\s]|$|讲|说|是|写|主要|内容|具体|有|要))"
    r"|(?<![\d.第A-Za-z\-−+_])(?P<b>\d{1,9})\s*(?:项|条|号)(?!目|件|措施|工作|任务|内容|举措|规定|准则)"
)
# "第30到33项", "第3至第5条": a run of items (at most MAX_ITEM_RANGE of them).
ITEM_RANGE_RE = re.compile(r"第\s*(?P<a>\d{1,4}|" + _CN_NUM + r")\s*(?:项|条)?\s*(?:到|至|—|－|-|~|～)\s*(?:第)?\s*"
                           r"(?P<b>\d{1,4}|" + _CN_NUM + r")\s*(?:项|条)")
MAX_ITEM_RANGE = 40
# "第-1项", "第1e9项", "第1.5项", "第0项": asks for an item no plan can have. Read as written, so that
# the lookup finds nothing and the answer says the plan's real range, rather than no number at all
# (then the question reads as one about the whole plan and gets a confident answer about it).
IMPOSSIBLE_ITEM_NO_RE = re.compile(r"第\s*(?P<n>[-−+]\s*\d[\d.eE+-]*|\d+(?:\.\d+)?[eE][-+]?\d+|\d+\.\d+|0+|负[一二三四五六七八九十百千万零两〇]+)"
                                   r"\s*(?:项|条)")
SECTION_NO_RE = re.compile(r"第\s*(?P<n>\d{1,9}|" + _CN_NUM + r")\s*(?:部分|大项|板块|大块|章|方面|大类)")
SHORT_YEAR_RE = re.compile(r"(?<![\d.])([12]\d)\s*年(?=(?:的|那份|那个|这份)?(?:工作)?(?:要点|计划|那份|那个|版))")
ADMIN_SUFFIX_RE = re.compile(r"(?:市|县|区|自治县|自治州|州|省|自治区|特别行政区|地区|盟|旗)$")


@dataclass
class Scope:
    """The plans a question points at, and what it named that the corpus lacks."""

    plan_ids: list[str] | None = None  # None: all plans; []: none of the corpus
    places: list[str] = field(default_factory=list)  # known places named
    year: int | None = None
    unknown_place: str | None = None
    unknown_year: int | None = None
    item_number: str | None = None
    section_number: int | None = None
    item_range: tuple[int, int] | None = None  # "第30到33项": first and last item numbers

    @property
    def explicit(self) -> bool:
        return bool(self.places or self.year)

    @property
    def out_of_corpus(self) -> bool:
        return bool(self.unknown_place or self.unknown_year)


def short_place(place: str) -> str:
    if len(place) <= 2:
        return place
    return ADMIN_SUFFIX_RE.sub("", place) or place


def plan_aliases(plan: Plan) -> list[str]:
    return list(_aliases(plan.place, plan.issuer))


@lru_cache(maxsize=65536)
def _aliases(place: str, issuer: str) -> tuple[str, ...]:
    """The names a plan goes by, longest first; remembered, as every question checks every plan's."""
    names = {place, short_place(place), issuer}
    return tuple(sorted((n for n in names if n and len(n) >= 2), key=len, reverse=True))


@lru_cache(maxsize=8)
def _alias_table(places: tuple[tuple[str, str], ...]) -> tuple[dict[str, tuple[int, ...]], int, frozenset[str]]:
    """For plans given as (place, issuer): each name → the plans' positions, the longest name's length,
    and every name. Remembered per plan list (a few builds' worth)."""
    table: dict[str, list[int]] = {}
    for n, (place, issuer) in enumerate(places):
        for alias in _aliases(place, issuer):
            table.setdefault(alias, []).append(n)
    return ({a: tuple(v) for a, v in table.items()}, max(map(len, table), default=0), frozenset(table))


@lru_cache(maxsize=1)
def gazetteer() -> tuple[frozenset[str], frozenset[str]]:
    """(names with their suffix, short names of prefecture-level cities) from cpca's adcode table."""
    from importlib import metadata

    full: set[str] = set()
    short_cities: set[str] = set()
    try:
        # Read the data file without importing cpca (its import builds a matcher we do not need).
        path = metadata.distribution("cpca").locate_file("cpca/resources/adcodes.csv")
        text = open(str(path), encoding="utf-8").read()
    except (metadata.PackageNotFoundError, OSError):
        return frozenset(), frozenset()
    for row in csv.DictReader(text.splitlines()):
        name, code = row["name"], row["adcode"]
        if not name or name in ("市辖区", "县", "省直辖县级行政区划"):
            continue
        full.add(name)
        # prefecture-level cities, and the four municipalities (北京, 天津, 上海, 重庆), which are cities
        # at province level: a bare "北京第17项" names a place the corpus lacks just as "成都第1项" does
        if code.endswith("00000000") and (not code.endswith("0000000000") or name.endswith("市")):
            short = short_place(name)
            if len(short) >= 2:
                short_cities.add(short)
    return frozenset(full), frozenset(short_cities)


def _mentioned_unknown_place(question: str, known: set[str] | frozenset[str]) -> str | None:
    full, short_cities = gazetteer()
    # "湖南省2023年…": a province is a place of its own, not any county or city plan inside it
    for m in re.finditer(r"[\u4e00-\u9fff]{2,3}?省(?=\s*(?:(?:19|20)\d{2}|教育|的?(?:工作)?要点|今年|明年|去年|的?第))", question):
        for start in range(m.start(), m.end() - 2):
            cand = question[start:m.end()]
            if cand in full and cand not in known:
                return cand
    for m in re.finditer(r"[\u4e00-\u9fff]{2,8}?(?:市|县|区|自治县|州)", question):
        for start in range(m.start(), m.end() - 2):
            cand = question[start:m.end()]
            if cand in full and cand not in known and short_place(cand) not in known:
                return cand
    for name in sorted(short_cities, key=len, reverse=True):
        if name in question and name not in known and not any(name in k or k in name for k in known):
            return name
    # "某某2021年…" / "某某教育局": a place-like word the gazetteer may not list
    named = re.search(r"([\u4e00-\u9fff]{2,4}?)(?:市|县|区)?(?:教育局|教体局|教育和体育局|(?=(?:19|20)\d{2}))", question)
    if named and named.group(1) not in known and not any(named.group(1) in k for k in known):
        word = named.group(1)
        if word in short_cities or f"{word}市" in full or f"{word}县" in full or f"{word}区" in full:
            return word
    return None


def parse_number(text: str) -> int:
    """'17' -> 17, '二十三' -> 23, '一百零一' -> 101 (cn2an); 0 when it is not a number."""
    if text.isdigit():
        return int(text)
    import cn2an

    try:
        return int(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, TypeError):
        return 0


def resolve_scope(question: str, plans: list[Plan], default_plan: str | None = None) -> Scope:
    """Plans named by place and/or year; unknown places or years are reported, never widened."""
    scope = Scope()
    # full-width digits (第１７项) read as digits, financial numerals (第壹佰项) as ordinary ones
    q = unicodedata.normalize("NFKC", question).translate(_FINANCIAL_NUMERALS)
    by_alias, longest, known_places = _alias_table(tuple((p.place, p.issuer) for p in plans))
    # the plans one of whose names is a substring of the question: the question's substrings looked up
    # (work in the question's length, not the number of plans)
    hit = {n for start in range(len(q)) for end in range(start + 2, min(len(q), start + longest) + 1)
           for n in by_alias.get(q[start:end], ())}
    named = [plans[n] for n in sorted(hit)]
    scope.places = list(dict.fromkeys(p.place for p in named))
    years = [int(m.group(1)) for m in YEAR_RE.finditer(q)]
    if not years:
        # "达州20年那份", "衡阳22年要点": a two-digit year naming a plan (not "20年来", "三年行动")
        m = SHORT_YEAR_RE.search(q)
        if m:
            years = [2000 + int(m.group(1))]
    if years:
        scope.year = years[0]
    if not named:
        scope.unknown_place = _mentioned_unknown_place(q, known_places)
    if named:
        candidates = named
    elif scope.unknown_place:
        candidates = []
    else:
        candidates = [p for p in plans if default_plan is None or p.id == default_plan]
    if scope.year is not None and not scope.unknown_place:
        # "达州2020、邵东2020、永顺2023": each named year keeps the plans of that year
        with_year = [p for p in candidates if p.year in years]
        if not with_year:
            scope.unknown_year = scope.year
        candidates = with_year
    if named or scope.year is not None or scope.unknown_place or default_plan:
        scope.plan_ids = [p.id for p in candidates]
    m = SECTION_NO_RE.search(q)
    if m:
        scope.section_number = parse_number(m.group("n"))
    impossible = IMPOSSIBLE_ITEM_NO_RE.search(q)
    m = ITEM_NO_RE.search(q)
    run = ITEM_RANGE_RE.search(q)
    if run and not impossible:
        first, last = parse_number(run.group("a")), parse_number(run.group("b"))
        if 1 <= first < last and last - first < MAX_ITEM_RANGE:
            scope.item_range = (first, last)
            return scope
    if impossible:  # before the plain reading, which would take "第 - 3 条" for item 3
        scope.item_number = re.sub(r"\s+", "", impossible.group("n"))
    elif m and not (scope.year and m.group("b") and int(m.group("b")) == scope.year):
        raw = m.group("a") or m.group("b")
        value = parse_number(raw)
        # 第零项 / 第〇项 name no item: kept as written, so the lookup refuses with the plan's range
        scope.item_number = str(value) if value > 0 else raw
    return scope
