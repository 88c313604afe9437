"""Plan layouts seen in the wild (fixture plans in tests/fixtures/plans/): a title printed over
several lines, no title at all, a paragraph continuing an item after a page break or after the
item's unit lines, and a closing paragraph after the last item."""
from pathlib import Path

import pytest

from assistant.corpus import load_plan
from assistant.parser import parse_plan

FIXTURES = Path(__file__).parent / "fixtures" / "plans"


def _item(plan, number):
    found = plan.item(number)
    assert found is not None, f"{plan.id} has no item {number}"
    return found


def test_title_split_over_issuer_and_year_lines_keeps_place_and_year():
    plan = load_plan(FIXTURES / "yiyang-2021-split-title.txt")
    assert plan.title == "益阳市教育局2021年工作要点"
    assert plan.full_title == "益阳市教育局中共益阳市委教育工作委员会2021年工作要点"
    assert (plan.id, plan.place, plan.year, plan.issuer) == ("yiyang-2021", "益阳市", 2021, "益阳市教育局")
    assert plan.co_issuers == ["中共益阳市委教育工作委员会"]
    assert plan.doc_number == "益教发〔2021〕3号" and plan.issue_date == "2021-03-10"
    # the issuer lines are the title's, not the header's; the signature above them is the header's
    assert plan.header.splitlines()[-2:] == ["益阳市教育局", "2021年3月10日"]
    assert not plan.warnings


def test_title_split_after_the_year_and_on_three_lines():
    plan = load_plan(FIXTURES / "loudi-2022-units.txt")
    assert (plan.title, plan.place, plan.year, plan.id) == ("娄底市教育局2022年工作要点", "娄底市", 2022, "loudi-2022")
    text = "永顺县教育和体育局2023年\n工作要点\n\n一、总则\n\n1.发展学前教育。新建幼儿园3所。\n"
    plan = parse_plan(text, "x.txt")
    assert (plan.title, plan.place, plan.year) == ("永顺县教育和体育局2023年工作要点", "永顺县", 2023)


def test_a_signature_above_a_bare_title_is_not_part_of_it_but_names_the_plan():
    text = "各学校：\n现将要点印发。\n益阳市教育局\n2021年3月1日\n\n2021年工作要点\n\n一、总则\n\n1.抓好安全。每月检查一次。\n"
    plan = parse_plan(text, "plan.txt")
    assert (plan.title, plan.place, plan.year) == ("益阳市教育局2021年工作要点", "益阳市", 2021)
    assert plan.full_title == "2021年工作要点" and plan.header.endswith("益阳市教育局\n2021年3月1日")
    assert any("'益阳市教育局' taken from the notice" in w for w in plan.warnings)


def test_title_from_the_file_name_when_the_text_has_none_with_a_warning():
    plan = load_plan(FIXTURES / "湘潭市-2024.txt")
    assert (plan.title, plan.place, plan.year, plan.id) == ("湘潭市2024年工作要点", "湘潭市", 2024, "xiangtan-2024")
    assert any("'湘潭市' taken from the file name" in w for w in plan.warnings)
    assert any("2024 taken from the file name" in w for w in plan.warnings)
    assert [i.number for i in plan.numbered_items] == ["1", "2"]


def test_no_place_anywhere_is_said_plainly():
    plan = load_plan(FIXTURES / "untitled.txt")
    assert plan.title == "untitled" and plan.place == "" and plan.year is None
    assert any("no title line" in w for w in plan.warnings)
    assert any("until its metadata is corrected" in w for w in plan.warnings)


def test_paragraph_after_a_page_break_belongs_to_its_item_even_at_the_end_of_a_section():
    plan = load_plan(FIXTURES / "yiyang-2021-split-title.txt")
    second = _item(plan, "2")
    assert second.text.endswith("同时，建立舆情监测和处置机制，重大舆情2小时内上报，确保校园意识形态安全。")
    assert "- 3 -" not in second.text
    # nothing between item 2 and item 3 became a record of its own
    unnumbered = [i for i in plan.items if i.number is None]
    assert [i.kind for i in unnumbered] == ["preamble", "text"]


def test_only_text_after_the_last_item_is_a_closing_paragraph():
    plan = load_plan(FIXTURES / "yiyang-2021-split-title.txt")
    closing = plan.items[-1]
    assert closing.number is None and closing.kind == "text"
    assert closing.text.startswith("各单位要对照本要点") and closing.section == ["二、推进教育优质均衡"]
    assert "各单位要对照本要点" not in _item(plan, "5").text


def test_text_after_an_items_unit_lines_continues_that_item():
    plan = load_plan(FIXTURES / "loudi-2022-units.txt")
    first = _item(plan, "1")
    assert first.text.endswith("同时开展幼儿园保教质量评估，对评估不达标的幼儿园限期整改。")
    assert (first.lead_units, first.responsible_units) == (["基教科"], ["计财科", "督导室"])
    assert [i.id for i in plan.items if i.number is None] == ["loudi-2022:p3"]
    closing = plan.items[-1]
    assert closing.text.startswith("各县市区教育局要结合实际") and "各县市区" not in _item(plan, "3").text
    assert _item(plan, "3").responsible_units == ["师训科"]


def test_wrapped_unit_list_is_still_joined_not_taken_for_a_continuation():
    text = ("某县教育局2024年工作要点\n\n一、总则\n\n1.抓好安全\n\n工作措施：每月检查一次。\n\n"
            "牵头科室：安全办\n\n责任科室：基教科、\n计财科、督导室\n\n2.加强培训\n\n工作措施：年内全员培训。\n\n"
            "牵头科室：师训科\n\n责任科室：人事科\n")
    plan = parse_plan(text, "x.txt")
    assert _item(plan, "1").responsible_units == ["基教科", "计财科", "督导室"]
    assert "计财科" not in _item(plan, "1").text


@pytest.mark.parametrize("suffix", [".docx"])
def test_split_title_in_a_docx(tmp_path, suffix):
    import docx

    document = docx.Document()
    for line in (FIXTURES / "yiyang-2021-split-title.txt").read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    path = tmp_path / f"plan{suffix}"
    document.save(path)
    plan = load_plan(path)
    assert (plan.title, plan.place, plan.year) == ("益阳市教育局2021年工作要点", "益阳市", 2021)
    assert _item(plan, "2").text.endswith("确保校园意识形态安全。")
