"""Clause-level obligations: time phrases, targets, parties, records on the shipped plans, exports read back."""
import csv
import io
from datetime import date

import pytest

from assistant import deadlines as dl
from assistant import obligation_export as export
from assistant import obligations as ob
from assistant.models import Item, Plan


@pytest.mark.parametrize("text,expected", [
    ("6月底前将“公参民”学校规范到位", ["6月底前"]),
    ("9月1日前完成，10月中旬开展督查", ["9月1日前", "10月中旬"]),
    ("年内完成500套教师周转房建设", ["年内"]),
    ("2020年底，全市公办幼儿园占比超45%", ["2020年底"]),
    ("2020年前将大班额比例控制在15%以内", ["2020年前"]),
    ("2020年内，完成40000平方米的校舍维修", ["2020年内"]),
    ("到2025年基本实现", ["到2025年"]),
    ("项目秋季学期投入使用，春季开学前完成", ["秋季学期", "春季开学前"]),
    ("每季度分析研判，每月开展一次，每学期一次", ["每季度", "每月", "每学期"]),
    ("上半年完成摸底，下半年全面推开", ["上半年", "下半年"]),
    ("2020年全市教育工作的总体思路", []),  # a bare year is the plan's year, not a deadline
    ("落实《2020年学校安全工作要点》", []),  # nor a year inside a title
])
def test_find_deadlines(text, expected):
    assert ob.find_deadlines(text) == expected


@pytest.mark.parametrize("phrase,kind,start,due", [
    ("6月底前", dl.DATE, None, date(2020, 6, 30)),
    ("9月1日前", dl.DATE, None, date(2020, 9, 1)),
    ("年内", dl.DATE, None, date(2020, 12, 31)),
    ("年底前", dl.DATE, None, date(2020, 12, 31)),
    ("2021年底", dl.DATE, None, date(2021, 12, 31)),  # a printed year wins over the plan's
    ("秋季学期", dl.PERIOD, date(2020, 9, 1), date(2021, 1, 31)),  # the school term, not autumn
    ("春季开学前", dl.DATE, None, date(2020, 2, 28)),
    ("第三季度", dl.PERIOD, date(2020, 7, 1), date(2020, 9, 30)),
    ("十月中旬", dl.PERIOD, date(2020, 10, 11), date(2020, 10, 20)),
])
def test_normalise_in_the_plan_year(phrase, kind, start, due):
    d = dl.normalise(phrase, 2020)
    assert (d.printed, d.kind, d.start, d.due) == (phrase, kind, start, due)


def test_recurring_and_yearless_phrases_have_no_date():
    for phrase in ("每月", "每学期", "每季度", "定期"):
        d = dl.normalise(phrase, 2020)
        assert d.kind == dl.RECURRING and d.due is None and d.every == phrase
    assert dl.normalise("6月底前", None).due is None  # a plan without a year: no invented date


@pytest.mark.parametrize("text,values", [
    ("确保公办义务教育学校学位占比达95%以上", ["95%以上"]),
    ("按55:45的普职分流比", ["55:45"]),
    ("新增学位10000个以上，基本消除现有646个义务教育大班额", ["10000个以上", "646个"]),
    ("推进中小学幼儿园安全防范建设“4个100%”", ["4个100%"]),
    ("帮助学生掌握1至2项终身受益的体艺技能", ["1至2项"]),
    ("初中生辍学率控制在1%以下，大班额控制在3%以内", ["1%以下", "3%以内"]),
    ("加强作业、睡眠、手机、读物、体质等5项管理", []),  # a tally of what is listed, not a target
    ("以6所基地、20所窗口学校为主体", []),  # participants, not a target
    ("班额不超过56人的学校", []),  # a threshold with no goal verb
    ("开展第36个教师节庆祝活动", []),  # an ordinal
])
def test_find_targets_keep_goals_only(text, values):
    assert [t.value for t in ob.find_targets(text)] == values


def test_target_keeps_its_noun_phrase():
    (t,) = ob.find_targets("2020年底，全市公办幼儿园占比超45%")
    assert t.phrase == "全市公办幼儿园占比超45%"


def _plan() -> Plan:
    text = ("课后服务。问题描述：课后服务覆盖面不足。工作措施：2021年底前，各中小学校实现课后服务全覆盖，"
            "每天不少于2小时；加大财政投入，落实经费1200万元。民办学校每学期开展一次安全演练。")
    items = [Item("p-2021", "1", "课后服务", ["一、育人"], text, seq=1),
             Item("p-2021", None, "附则", [], "各学校年内完成自查。", kind="text", seq=2)]
    return Plan(id="p-2021", title="某市教育局2021年工作要点", issuer="某市教育局", year=2021, source="p.txt",
                items=items)


def test_extract_keeps_school_clauses_whole_and_dated():
    plan = _plan()
    rows = ob.for_plan(plan)
    assert [r.action for r in rows] == ["2021年底前，各中小学校实现课后服务全覆盖，每天不少于2小时",
                                        "民办学校每学期开展一次安全演练"]
    first, second = rows
    # the problem statement and the bureau's money are not school obligations; the label is cut off
    assert first.parties == [ob.SCHOOLS] and first.due == date(2021, 12, 31)
    assert plan.items[0].text[first.start:first.end] == first.action
    assert second.parties == ["民办"] and second.deadline.kind == dl.RECURRING
    assert first.link_text == "某市教育局2021年工作要点·第1项"
    # a duty of schools in general binds every type; a 民办 duty binds no kindergarten of the state
    assert [r.action for r in ob.for_plan(plan, "民办")] == [first.action, second.action]
    assert [r.action for r in ob.for_plan(plan, "幼儿园")] == [first.action]
    assert [r.action for r in ob.for_plan(plan, before=date(2021, 12, 31))] == [first.action]
    assert ob.for_plan(plan, before=date(2021, 6, 30)) == []
    with pytest.raises(ValueError, match="unknown party"):
        ob.for_plan(plan, "党政机关")


def test_a_later_clause_inherits_the_deadline_leading_its_sentence():
    item = Item("p-2020", "9", "学前教育", [], "2020年底，全市公办幼儿园占比超45%；学前三年毛入园率达85%以上。")
    plan = Plan(id="p-2020", title="某县2020年工作要点", issuer="某县", year=2020, source="p.txt", items=[item])
    rows = ob.for_plan(plan, "幼儿园")
    assert [r.deadline.printed for r in rows] == ["2020年底", "2020年底"]
    assert [r.parties for r in rows] == [["幼儿园"], ["幼儿园"]]


def _whole(plan, r) -> bool:
    """A whole clause, or the school's comma-bounded part of a clause that mixes in the bureau's work."""
    text = plan.item(r.number).text
    after, before = text[r.end:r.end + 1], text[r.start - 1:r.start] if r.start else ""
    return (text[r.start:r.end] == r.action and (not after or after in "。；;！？!?，,")
            and (not before or before in "。；;！？!?，, \n：:"))


def test_a_mixed_sentence_keeps_the_schools_part_only(corpus):
    hengyang = corpus.plan("hengyang-2022")
    rows = ob.for_plan(hengyang)
    # 专项整治三年行动 is the bureau's; the comma phrase after it is the schools' own
    safety = next(r for r in rows if "深化校园安全专项整顿" in r.action)
    assert "专项整治" not in safety.action and _whole(hengyang, safety)
    # a share set on private-school pupils, after the bureau's purchase of places
    private = next(r for r in rows if "在校生规模占比" in r.action)
    assert "政府购买学位" not in private.action and [t.value for t in private.targets] == ["5%以内"]
    assert private.parties == ["民办"]
    # 清廉学校 coordinated with 清廉机关: kept for the school's part; the audit sentence is not
    assert any("清廉学校" in r.action for r in rows) and not any("审计" in r.action for r in rows)


def test_a_phrase_framed_by_a_preposition_or_with_bureau_words_is_not_rescued():
    text = "对标省定学校办学标准，补齐学校办学条件短板。落实财政投入政策，加强学校安全管理。"
    plan = Plan(id="p-2020", title="某县2020年工作要点", issuer="某县", year=2020, source="p.txt",
                items=[Item("p-2020", "1", "条件保障", [], text)])
    assert [r.action for r in ob.for_plan(plan)] == ["加强学校安全管理"]


def test_shipped_plans_give_whole_clauses_and_real_deadlines(corpus):
    counts = {p.id: len(ob.for_plan(p)) for p in corpus.plans}
    assert all(n >= 20 for n in counts.values()), counts
    for plan in corpus.plans:
        assert all(_whole(plan, r) for r in ob.for_plan(plan))
    shaodong, hengyang = corpus.plan("shaodong-2020"), corpus.plan("hengyang-2022")
    canteen = next(r for r in ob.for_plan(shaodong) if "明厨亮灶" in r.action)
    assert canteen.deadline.printed == "年内" and canteen.due == date(2020, 12, 31)
    (private,) = ob.for_plan(hengyang, "民办", before=date(2022, 6, 30))
    assert "“公参民”学校全部转为公办" in private.action and private.due == date(2022, 6, 30)
    kindergarten = ob.for_plan(shaodong, "幼儿园")
    assert any(t.phrase == "全市公办幼儿园占比超45%" for r in kindergarten for t in r.targets)
    # party building of the bureau and higher-education exams are not a school's checklist
    assert not any("党管" in r.action or "专升本" in r.action for p in corpus.plans for r in ob.for_plan(p))


def test_search_narrows_by_every_word(corpus):
    rows = ob.for_plan(corpus.plan("shaodong-2020"))
    found = ob.search(rows, "体育 学生")
    assert found and all("体育" in r.action + r.item_title and "学生" in r.action + r.item_title for r in found)
    assert ob.search(rows, "") == rows


def _risky() -> list[ob.Obligation]:
    rows = ob.for_plan(_plan())
    rows[0].action = "=HYPERLINK(\"http://x\")，各中小学校实现课后服务全覆盖"
    return rows


def test_csv_export_is_formula_safe():
    rows = list(csv.reader(io.StringIO(export.to_csv(_risky()), newline="")))
    assert rows[0] == export.HEADERS and len(rows) == 3
    assert rows[1][3].startswith("'=HYPERLINK") and rows[1][5] == "2021-12-31"


def test_xlsx_export_reads_back():
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(export.to_xlsx(_risky()))).active
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0] == export.HEADERS and len(values) == 3
    assert values[1][3].startswith("'=HYPERLINK")  # text, not a formula
    assert values[1][5].date() == date(2021, 12, 31)  # a real date cell
    assert values[2][4] == "每学期" and values[2][5] == "每学期"
    assert values[1][8] == "某市教育局2021年工作要点·第1项"


def test_ics_export_holds_the_dated_obligations(corpus):
    from icalendar import Calendar

    rows = ob.for_plan(corpus.plan("shaodong-2020"))
    cal = Calendar.from_ical(export.to_ics(rows, name="邵东"))
    events = list(cal.walk("VEVENT"))
    dated = [r for r in rows if r.due]
    assert len(events) == len(dated) >= 5
    days = sorted(e.decoded("dtstart") for e in events)
    assert days[0] >= date(2020, 1, 1) and days[-1] <= date(2021, 1, 31)
    assert len({str(e["uid"]) for e in events}) == len(events)
    canteen = next(e for e in events if "明厨亮灶" in str(e["description"]))
    assert canteen.decoded("dtstart") == date(2020, 12, 31) and str(canteen["summary"]).startswith("年内")


def test_every_record_links_to_its_item_page_with_the_clause(corpus):
    from urllib.parse import parse_qs, urlsplit

    from assistant.web_principal import card_html, site_base

    plan = corpus.plan("hengyang-2022")
    for r in ob.for_plan(plan):
        url = urlsplit(r.link)
        q = {k: int(v[0]) for k, v in parse_qs(url.query).items()}
        assert url.path == f"/plans/hengyang-2022/items/{r.number}" and url.fragment == "clause"
        assert plan.item(r.number).text[q["from"]:q["to"]] == r.action
    first = ob.for_plan(plan)[0]
    assert f"href='{first.link.replace('&', '&amp;')}'" in card_html(plan, first)
    assert site_base({"host": "10.0.0.5:7860"}) == "http://10.0.0.5:7860"
    assert site_base({"host": "a.example", "x-forwarded-proto": "https"}) == "https://a.example"
    assert site_base({"host": "evil'><script>"}) == "" and site_base({}) == ""


def test_exports_carry_absolute_links_when_the_site_is_known(corpus):
    from icalendar import Calendar
    from openpyxl import load_workbook

    rows = ob.for_plan(corpus.plan("shaodong-2020"))
    base = "http://127.0.0.1:7860"
    ws = load_workbook(io.BytesIO(export.to_xlsx(rows, base))).active
    link_col, source_col = export.HEADERS.index("链接"), export.HEADERS.index("出处")
    body = list(ws.iter_rows(min_row=2))
    assert [r[link_col].value for r in body] == [base + r.link for r in rows]
    assert body[0][source_col].hyperlink.target == base + rows[0].link
    events = list(Calendar.from_ical(export.to_ics(rows, base=base)).walk("VEVENT"))
    assert events and all(str(e["url"]).startswith(base + "/plans/shaodong-2020/items/") for e in events)
    assert list(csv.reader(io.StringIO(export.to_csv(rows, base))))[1][-1] == base + rows[0].link
