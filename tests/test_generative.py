"""Generative mode's verification over the session's real index, with LangChain's own scripted chat
model standing in for the LLM (what it writes is the input under test); the real local model is
exercised in test_local_llm.py."""
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

from assistant.api import create_app
from assistant.claims import _cn_int, cited, sentences
from assistant.engine.contract import MARKER_RE, verify_citations
from assistant.generative import GenerativeAssistant, _complete, chat_model
from assistant.security import Settings
from assistant.service import QuestionError
from live_server import free_port

SEATS = "邵东今年要新增多少学位？"
SHAODONG_7 = "〔邵东市教育局2020年工作要点·第7项〕"


def scripted(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter(replies))


def generative(assistant, *replies: str) -> GenerativeAssistant:
    return GenerativeAssistant(assistant, scripted(*replies), "scripted")


def test_a_faithful_answer_leaves_with_record_markers(assistant):
    g = generative(assistant, "邵东 2020年 新增学位10000个以上[1]。 同时 基本消除 646个 义务教育大班额。[1]")
    run = g.begin(SEATS)
    streamed = list(run)
    answer = run.answer
    assert len(streamed) == 2, "one verified sentence at a time"
    assert answer.answer == "".join(streamed)
    assert answer.mode == "generative" and answer.fallback is False
    assert "[1]" not in answer.answer and answer.answer.count(SHAODONG_7) == 2
    assert [(c.id, c.verified) for c in answer.citations] == [("shaodong-2020:7", True)]
    verify_citations(answer, assistant.retriever.records)
    assert answer.generation["removed"] == [] and answer.generation["kept"] == 2
    assert answer.timings_ms["generate"] > 0


@pytest.mark.parametrize("reply, reason", [
    ("邵东2020年新增学位20000个[1]。", "number 20000"),
    ("邵东新增学位10000个以上。", "no evidence marker"),
    ("邵东2020年新增学位10000个以上[2]。", "not given"),
    ("邵东2020年新增学位10000个，由基教科牵头[1]。", "unit 基教科"),
    ("达州2020年新增学位10000个以上[1]。", "names 达州市教育局2020年工作要点"),
    ("全市计划投入资金建设寄宿制学校和食堂[1]。", "wording"),
])
def test_a_core_claim_that_fails_returns_the_extractive_answer(assistant, reply, reason):
    answer = generative(assistant, reply).ask(SEATS)
    assert answer.mode == "extractive" and answer.fallback is True and "first claim" in answer.fallback_reason
    assert answer.answer == assistant.ask(SEATS).answer
    assert reason in answer.generation["removed"][0]["reason"]
    assert all(c.verified for c in answer.citations)


def test_a_later_unsupported_sentence_is_removed(assistant):
    answer = generative(assistant, "新增学位10000个以上[1]。另外投入5亿元建设新校[1]。由第9项负责[1]。").ask(SEATS)
    assert answer.mode == "generative"
    assert answer.answer == f"新增学位10000个以上{SHAODONG_7}。"
    assert [r["text"] for r in answer.generation["removed"]] == ["另外投入5亿元建设新校[1]。", "由第9项负责[1]。"]


def test_structural_answers_and_refusals_stay_extractive(assistant):
    # an empty script: a model call would fail the test
    for question in ("学生资助由哪个科室牵头？", "基教科牵头哪些任务？", "益阳2021年工作要点第3项是什么？"):
        answer = generative(assistant).ask(question)
        assert answer.mode == "extractive" and answer.fallback is False, question
        assert answer.answer == assistant.ask(question).answer


def test_an_unreachable_model_falls_back(assistant):
    model, name = chat_model(f"openai:qwen@http://127.0.0.1:{free_port()}/v1")
    answer = GenerativeAssistant(assistant, model, name).ask(SEATS)
    assert answer.fallback is True and answer.fallback_reason.startswith("model error")
    assert answer.answer == assistant.ask(SEATS).answer


def test_bad_questions_and_specs_are_clear_errors(assistant):
    with pytest.raises(QuestionError, match="empty"):
        generative(assistant).begin("   ")
    for spec, says in [("qwen", "--llm must be"), ("openai:@http://x/v1", "model name is missing"),
                       ("gguf:/nowhere/model.gguf", "no such model file")]:
        with pytest.raises(ValueError, match=says):
            chat_model(spec)


def test_the_api_carries_mode_fallback_and_verified_citations(assistant):
    app = create_app(generative(assistant, "新增学位10000个以上[1]。", "新增学位10000个以上[1]。"),
                     Settings(), ui=False)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        body = client.post("/api/ask", json={"question": SEATS}).json()
        assert body["mode"] == "generative" and body["fallback"] is False
        assert body["citations"][0]["verified"] is True and SHAODONG_7 in body["answer"]
        stream = client.post("/v1/chat/completions", json={"model": "workplan-assistant", "stream": True,
                                                           "messages": [{"role": "user", "content": SEATS}]})
        assert f"新增学位10000个以上{SHAODONG_7}。" in stream.text and '"mode": "generative"' in stream.text


def test_sentence_helpers():
    assert sentences("甲乙丙。[1] 丁戊己[2]！") == ["甲乙丙[1]。", "丁戊己[2]！"]
    assert cited("见[1,2]与【3】") == [1, 2, 3]
    assert [_cn_int(t) for t in ("17", "十七", "二十三", "一百零一", "x")] == [17, 17, 23, 101, None]
    assert _complete("甲乙丙[1]。丁") == (["甲乙丙[1]。"], "丁")
    assert _complete("甲乙丙。[") == ([], "甲乙丙。[")  # the marker may still be coming
    assert not MARKER_RE.search("[1]")
