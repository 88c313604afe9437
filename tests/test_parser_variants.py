"""The parser on the wider family of plans: other encodings, .docx, inline units, deeper
hierarchies, numbers inside sentences, page furniture, validation and bad files."""
import codecs
import shutil

import pytest

from assistant.corpus import load_corpus, load_plan
from assistant.loaders import PlanFileError, decode_bytes, read_plan_file
from assistant.parser import parse_plan


def _units(plan):
    return {i.number: (i.lead_units, i.responsible_units) for i in plan.numbered_items}


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-8-sig"])
def test_reencoded_plan_parses_identically(corpus, plans_dir, tmp_path, encoding):
    text = (plans_dir / "dazhou-2020.txt").read_text(encoding="utf-8")
    if encoding == "gbk":
        text = text.replace("\u2022", "\u00b7")  # the one character GBK lacks (GB18030 has it)
    data = text.encode(encoding)
    if encoding == "utf-16":
        assert data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    path = tmp_path / "dazhou.txt"
    path.write_bytes(data)
    plan = load_plan(path)
    original = corpus.plan("dazhou-2020")
    assert plan.id == original.id
    assert [i.title for i in plan.items] == [i.title for i in original.items]
    assert _units(plan) == _units(original)


def test_docx_plan_built_in_the_test_parses_like_the_text(corpus, plans_dir, tmp_path):
    import docx

    document = docx.Document()
    for line in (plans_dir / "shaodong-2020.txt").read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    path = tmp_path / "邵东.docx"
    document.save(path)
    plan = load_plan(path)
    original = corpus.plan("shaodong-2020")
    assert plan.title == original.title
    assert [(i.number, i.title, i.section) for i in plan.items] == [(i.number, i.title, i.section) for i in original.items]


def test_docx_table_with_unit_columns_becomes_items_with_units(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("某县教育局2024年工作要点")
    document.add_paragraph("一、办好人民满意的教育")
    table = document.add_table(rows=3, cols=4)
    for cell, text in zip(table.rows[0].cells, ["序号", "工作任务", "牵头单位", "责任单位"]):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["1", "推进学前教育普及普惠。新增公办学位800个。", "基教科", "计财科、督导室"]):
        cell.text = text
    for cell, text in zip(table.rows[2].cells, ["2", "加强教师队伍建设。", "人事股", "教研室"]):
        cell.text = text
    path = tmp_path / "table.docx"
    document.save(path)
    plan = load_plan(path)
    assert [i.number for i in plan.numbered_items] == ["1", "2"]
    first = plan.item("1")
    assert first.title == "推进学前教育普及普惠"
    assert first.lead_units == ["基教科"] and first.responsible_units == ["计财科", "督导室"]
    assert first.section == ["一、办好人民满意的教育"]


INLINE_UNITS_PLAN = """某市教育局2021年工作要点

一、加强党的建设
1.加强政治建设。认真学习贯彻党的创新理论。（牵头单位：基教科；责任单位：法规科、计财科）
2.深化清廉学校建设。推进清廉学校建设全覆盖。(责任科室:组干科、机关党委)
3.抓好意识形态工作。落实意识形态工作责任制。（牵头科室：党建办、宣传科；配合科室：各学校）。
二、办好人民满意教育
4.扩大学前教育资源。新增学位2000个。
"""


def test_inline_unit_endings_are_read_and_stripped_from_the_text():
    plan = parse_plan(INLINE_UNITS_PLAN, "inline.txt")
    one, two, three, four = (plan.item(n) for n in "1234")
    assert one.lead_units == ["基教科"] and one.responsible_units == ["法规科", "计财科"]
    assert one.text == "加强政治建设。认真学习贯彻党的创新理论。"
    assert two.lead_units == [] and two.responsible_units == ["组干科", "机关党委"]
    assert "组干科" not in two.text
    assert three.lead_units == ["党建办", "宣传科"] and three.responsible_units == ["各学校"]
    assert four.lead_units == [] and four.responsible_units == []
    assert plan.id == "moushi-2021" or plan.id.endswith("-2021")


THREE_LEVEL_PLAN = """关于印发《某某县教育局2024年工作要点》的通知
各乡镇中心学校：
现将《某某县教育局2024年工作要点》印发给你们。
某某县教育局
2024年2月20日

某某县教育局2024年工作要点

一、总体要求
坚持以习近平新时代中国特色社会主义思想为指导，办好人民满意的教育。
二、工作要点
（一）加强党对教育的全面领导
1.强化政治引领。深入学习贯彻党的二十大精神。
2.加强基层党组织建设。推进党支部标准化规范化建设，2024年
底前全部达标。
（二）推进基础教育优质均衡
3.扩大优质学位供给。全年新增学位1200个，其中城区
800个；一、二年级班额控制在45人以内。
4.深化课堂改革。推广“1+X”课堂模式，
3.5%的经费用于教研。
(三)加强教师队伍建设
5.落实教师待遇。确保教师平均工资不低于公务员。
三、做好各项中心工作
认真完成县委县政府交办的其他工作。
"""


def test_three_level_hierarchy_and_unnumbered_section():
    plan = parse_plan(THREE_LEVEL_PLAN, "three.txt")
    assert plan.title == "某某县教育局2024年工作要点"
    assert plan.issue_date == "2024-02-20"
    assert [i.number for i in plan.numbered_items] == ["1", "2", "3", "4", "5"]
    assert plan.item("1").section == ["二、工作要点", "（一）加强党对教育的全面领导"]
    assert plan.item("3").section == ["二、工作要点", "（二）推进基础教育优质均衡"]
    assert plan.item("5").section == ["二、工作要点", "(三)加强教师队伍建设"]
    # Lines broken mid-sentence are joined; numbers that start a wrapped line are not items.
    assert "2024年底前全部达标" in plan.item("2").text
    assert "其中城区800个；一、二年级班额控制在45人以内" in plan.item("3").text
    assert "推广“1+X”课堂模式，3.5%的经费用于教研" in plan.item("4").text
    # The 总体要求 section's text and the unnumbered section 八 are kept as records.
    texts = [i for i in plan.items if i.number is None]
    assert [(i.section, i.text) for i in texts] == [
        (["一、总体要求"], "坚持以习近平新时代中国特色社会主义思想为指导，办好人民满意的教育。"),
        (["三、做好各项中心工作"], "认真完成县委县政府交办的其他工作。"),
    ]
    assert plan.recipients == "各乡镇中心学校"


def test_page_furniture_bookmarks_bullets_and_fullwidth_spaces_are_removed():
    text = (
        "某区教育局2022年工作要点\n"
        "一、提升质量\n"
        "- 1.推进\u3000课堂改革。全面推进课堂教学改革，提高\n"
        "\n"
        "- 3 -\n"
        "\n"
        "教学质量。\n"
        "[bookmark: _GoBack]2．加强教研。建设区级教研基地10个。\n"
        "３．深化评价改革。落实新时代教育评价改革。\n"
    )
    plan = parse_plan(text, "x.txt")
    assert plan.item("1").text == "推进课堂改革。全面推进课堂教学改革，提高教学质量。"
    assert plan.item("2").title == "加强教研"
    assert plan.item("3").title == "深化评价改革"


def test_validation_reports_gaps_duplicates_empty_items_and_unknown_units():
    text = (
        "某县教育局2022年工作要点\n"
        "一、第一部分\n"
        "1.第一项\n牵头科室：基教科\n责任科室：计财科\n"
        "2.第二项\n牵头科室：基教科\n责任科室：神秘科\n"
        "4.第四项。内容。\n牵头科室：基教科\n责任科室：计财科\n"
        "4.又一个第四项。内容。\n牵头科室：基教科\n责任科室：计财科\n"
    )
    plan = parse_plan(text, "v.txt")
    warnings = "\n".join(plan.warnings)
    assert "item(s) 3 missing" in warnings
    assert "item 4: duplicate number" in warnings
    assert "item 1: no text beyond its title" in warnings
    assert "unknown unit name '神秘科'" in warnings


def test_mislabelled_first_unit_line_is_read_as_lead_with_a_warning():
    text = "某市教育局2020年工作要点\n一、甲\n1.督导改革\n问题描述：不足。\n责任科室(单位)：督导办\n责任科室(单位)：法规科、计财科\n"
    plan = parse_plan(text, "m.txt")
    item = plan.item("1")
    assert (item.lead_units, item.responsible_units) == (["督导办"], ["法规科", "计财科"])
    assert any("read as lead" in w for w in plan.warnings)


def test_unit_list_wrapped_onto_the_next_line_is_joined():
    text = "某市教育局2020年工作要点\n一、甲\n1.某项工作\n目标任务：完成。\n牵头科室(单位)：基教科\n责任科室(单位)：法规科、计财科、市教科\n\n所、市电教中心\n2.下一项\n"
    plan = parse_plan(text, "w.txt")
    assert plan.item("1").responsible_units == ["法规科", "计财科", "市教科所", "市电教技装中心"]
    assert plan.item("2").title == "下一项"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.txt", b"", "empty file"),
        ("garbage.txt", bytes(range(256)) * 40, "binary or corrupt"),
        ("notes.rtf", b"{\\rtf1 hello}", "unsupported file type"),
        ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
        ("broken.pdf", b"%PDF-1.4 nonsense", "PDF"),
        ("nothing.txt", "   \n\n \u3000\n".encode("utf-8"), "no"),
    ],
)
def test_unreadable_files_give_a_clear_error_naming_the_file(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(PlanFileError) as err:
        load_plan(path)
    assert name in str(err.value)
    assert reason in str(err.value)


def test_a_bad_file_does_not_stop_the_rest_of_the_corpus(plans_dir, tmp_path):
    for path in plans_dir.iterdir():
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "zz-broken.docx").write_bytes(b"not a docx")
    (tmp_path / "empty.txt").write_bytes(b"")
    corpus = load_corpus(tmp_path)
    assert sorted(p.id for p in corpus.plans) == ["dazhou-2020", "hengyang-2022", "shaodong-2020", "yongshun-2023"]
    assert sorted(e.path.rsplit("/", 1)[-1] for e in corpus.errors) == ["empty.txt", "zz-broken.docx"]


def test_two_plans_of_the_same_place_and_year_keep_distinct_ids(plans_dir, tmp_path):
    shutil.copy(plans_dir / "hengyang-2022.txt", tmp_path / "a.txt")
    shutil.copy(plans_dir / "hengyang-2022.txt", tmp_path / "b.txt")
    corpus = load_corpus(tmp_path)
    assert [p.id for p in corpus.plans] == ["hengyang-2022", "hengyang-2022-2"]
    assert all(i.plan_id == "hengyang-2022-2" for i in corpus.plans[1].items)


def test_decode_rejects_binary_and_accepts_gb18030():
    assert decode_bytes("教育局工作要点".encode("gb18030")) == "教育局工作要点"
    with pytest.raises(PlanFileError):
        decode_bytes(b"\x00\x01\x02\x03" * 500)


def test_markdown_plan_headings_and_bullets(tmp_path):
    md = "# 某市教育局2023年工作要点\n\n## 一、加强党建\n\n- 1. **强化理论武装**。深入学习。\n- 2. 加强组织建设。建强支部。\n"
    path = tmp_path / "plan.md"
    path.write_text(md, encoding="utf-8")
    plan = load_plan(path)
    assert plan.title == "某市教育局2023年工作要点"
    assert [(i.number, i.title) for i in plan.numbered_items] == [("1", "强化理论武装"), ("2", "加强组织建设")]
    assert read_plan_file(path).startswith("# ")


def test_text_layer_pdf_printed_by_chromium_parses_like_the_text(corpus, plans_dir, tmp_path):
    """A real PDF (Chromium prints the plan to PDF; its text layer is what a scanned-free original has)."""
    import html

    from playwright.sync_api import sync_playwright

    text = (plans_dir / "hengyang-2022.txt").read_text(encoding="utf-8")
    page_html = "<html><body style='font-family: WenQuanYi Micro Hei, sans-serif; font-size: 12pt'>" + "".join(
        f"<p>{html.escape(line) or '&nbsp;'}</p>" for line in text.splitlines()) + "</body></html>"
    pdf = tmp_path / "衡阳.pdf"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.set_content(page_html)
        page.pdf(path=str(pdf), format="A4")
        browser.close()
    plan = load_plan(pdf)
    original = corpus.plan("hengyang-2022")
    assert plan.title == original.title and plan.issue_date == original.issue_date
    assert [(i.number, i.title) for i in plan.numbered_items] == [(i.number, i.title) for i in original.numbered_items]
    # Lines the PDF wrapped at the page width are joined back into the items' sentences.
    assert "高标准完成33730个学位建设任务" in plan.item("9").text
