"""The Gradio UI: rendering helpers in-process, and its endpoints through gradio_client against a live server."""
from __future__ import annotations

import csv
import json
import re
from types import SimpleNamespace

import httpx
import pytest
from gradio_client import Client

from assistant import web
from assistant.models import Item, Plan
from web_support import live_server

ASK_STUDENT_AID = "学生资助由哪个科室牵头？"


# ---- pure rendering ------------------------------------------------------------------------
def _plan_item() -> tuple[Plan, Item]:
    item = Item("dazhou-2020", "21", "提高资助工作精准管理能力", ["三、扩大公平优质教育资源供给"],
                "提高资助工作精准管理能力 问题描述：资助<精准度>需提高。目标任务：应助尽助。",
                lead_units=["市后勤与资助中心"], responsible_units=["计财科", "扶贫办"])
    plan = Plan(id="dazhou-2020", title="达州市教育局2020年工作要点", issuer="达州市教育局", year=2020,
                source="d.txt", place="达州市", items=[item])
    return plan, item


def test_render_answer_turns_markers_into_chips_and_escapes_text():
    plan, item = _plan_item()
    markers = {"〔达州市教育局2020年工作要点·第21项〕": (plan, item)}
    html = web.render_answer("由<b>市后勤与资助中心</b>牵头。〔达州市教育局2020年工作要点·第21项〕", markers)
    assert html.startswith("由&lt;b&gt;市后勤与资助中心&lt;/b&gt;牵头。<a class=\"cite-chip\"")
    assert 'href="#cite=dazhou-2020%3A21"' in html
    assert ">达州市2020·第21项</a>" in html
    # an unknown marker stays as text; a marker cut off mid-stream is hidden
    assert web.render_answer("见〔别的计划·第1项〕", markers) == "见〔别的计划·第1项〕"
    assert web.render_answer("牵头。〔达州市教育局20", markers) == "牵头。"


def test_stream_prefixes_grow_clause_by_clause_to_the_full_text():
    text = "第21项由市后勤与资助中心牵头，责任科室为计财科。〔达州市教育局2020年工作要点·第21项〕\n另见下文。"
    prefixes = web.stream_prefixes(text)
    assert prefixes[-1] == text
    assert len(prefixes) == 5
    assert all(b.startswith(a) and len(b) > len(a) for a, b in zip(prefixes, prefixes[1:]))
    assert prefixes[0] == "第21项由市后勤与资助中心牵头，"
    assert prefixes[2].endswith("〕")  # a marker arrives whole
    assert web.stream_prefixes("") == [""]


def test_item_detail_highlights_the_quote():
    plan, item = _plan_item()
    html = web.item_detail_html(plan, item, quote="应助尽助……")
    assert "<mark>应助尽助</mark>" in html
    assert "资助&lt;精准度&gt;需提高" in html  # item text escaped
    assert "三、扩大公平优质教育资源供给" in html and "第21项 提高资助工作精准管理能力" in html
    assert "<dd>市后勤与资助中心</dd>" in html and "<dd>计财科、扶贫办</dd>" in html
    assert "<mark>" not in web.item_detail_html(plan, item, quote="不在原文里的一句话")


def test_feedback_keeps_one_line_per_answer(tmp_path):
    turn = {"question": ASK_STUDENT_AID, "plan": None,
            "answer": {"answer": "……〔达州市教育局2020年工作要点·第21项〕", "kind": "unit_role", "supported": True,
                       "citations": [{"id": "dazhou-2020:21"}]}}
    path = web.record_feedback(tmp_path / "data", web.feedback_record(turn, True, 1, "conv:0"))
    web.record_feedback(tmp_path / "data", web.feedback_record(turn, False, 1, "conv:0"))  # the vote changed
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert path == tmp_path / "data" / "feedback.jsonl"
    assert [r["liked"] for r in lines] == [False]
    assert lines[0]["question"] == ASK_STUDENT_AID and lines[0]["citations"] == ["dazhou-2020:21"]


# ---- live server through gradio_client -----------------------------------------------------
@pytest.fixture(scope="module")
def server():
    return live_server()


@pytest.fixture()
def client(server):
    return Client(server.url + "/", verbose=False, download_files=False)


def test_api_endpoints_are_listed(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/action", "/browse", "/principal", "/new_conversation"} <= names


def _text(message: dict) -> str:
    content = message["content"]
    if isinstance(content, list):  # gradio 6 messages: [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content


def _last_answer(result) -> str:
    return _text(result[1][-1])


def test_ask_streams_an_answer_with_citation_chips(client):
    job = client.submit("哪些计划提到县管校聘？", [], "", api_name="/ask")
    job.result()
    outputs = job.outputs()
    answers = [_last_answer(out) for out in outputs if out[1] and out[1][-1]["role"] == "assistant"]
    assert len(set(answers)) >= 3, answers  # streamed: several growing versions of the answer
    assert all(b.startswith(a[:-10]) for a, b in zip(answers, answers[1:]))
    final = answers[-1]
    assert final.count('class="cite-chip"') == 2
    assert 'href="#cite=dazhou-2020%3A33"' in final and 'href="#cite=hengyang-2022%3A19"' in final
    assert _text(outputs[-1][1][0]) == "哪些计划提到县管校聘？"


def test_follow_up_in_the_same_session_uses_the_previous_turn(client):
    first = client.predict(ASK_STUDENT_AID, [], "", api_name="/ask")
    follow = client.predict("那它的责任科室呢？", first[1], "", api_name="/ask")
    text = _last_answer(follow)
    assert "计财科" in text and "dazhou-2020%3A21" in text
    assert len(follow[1]) == 4
    client.predict(api_name="/new_conversation")
    fresh = client.predict("那它的责任科室呢？", [], "", api_name="/ask")
    assert "dazhou-2020%3A21" not in _last_answer(fresh)  # history cleared: no "它" to refer to


def test_plan_filter_limits_the_answer(client):
    result = client.predict("要新增多少学位？", [], "shaodong-2020", api_name="/ask")
    text = _last_answer(result)
    assert "10000个" in text and "shaodong-2020%3A7" in text
    assert "dazhou-2020%3A" not in text


def test_invalid_question_is_answered_with_the_reason(client):
    result = client.predict("学" * 600, [], "", api_name="/ask")
    assert "too long" in _last_answer(result)


def test_show_item_renders_the_detail_panel(client):
    html = client.predict("cite:dazhou-2020:17", api_name="/action")[0]
    assert "data-item='dazhou-2020:17'" in html and "href='/?item=dazhou-2020:17'" in html
    assert "第17项 深入推进教育信息化建设和应用" in html and "<dd>市电教技装中心</dd>" in html
    assert "没有编号为" in client.predict("cite:dazhou-2020:999", api_name="/action")[0]


def test_browse_filters_counts_and_sorts_all_items(client):
    every = client.predict("", "", api_name="/browse")
    assert every.count("<tr data-id=") == 39 + 21 + 30 + 24 and "共 114 条" in every
    one = client.predict("", "yongshun-2023", api_name="/browse")
    assert one.count("<tr data-id=") == 24 and "衡阳" not in one
    table = client.predict("县管校聘", "", api_name="/browse")
    assert re.findall(r"data-id='([^']+)'", table) == ["dazhou-2020:33", "hengyang-2022:19"]
    assert "共 2 条（搜索「县管校聘」）" in table
    sorted_table = client.predict("sort:number", api_name="/action")[2]  # the search is kept in the session
    assert "aria-sort='ascending'" in sorted_table
    sorted_table = client.predict("sort:number", api_name="/action")[2]
    assert re.findall(r"data-id='([^']+)'", sorted_table) == ["dazhou-2020:33", "hengyang-2022:19"]
    assert "aria-sort='descending'" in sorted_table
    empty = client.predict("没有这个词", "", api_name="/browse")
    assert "没有符合条件的条目" in empty and "共 0 条" in empty


def test_principal_checklist_and_exports(client):
    html, xlsx_file, ics_file, csv_file = client.predict("hengyang-2022", "民办", "", api_name="/principal")
    assert "2022年6月" in html and "6月底前 · 2022-06-30" in html
    assert html.index("2022年6月") < html.index("未注明期限")  # dated first, undated last
    assert "<mark>稳妥有序推进规范民办义务教育专项工作" in html  # the item text, the clause highlighted
    for f, suffix in ((xlsx_file, ".xlsx"), (ics_file, ".ics"), (csv_file, ".csv")):
        assert f["url"].startswith(client.src.rstrip("/")) and f["url"].endswith(suffix)
    body = httpx.get(csv_file["url"], timeout=10).content.decode("utf-8-sig")
    exported = list(csv.reader(body.splitlines()))
    assert exported[0][:4] == ["计划", "条目", "条目标题", "要求（原文）"]
    assert len(exported) - 1 == html.count("class='ob-card'")
    narrowed, *_ = client.predict("hengyang-2022", "民办", "招生", api_name="/principal")
    assert 0 < narrowed.count("class='ob-card'") < html.count("class='ob-card'")



def test_a_vague_question_gets_clickable_suggestions_that_ask(assistant, tmp_path):
    from assistant.web import ChatUI

    ui = ChatUI(assistant, tmp_path)
    *_, (_, messages, turns, *_) = list(ui.respond("教育局明年打算做什么？", [], [], None))
    options = messages[-1].get("options")
    assert turns[-1]["answer"]["kind"] == "clarify" and options and len(options) == 3
    picked = SimpleNamespace(value=options[0]["value"])
    *_, (messages, turns, *_) = list(ui.ask_option(messages, turns, None, "", "", picked))
    assert turns[-1]["question"] == options[0]["value"] and turns[-1]["answer"]["supported"]
