"""Deadlines, numeric targets and obligated parties extracted from item text (pure functions)."""
import csv
import io

import pytest

from assistant import obligations as ob
from assistant.models import Item, Plan


@pytest.mark.parametrize("text,expected", [
    ("6月底前将“公参民”学校规范到位", ["6月底前"]),
    ("9月1日前完成，10月中旬开展督查", ["9月1日前", "10月中旬"]),
    ("年内完成500套教师周转房建设", ["年内"]),
    ("2020年底，全市公办幼儿园占比超45%", ["2020年底"]),
    ("2023年底，完成校园网络重建", ["2023年底"]),
    ("2020年前将大班额比例控制在15%以内", ["2020年前"]),
    ("2020年内，完成40000平方米的校舍维修", ["2020年内"]),
    ("到2025年基本实现", ["到2025年"]),
    ("项目秋季学期投入使用，春季开学前完成", ["秋季学期", "春季开学前"]),
    ("每季度分析研判，每月开展一次", ["每季度", "每月"]),
    ("上半年完成摸底，下半年全面推开", ["上半年", "下半年"]),
    ("暑期开展教师培训", ["暑期"]),
    ("2020年全市教育工作的总体思路", []),  # a bare year is the plan's year, not a deadline
    ("深入学习贯彻习近平新时代中国特色社会主义思想", []),
])
def test_find_deadlines(text, expected):
    assert ob.find_deadlines(text) == expected


@pytest.mark.parametrize("text,values", [
    ("确保公办义务教育学校学位占比达95%以上。", ["95%以上"]),
    ("按55:45的普职分流比", ["55:45"]),
    ("普职比保持在６０：４０", ["６０：４０"]),  # full-width digits count too
    ("普职比大体相当（50：50）", ["50：50"]),
    ("新增学位10000个以上，基本消除现有646个义务教育大班额", ["10000个以上", "646个"]),
    ("投入1870万元，建筑面积52100平方米", ["1870万元", "52100平方米"]),
    ("年内力争补充新教师700人以上", ["700人以上"]),
    ("改造50所中小学校厕所，安装1710套班班通设备", ["50所", "1710套"]),
    ("初中生辍学率控制在1%以下，大班额控制在3%以内", ["1%以下", "3%以内"]),
    ("开展第36个教师节庆祝活动", []),  # an ordinal, not a target
    ("贯彻落实《3-6岁儿童学习与发展指南》", []),
    ("以习近平新时代中国特色社会主义思想为指导", []),
])
def test_find_targets(text, values):
    assert [t.value for t in ob.find_targets(text)] == values


def test_target_keeps_its_clause():
    text = "加快学位建设，高标准完成33730个学位建设任务。加强管理"
    (target,) = ob.find_targets(text)
    assert target.value == "33730个"
    assert target.clause == "高标准完成33730个学位建设任务"


def test_long_clause_is_cut_around_the_value():
    text = "以" + "甲" * 60 + "完成20所学校建设" + "乙" * 60
    (target,) = ob.find_targets(text)
    assert "20所" in target.clause and len(target.clause) <= 40


def _plan() -> Plan:
    items = [
        Item("p-2020", None, "总体要求", [], "2020年全市教育工作总体要求", kind="preamble", seq=0),
        Item("p-2020", "1", "学位建设", ["一、资源"], "各学校9月1日前完成新增学位3000个。",
             lead_units=["基教科"], responsible_units=["计财科"], seq=1),
        Item("p-2020", "2", "经费保障", ["一、资源"], "年内落实经费1200万元。",
             lead_units=["计财科"], responsible_units=["市教育直属单位"], seq=2),
        Item("p-2020", "3", "党建", ["二、党建"], "加强党的建设，提高政治站位。",
             lead_units=["党建办"], responsible_units=["计财科"], seq=3),
    ]
    return Plan(id="p-2020", title="某市教育局2020年工作要点", issuer="某市教育局", year=2020, source="p.txt",
                items=items)


def test_parties_lists_schools_then_units_by_frequency():
    assert ob.parties(_plan()) == [ob.SCHOOLS, "计财科", "党建办", "基教科", "市教育直属单位"]


def test_obligations_for_schools_and_units():
    plan = _plan()
    schools = ob.obligations(plan, ob.SCHOOLS)
    assert [o.item_id for o in schools] == ["p-2020:1"]
    assert schools[0].deadlines == ["9月1日前"]
    assert [t.value for t in schools[0].targets] == ["3000个"]
    assert [o.number for o in ob.obligations(plan, "计财科")] == ["1", "2", "3"]
    assert [o.number for o in ob.obligations(plan, "党建办")] == ["3"]
    assert [o.number for o in ob.obligations(plan, "计财科", only_quantified=True)] == ["1", "2"]
    assert len(ob.obligations(plan)) == 4  # no party: every record


def test_csv_export_round_trips():
    plan = _plan()
    text = ob.to_csv(ob.obligations(plan, "计财科", only_quantified=True), plan)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["计划"] + ob.HEADERS
    assert rows[1] == ["某市教育局2020年工作要点", "1", "学位建设", "9月1日前",
                       "3000个（各学校9月1日前完成新增学位3000个）", "基教科", "计财科", "一、资源"]
    assert rows[2][1:5] == ["2", "经费保障", "年内", "1200万元（年内落实经费1200万元）"]
    assert len(rows) == 3


def test_shipped_plans(corpus):
    shaodong = corpus.plan("shaodong-2020")
    by_number = {o.number: o for o in ob.obligations(shaodong, ob.SCHOOLS, only_quantified=True)}
    assert by_number["7"].deadlines == ["秋季学期"]
    assert [t.value for t in by_number["7"].targets] == ["10000个以上", "646个", "167个", "15%以内"]
    yongshun = corpus.plan("yongshun-2023")
    three = next(o for o in ob.obligations(yongshun) if o.number == "3")
    assert "55:45" in [t.value for t in three.targets]
    hengyang = corpus.plan("hengyang-2022")
    five = next(o for o in ob.obligations(hengyang, ob.SCHOOLS) if o.number == "5")
    assert five.deadlines == ["6月底前"]
    dazhou = corpus.plan("dazhou-2020")
    led = ob.obligations(dazhou, "市后勤与资助中心")
    assert "21" in [o.number for o in led]
    assert all("市后勤与资助中心" in o.lead_units + o.responsible_units or o.number is None for o in led)


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted():
    """OWASP CSV injection: a title, unit or plan name starting with = + - @ TAB CR is exported as text."""
    hostile = ["=HYPERLINK(\"http://x.example\",\"点击\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
               "\t=1+1", "\r=1+1"]
    items = [Item("p-2020", str(n), title, ["一、资源"], f"各学校年内完成{title}",
                  lead_units=[hostile[(n + 1) % len(hostile)]], seq=n)
             for n, title in enumerate(hostile, 1)]
    items.append(Item("p-2020", None, "总体要求", [], "各学校年内完成", seq=99))
    plan = Plan(id="p-2020", title="=cmd|' /C notepad'!A0", issuer="某市教育局", year=2020, source="p.txt",
                items=items)
    rows = list(csv.reader(io.StringIO(ob.to_csv(ob.obligations(plan), plan), newline="")))[1:]
    assert len(rows) == len(hostile) + 1
    for row, title in zip(rows, hostile):
        assert row[0] == "'=cmd|' /C notepad'!A0"
        assert row[2] == "'" + title
        assert row[5].startswith("'")
        assert not [c for c in row if c[:1] in ("=", "+", "@", "\t", "\r") or (c[:1] == "-" and c != "-")]
    assert rows[-1][1] == "-"  # the unnumbered record's placeholder is plain text
