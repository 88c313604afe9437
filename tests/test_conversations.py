"""Stored conversations: the SQLite store (owners kept apart, survives a new process), the REST
routes over it, answers reusable as text, Markdown and .docx, one changeable vote per answer."""
from __future__ import annotations

import base64
import json
import subprocess
import sys

from fastapi.testclient import TestClient

from assistant.api import Settings, create_app
from assistant.conversations import ConversationStore, title_for
from assistant.web_chat import feedback_record, record_feedback
from assistant.web_render import answer_markdown, answer_text, override_note, scope_chip_html
from web_support import ROOT

BASE = "http://127.0.0.1"
ANSWER = {"answer": "由市后勤与资助中心牵头。〔达州市教育局2020年工作要点·第21项〕", "kind": "unit_role",
          "supported": True, "context": {"plan_id": "dazhou-2020", "item_id": "dazhou-2020:21"},
          "citations": [{"id": "dazhou-2020:21", "plan": "达州市教育局2020年工作要点", "plan_id": "dazhou-2020",
                         "item": "21", "title": "提高资助工作精准管理能力", "quote": "应助尽助"}]}
TURN = {"question": "学生资助由哪个科室牵头？", "answer": ANSWER, "plan": None}


def test_store_keeps_owners_apart_and_survives_another_process(tmp_path):
    store = ConversationStore(tmp_path / "c.sqlite3")
    mine = store.save("user:a", None, [TURN])
    store.save("user:b", None, [{**TURN, "question": "别人的问题"}])
    assert mine.title == "学生资助由哪个科室牵头？"
    assert [c.id for c in store.list("user:a")] == [mine.id]
    assert store.get("user:b", mine.id) is None  # another owner cannot read it
    assert store.rename("user:b", mine.id, "x") is None and store.delete("user:b", mine.id) is False
    store.save("user:a", mine.id, [TURN, {**TURN, "question": "那它的责任科室呢？"}])
    assert store.rename("user:a", mine.id, "  资助  问题 ").title == "资助 问题"
    # a fresh process (a restart) reads the same conversation back
    code = ("import sys; sys.path.insert(0, '.'); from assistant.conversations import ConversationStore;"
            f"c = ConversationStore(r'{tmp_path / 'c.sqlite3'}').list('user:a')[0];"
            "print(c.title, len(c.turns), c.turns[1]['question'])")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "资助 问题 2 那它的责任科室呢？"
    assert store.delete("user:a", mine.id) and store.list("user:a") == []
    assert store.get("user:a", "../../etc") is None


def test_title_is_the_first_question_cut_short():
    assert title_for([{"question": "学" * 60}]) == "学" * 40 + "…"
    assert title_for([]) == "新对话"


def test_conversations_api_lists_by_login_and_needs_credentials(assistant, tmp_path):
    token, password = "s3cret-token-0123456789", "correct-horse-7"
    settings = Settings(token=token, user="rector", password=password, data_dir=tmp_path)
    from assistant.conversations import store_for

    store = store_for(tmp_path)
    mine = store.save("user:rector", None, [TURN])
    store.save("user:other", None, [TURN])
    with TestClient(create_app(assistant, settings, ui=False), base_url=BASE) as client:
        assert client.get("/api/conversations").status_code == 401
        basic = {"Authorization": "Basic " + base64.b64encode(f"rector:{password}".encode()).decode()}
        listed = client.get("/api/conversations", headers=basic).json()
        assert [c["id"] for c in listed] == [mine.id] and listed[0]["turn_count"] == 1
        assert "turns" not in listed[0]
        one = client.get(f"/api/conversations/{mine.id}", headers=basic).json()
        assert one["turns"][0]["answer"]["citations"][0]["id"] == "dazhou-2020:21"
        bearer = {"Authorization": f"Bearer {token}"}
        assert len(client.get("/api/conversations", headers=bearer).json()) == 2  # the token sees everyone's
        assert client.get("/api/conversations?owner=user:other", headers=basic).status_code == 403
        assert client.get("/api/conversations/" + "0" * 32, headers=basic).status_code == 404


def test_answers_copy_as_clean_text_and_markdown():
    assert answer_text(ANSWER) == "由市后勤与资助中心牵头。〔达州市教育局2020年工作要点·第21项〕"
    md = answer_markdown(TURN["question"], ANSWER)
    assert md.startswith("**问：** 学生资助由哪个科室牵头？\n\n**答：** 由市后勤与资助中心牵头。〔达州市")
    assert "- 〔达州市教育局2020年工作要点·第21项〕提高资助工作精准管理能力：“应助尽助”" in md
    assert "<" not in md


def test_conversation_exports_as_docx_with_the_cited_items(assistant, tmp_path):
    import docx

    from assistant.export_docx import conversation_docx

    path = conversation_docx([TURN], assistant.item, tmp_path / "c.docx")
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "问1：学生资助由哪个科室牵头？" in text and "〔达州市教育局2020年工作要点·第21项〕" in text
    appendix = text.split("附：引用条目原文", 1)[1]
    assert "〔达州市教育局2020年工作要点·第21项〕提高资助工作精准管理能力" in appendix
    assert "精准识别贫困学生" in appendix  # the item's full text


def test_one_vote_per_answer_changeable_with_a_comment(tmp_path):
    record_feedback(tmp_path, feedback_record(TURN, True, 1, "c1:0"))
    record_feedback(tmp_path, feedback_record(TURN, False, 1, "c1:0", "单位写错了"))
    record_feedback(tmp_path, feedback_record(TURN, True, 3, "c1:1"))
    lines = [json.loads(x) for x in (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(r["key"], r["liked"], r["comment"]) for r in lines] == [("c1:0", False, "单位写错了"), ("c1:1", True, "")]


def test_scope_chip_and_override_note(assistant):
    plans = {p.id: p for p in assistant.plans()}
    shaodong = plans["shaodong-2020"]
    chip = scope_chip_html(shaodong, assistant.item("dazhou-2020:21"))
    assert "范围：邵东市教育局2020年工作要点" in chip and "接着问：达州市2020·第21项" in chip
    assert "全部计划" in scope_chip_html(None, None)
    note = override_note(shaodong, ANSWER, plans)
    assert note == "（注意：问题指明了达州市教育局2020年工作要点，本回答未按计划范围「邵东市教育局2020年工作要点」作答。）"
    assert override_note(plans["dazhou-2020"], ANSWER, plans) == ""
    assert override_note(None, ANSWER, plans) == ""

