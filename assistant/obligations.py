"""What a plan requires of schools, clause by clause (pure functions; I/O lives in the callers).

An item's text is cut into clauses (between 。 and ；). A clause is an obligation of schools when it
places work in schools — it names schools, kindergartens, students, courses, the campus… — and does
not read as the bureau's own business (funding, construction projects, inspection, publicity…).
A clause mixing both is read comma phrase by comma phrase (`school_span`): the record keeps the
schools' part. Each record keeps the clause (or that part) as printed, the school types it binds, its deadline (as printed
and as a date, see `deadlines`), its quantified targets with their phrase, and where it stands in the
item, so a reader can open the item with the clause highlighted.

The cue lists below are general vocabulary of education plans; none is copied from one plan.
`eval/obligations_eval.py` scores them against a hand-written gold set.
"""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import quote

from . import deadlines as dl
from .deadlines import Deadline, find_deadlines  # noqa: F401  (find_deadlines: used by the chat engine)
from .models import Item, Plan

SCHOOLS = "学校"  # schools in general
MARK_ID = "clause"  # the fragment an item link ends with: the page marks the clause with this id
PARTIES = ["幼儿园", "小学", "初中", "普通高中", "中职", "特殊教育", "民办", "高校"]
# Words naming a school type; the value is the party (or parties) they stand for.
_TYPE_WORDS = [
    (r"幼儿园|学前|入园|在园|幼儿|园所", ["幼儿园"]),
    (r"小学(?!化)|小学生|完小", ["小学"]),
    (r"初中|初级中学", ["初中"]),
    (r"普通高中|普高|高中", ["普通高中"]),
    (r"中职|职业中专|职业学校|职业教育|职校|技工学校", ["中职"]),
    (r"特殊教育|残疾|随班就读|特教|融合教育", ["特殊教育"]),
    (r"民办|公参民", ["民办"]),
    (r"高校|高等学校|高等教育|大学", ["高校"]),
    (r"义务教育", ["小学", "初中"]),
]
_GENERAL_RE = re.compile(r"中小学|各级各类学校|各校|全体学生")
# Work that happens in schools: where it is done or who does it.
_SCHOOL_CUES = re.compile(
    r"学校|校园|各校|中小学|幼儿园|小学|初中|高中|中职|职业中专|民办|学生|师生|班主任|校长负责制|"
    r"课程|课堂|课后服务|思政课|体育课|教学方式|教研|校本|德育|美育|体育|艺术活动|劳动教育|劳动实践|"
    r"心理健康|心理辅导|养成教育|法治教育|宪法教育|主题教育|读书活动|家长学校|校企|实习实训|"
    r"入学率|辍学|入园率|大班额|控辍保学|资助|学籍|食堂|安防|校车|防溺水|防欺凌|传染病|疫情防控|"
    r"近视|选课走班|特色学校|示范校|双师型|招生秩序|招生行为|办学行为|特殊教育|作业|睡眠|体质")
# A measure taken on the schools themselves: binds them whatever else the clause says.
_SCHOOL_MEASURES = re.compile(r"大班额|辍学|入学率|入园率|选课走班|创建\d+所")
# The bureau's own business, clear enough to rule a clause out (construction, money, its staff).
_BUREAU_HARD = re.compile(
    r"局机关|机关干部|党委|政府|财政|万元|投资|审计|督导|督查|编制|招考|工资|待遇|周转房|基金会|工会|信访|"
    r"启动[^，。；]{0,16}建设|建设前期|办学条件|校舍|进修学校|教科所|会议|年会|报表|借用|形式主义|党管|党建|"
    r"专项整治|培训机构|校外培训|搬迁|提质改造|学位建设|收费|办学成本")
# The bureau's business when no school acts in the clause (see `_SCHOOL_ACTOR`).
_BUREAU_SOFT = re.compile(
    r"机关|投入|经费|表彰|奖励|褒奖|宣传|舆论|媒体|网评|舆情|执法|改扩建|扩改|建设项目|新增学位|建成|"
    r"出台|制定|政策|文件|党支部|支部|党员|党风|师德|教师培训|培训体系|职级制|研修|名师|交流|评价体系|"
    r"教育资源配置|统筹|购买服务|校外实践|基地|场所|认定|兼职任教|动态调整|名额|收费|办学成本|"
    r"招生制度|招生改革|招生工作|入学政策|监测机制|评估机制|示范点|信息化|联校|设备|电脑|厕所|"
    r"运动场|等级保护|突发事件|应急|社会各界|群团|离退休|意识形态工作责任|国家基础教育|工作清单|"
    r"联动机制|跨部门|发展提升计划|提升计划|行动计划|一体化发展|适应性发展|监测和整改|工程|权利|职权")
# A school as the one who acts: overrides a soft bureau cue ("规范民办学校招生秩序", "学校…疫情防控").
_SCHOOL_ACTOR = re.compile(
    r"(?:学校|校园|幼儿园|中小学|各校|民办学校|中职学校|职业中专|普通高中|高中|初中|小学|师生|学生)(?:的)?(?:[^，、]{0,6})"
    r"(?:建设|管理|安全|防控|行为|活动|教育|课程|秩序|制度|体系|主阵地|作用|负责制|领导班子|办学|育人)")
# Plans written as 问题描述 / 目标任务 / 工作措施: the problem statement binds no one, the labels are not
# part of the requirement.
_LABEL_RE = re.compile(r"^(问题描述|目标任务|工作措施|主要措施|工作目标)[：:]")
_CLAUSE_RE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
_NUM = r"(?<![第\d.])\d+(?:\.\d+)?"
_UNITS = ("平方米|亩|人次|人|名|万元|亿元|元|个|所|间|套|台|班|学位|项|场|次|家|条|篇|节|课时|张|册|件|辆|"
          "公里|支|座|处|批|期|种|门|户|校|园")
_TARGET_RE = re.compile("|".join([
    r"\d+个\d+(?:\.\d+)?\s*[%％]",  # 4个100%: a named set of full-coverage goals
    rf"{_NUM}\s*(?:至|到|-|~|～){_NUM}\s*(?:{_UNITS})",  # 1至2项
    rf"{_NUM}\s*[%％‰](?:以上|以下|以内|左右)?",  # 95%以上
    r"(?<![\d.])\d{1,3}\s*[:：∶]\s*\d{1,3}(?![\d.])",  # 55:45 (a ratio to keep)
    rf"{_NUM}\s*(?:万|亿)?(?:{_UNITS})(?:以上|以下|以内|左右)?",  # 10000个以上, 60所
]))
# A count is a target only when the phrase sets it as one (not "以6所基地为主体", not "等5项管理").
_GOAL_VERBS = re.compile(r"达到|达(?!标)|新增|完成|创建|建成|控制在|提高到|提升到|确保|力争|消除|补充|改造|投入|"
                         r"建设|安装|购置|覆盖|培训|掌握|减少|增加|培育|打造|评选|认定")
_PHRASE_RE = re.compile(r"[^，,。；;]+")
# Coordinated parts inside a comma phrase: a bureau word rules out only the part it stands in.
# (和/与/及 join two named things; a 、 list is one enumeration and stays whole.)
_CONJUNCT_RE = re.compile(r"(?:以及|和|与|及)")
# A phrase opened by a preposition frames the next one (对标…标准，补齐…): it has no subject of its own.
_FRAME_RE = re.compile(r"^\s*(?:对标|对照|按照|依照|依据|根据|围绕|结合|依托|通过|按|以|在)")
# A share set on pupils or schools (a sector measure, like 入学率): "在校生规模占比控制在5%以内".
_SCHOOL_SHARE = re.compile(r"(?:学生|在校生|学校|幼儿园)[^，,]{0,12}?\d+(?:\.\d+)?\s*[%％]")


@dataclass
class Target:
    """A quantity the clause sets, as printed (`value`), and the phrase it stands in."""

    value: str
    phrase: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"value": self.value, "phrase": self.phrase}


@dataclass
class Obligation:
    """One requirement binding schools: a whole clause of one item, with party, deadline and targets.

    `start`/`end` are the clause's offsets in the item's text (`Item.text[start:end] == action`).
    """

    plan_id: str
    plan_title: str
    item_id: str
    number: str | None
    item_title: str
    action: str
    parties: list[str]
    start: int
    end: int
    deadline: Deadline | None = None
    targets: list[Target] = field(default_factory=list)

    @property
    def link_text(self) -> str:
        """The citation as people write it: 邵东市教育局2020年工作要点·第16项."""
        where = f"第{self.number}项" if self.number else "正文"
        return f"{self.plan_title}·{where}"

    @property
    def link(self) -> str:
        """The item page with this clause marked: /plans/{plan}/items/{n}?from=START&to=END#clause."""
        return item_link(self.plan_id, self.number or "", self.start, self.end)

    @property
    def due(self) -> date | None:
        """The due date, when the deadline gives one."""
        return self.deadline.due if self.deadline else None

    def binds(self, party: str | None) -> bool:
        """Whether this obligation applies to a school of type `party` (any school when empty)."""
        return not party or party == SCHOOLS or SCHOOLS in self.parties or party in self.parties

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the API's record)."""
        return {"plan_id": self.plan_id, "plan": self.plan_title, "item_id": self.item_id,
                "item": self.number, "item_title": self.item_title, "action": self.action,
                "parties": list(self.parties), "deadline": self.deadline.to_dict() if self.deadline else None,
                "targets": [t.to_dict() for t in self.targets],
                "quote": {"start": self.start, "end": self.end}, "link_text": self.link_text, "link": self.link}


def item_link(plan_id: str, number: str, start: int | None = None, end: int | None = None) -> str:
    """The URL of an item's page (`web_item_page`), with the passage [start, end) marked when given."""
    url = f"/plans/{quote(plan_id, safe='')}/items/{quote(number, safe='')}"
    if start is not None and end is not None:
        url += f"?from={start}&to={end}#{MARK_ID}"
    return url


def clauses(text: str) -> list[tuple[int, int, int]]:
    """(start, end, sentence number) of each clause, trailing punctuation and spaces excluded."""
    out, sentence = [], 0
    for m in _CLAUSE_RE.finditer(text or ""):
        start, end = m.start(), m.end()
        body = m.group(0)
        stripped = body.rstrip("。；;！？!? \t")
        start += len(body) - len(body.lstrip())
        end = m.start() + len(stripped)
        if end > start:
            out.append((start, end, sentence))
        if body.endswith(("。", "！", "？", "!", "?")):
            sentence += 1
    return out


def parties_of(clause: str, title: str = "") -> list[str]:
    """School types a clause binds: named in it, else named in the item title, else schools in general."""
    plain = re.sub(r"《[^》]*》", "", clause)
    if _GENERAL_RE.search(plain):
        return [SCHOOLS]
    found = _types(plain)
    in_title = _types(title)
    if in_title and set(in_title) & set(found):
        return [p for p in found if p in in_title]
    return found or in_title or [SCHOOLS]


def _types(text: str) -> list[str]:
    text = _GENERAL_RE.sub("", text)  # 中小学 is schools in general, not 小学
    found: list[str] = []
    for pattern, names in _TYPE_WORDS:
        if re.search(pattern, text):
            found += [n for n in names if n not in found]
    if "民办" in found:  # 民办义务教育: ownership is the party, the level only describes it
        found = ["民办"]
    return [p for p in PARTIES if p in found]


def _binds_schools(clause: str) -> bool:
    """Whether a clause places work in schools (the order of the tests is the precedence)."""
    if _SCHOOL_MEASURES.search(clause):
        return True
    if not _SCHOOL_CUES.search(clause) or _BUREAU_HARD.search(clause):
        return False
    return not _BUREAU_SOFT.search(clause) or bool(_SCHOOL_ACTOR.search(clause))


def _phrase_binds(phrase: str) -> bool:
    """Whether one comma phrase of a clause that fails as a whole is, on its own, work of schools.

    Stricter than a whole clause: no word of the bureau's business in the phrase, and a school named
    as the one who acts (`_SCHOOL_ACTOR`), a measure taken on schools, or a share set on pupils or
    schools ("在校生规模占比控制在5%以内"). A phrase coordinating a school's part with the bureau's
    ("深化清廉学校和清廉机关建设") keeps the school's part: a soft bureau word rules out only the
    coordinated part it stands in.
    """
    if _BUREAU_HARD.search(phrase) or _FRAME_RE.match(phrase):
        return False
    if _SCHOOL_MEASURES.search(phrase) or _SCHOOL_SHARE.search(phrase):
        return True
    if not _BUREAU_SOFT.search(phrase):
        return bool(_SCHOOL_ACTOR.search(phrase))
    parts = [p for p in _CONJUNCT_RE.split(phrase) if p.strip()]
    return len(parts) > 1 and any(_SCHOOL_CUES.search(p) and not _BUREAU_SOFT.search(p) for p in parts) and all(
        not (_SCHOOL_CUES.search(p) and _BUREAU_SOFT.search(p)) for p in parts)


def school_span(clause: str) -> tuple[int, int] | None:
    """The part of a clause that is the school's work, as (start, end) offsets in the clause.

    The whole clause when it reads as school work as a whole; otherwise, in a clause that mixes the
    bureau's work with the schools' in comma phrases (each phrase with its own implied subject), the
    span from the first to the last phrase that is the schools' on its own; None when there is none.
    """
    if _binds_schools(clause):
        return 0, len(clause)
    phrases = [m for m in _PHRASE_RE.finditer(clause) if m.group(0).strip()]
    if len(phrases) < 2 and not _CONJUNCT_RE.search(clause):
        return None
    mine = [m for m in phrases if _phrase_binds(m.group(0))]
    if not mine:
        return None
    return mine[0].start(), mine[-1].end()


def find_targets(clause: str) -> list[Target]:
    """Quantities a clause sets, each with the comma phrase it stands in (counts need a goal verb)."""
    out: list[Target] = []
    for phrase in _PHRASE_RE.finditer(clause or ""):
        text = phrase.group(0).strip()
        for m in _TARGET_RE.finditer(text):
            value = re.sub(r"\s+", "", m.group(0))
            is_share = bool(re.search(r"[%％‰:：∶]", value))
            before = text[:m.start()]
            if not is_share and (not _GOAL_VERBS.search(before) or before.endswith("等")):
                continue
            if all(t.value != value for t in out):
                out.append(Target(value=value, phrase=text))
    return out


def _deadline_in(clause: str, at_start_only: bool = False) -> dl.Phrase | None:
    for p in dl.find(clause):
        # a bare year dates the clause only when it leads it ("2020年，新增…", "确保2020年…")
        if p.kind == "year" and not (p.start <= 2 or re.search(r"(?:确保|力争|到|至|于)$", clause[:p.start])):
            continue
        if at_start_only and p.start > 2:
            continue
        return p
    return None


def extract(plan: Plan, item: Item) -> list[Obligation]:
    """The obligations of schools in one item, in text order."""
    text = item.text or ""
    out: list[Obligation] = []
    governing: tuple[int, dl.Phrase] | None = None  # a sentence-leading deadline, for its later clauses
    in_problem = False
    for start, end, sentence in clauses(text):
        clause = text[start:end]
        if start == 0 and clause.strip() == (item.title or "").strip():
            continue  # the title repeated as the item's first sentence
        label = _LABEL_RE.match(clause)
        if label:
            in_problem = label.group(1) == "问题描述"
            start += label.end()
            clause = text[start:end]
        if in_problem or not clause:
            continue
        found = _deadline_in(clause)
        if found and found.start <= 2:
            governing = (sentence, found)
        elif not found and governing and governing[0] == sentence:
            found = governing[1]
        span = school_span(clause)
        if span is None:
            continue
        a, b = _trim(clause, *span)
        action = clause[a:b]
        out.append(Obligation(
            plan_id=plan.id, plan_title=plan.title, item_id=item.id, number=item.number,
            item_title=item.title, action=action, parties=parties_of(action, item.title),
            start=start + a, end=start + b,
            deadline=dl.normalise(found.text, plan.year) if found else None, targets=find_targets(action)))
    return out


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """Offsets narrowed past surrounding spaces and commas."""
    while a < b and text[a] in " \t，,":
        a += 1
    while b > a and text[b - 1] in " \t，,":
        b -= 1
    return a, b


def for_plan(plan: Plan, party: str | None = None, before: date | None = None) -> list[Obligation]:
    """Every obligation of schools in a plan, optionally for one school type and due by a date.

    `party` is one of `PARTIES` (or `SCHOOLS`/None for all); `before` keeps dated obligations due
    on or before it (undated and recurring ones are dropped then). Raises ValueError on an unknown party.
    """
    if party and party != SCHOOLS and party not in PARTIES:
        raise ValueError(f"unknown party {party!r}: use one of {SCHOOLS}、{'、'.join(PARTIES)}")
    rows = [ob for item in plan.items if item.number is not None for ob in extract(plan, item)]
    rows = [ob for ob in rows if ob.binds(party)]
    if before is not None:
        rows = [ob for ob in rows if ob.due is not None and ob.due <= before]
    return rows


def search(rows: list[Obligation], query: str) -> list[Obligation]:
    """Obligations whose clause, item title, targets or deadline contain every word of the query."""
    words = (query or "").split()
    def hay(ob: Obligation) -> str:
        return " ".join([ob.action, ob.item_title, ob.deadline.printed if ob.deadline else "",
                         " ".join(t.phrase for t in ob.targets), "、".join(ob.parties)])
    return [ob for ob in rows if all(w in hay(ob) for w in words)]
