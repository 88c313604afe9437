"""Who must do what, by when: deadlines and numeric targets pulled from item text (pure functions).

Used by the 校长视角 tab: pick a plan and an obligated party (学校/各校, or a unit named in the
plan's 牵头/责任 columns) and get the binding items with their deadlines and quantified targets,
exportable as CSV. Extraction is deliberately plain regex over the item text: every value shown
is a substring of the plan, never a paraphrase.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from .models import Item, Plan

SCHOOLS = "学校（各校）"
ALL = ""  # no party filter: every record of the plan
# Spreadsheets run a cell starting with these as a formula (=HYPERLINK(…), +cmd|…, @SUM…): OWASP's
# CSV-injection advice is to prefix such a cell with a single quote so it is shown as text.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NO_NUMBER = "-"  # the placeholder for an unnumbered record: plain text, left as it is

_CN = "一二三四五六七八九十"
_DEADLINE_RE = re.compile(
    "|".join([
        # 6月底前, 9月1日前, 2020年6月底, 十月中旬
        rf"(?:(?:19|20)\d{{2}}年)?(?:\d{{1,2}}|[{_CN}]{{1,2}})月(?:\d{{1,2}}日)?(?:底|末|初|中旬|上旬|下旬)?(?:前|以前|之前)?",
        # 2020年底, 2020年内, 2020年前, 到2025年
        r"(?:19|20)\d{2}年(?:年底|底|末|内|前|以前|之前)前?",
        r"(?:到|至|于)(?:19|20)\d{2}年",
        # 年内, 年底前, 上半年, 第三季度, 每季度
        rf"年内|年底前|年底|年末|本年度|上半年|下半年|第[{_CN}]季度|每季度|每学期|每月|每半年",
        # 秋季学期, 春季开学前, 暑期, 寒暑假
        r"(?:春季|秋季|春|秋)(?:学期|开学前|开学)|开学前|寒暑假|寒假|暑假|暑期",
    ])
)
_NUM = r"(?<![第\d.])\d+(?:\.\d+)?"  # not an ordinal (第36个) nor the tail of a longer number
_UNITS = ("平方米|亩|人次|人|名|万元|亿元|元|个|所|间|套|台|班|学位|项|场|次|家|条|篇|节|课时|张|册|件|辆|"
          "公里|支|座|处|批|期|种|门|户|校|园")
_TARGET_RE = re.compile(
    "|".join([
        rf"{_NUM}\s*[%％‰](?:以上|以下|以内|左右)?",  # 95%以上
        r"(?<![\d.])\d{1,3}\s*[:：∶]\s*\d{1,3}(?![\d.])",  # 55:45
        rf"{_NUM}\s*(?:万|亿)?(?:{_UNITS})(?:以上|以下|以内|左右)?",  # 33730个, 1870万元, 52100平方米
    ])
)
_CLAUSE_RE = re.compile(r"[^，,。；;！？!?\n]+")
# Items that name schools (as actors or as where the work happens) bind a principal.
_SCHOOL_RE = re.compile(r"学校|各校|各园|中小学|幼儿园|校园|校长|班主任|中职|高中|高校")


@dataclass
class Target:
    """A numeric target as printed, and the clause it stands in."""

    value: str
    clause: str


@dataclass
class Obligation:
    """One item binding the chosen party, with what the text says about when and how much."""

    plan_id: str
    item_id: str
    number: str | None
    title: str
    section: list[str]
    lead_units: list[str]
    responsible_units: list[str]
    deadlines: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def row(self) -> list[str]:
        """The table / CSV row, in HEADERS order."""
        return [
            self.number or NO_NUMBER,
            self.title,
            "；".join(self.deadlines),
            "；".join(f"{t.value}（{t.clause}）" for t in self.targets),
            "、".join(self.lead_units),
            "、".join(self.responsible_units),
            " > ".join(self.section),
        ]


HEADERS = ["编号", "标题", "期限", "量化目标", "牵头单位", "责任单位", "部分"]


def _unique(values) -> list[str]:
    seen: list[str] = []
    for v in values:
        if v and v not in seen:
            seen.append(v)
    return seen


def find_deadlines(text: str) -> list[str]:
    """Deadlines and schedules as printed (6月底前, 年内, 2020年底, 秋季学期, 每季度), in order, once each."""
    return _unique(m.group(0) for m in _DEADLINE_RE.finditer(text or ""))


def _clause_at(text: str, start: int, end: int, limit: int = 40) -> str:
    for m in _CLAUSE_RE.finditer(text):
        if m.start() <= start and end <= m.end():
            clause = m.group(0).strip()
            if len(clause) > limit:  # keep the value and what is right around it
                lo = max(0, start - m.start() - limit // 2)
                clause = clause[lo:lo + limit]
            return clause
    return text[start:end]


def find_targets(text: str) -> list[Target]:
    """Percentages, counts with units (个/所/人/万元/平方米…) and ratios (55:45), each with its clause."""
    text = text or ""
    out: list[Target] = []
    for m in _TARGET_RE.finditer(text):
        value = re.sub(r"\s+", "", m.group(0))
        if any(t.value == value for t in out):
            continue
        out.append(Target(value=value, clause=_clause_at(text, m.start(), m.end())))
    return out


def parties(plan: Plan) -> list[str]:
    """Obligated parties a plan names: 学校（各校） first, then its units by how often they appear."""
    counts: dict[str, int] = {}
    for item in plan.items:
        for unit in item.lead_units + item.responsible_units:
            counts[unit] = counts.get(unit, 0) + 1
    return [SCHOOLS] + sorted(counts, key=lambda u: (-counts[u], u))


def binds(item: Item, party: str | None) -> bool:
    """Whether an item obliges the party: schools by wording, a unit by the 牵头/责任 columns (or text)."""
    if not party:
        return True
    if party == SCHOOLS:
        return bool(_SCHOOL_RE.search(item.text or "")) or any(
            _SCHOOL_RE.search(u) for u in item.lead_units + item.responsible_units)
    return party in item.lead_units or party in item.responsible_units or party in (item.text or "")


def obligations(plan: Plan, party: str | None = None, only_quantified: bool = False) -> list[Obligation]:
    """The plan's records that bind `party` (all records when empty), with deadlines and targets."""
    rows: list[Obligation] = []
    for item in plan.items:
        if not item.text or not binds(item, party):
            continue
        ob = Obligation(plan_id=plan.id, item_id=item.id, number=item.number, title=item.title,
                        section=list(item.section), lead_units=list(item.lead_units),
                        responsible_units=list(item.responsible_units),
                        deadlines=find_deadlines(item.text), targets=find_targets(item.text))
        if only_quantified and not (ob.deadlines or ob.targets):
            continue
        rows.append(ob)
    return rows


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    if value != NO_NUMBER and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def to_csv(rows: list[Obligation], plan: Plan | None = None) -> str:
    """CSV text (header + one row per obligation); a leading 计划 column when `plan` is given."""
    buf = io.StringIO()
    # RFC 4180 line ends: with "\n" alone a bare CR inside a cell would go unquoted and split the row.
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow((["计划"] if plan else []) + HEADERS)
    for ob in rows:
        writer.writerow([safe_cell(c) for c in ([plan.title] if plan else []) + ob.row()])
    return buf.getvalue()
