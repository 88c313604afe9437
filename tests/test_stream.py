"""`POST /api/ask/stream` over the session's real index, served by uvicorn on a real socket: extractive
answers as one final event; generative drafts before a final answer that verification decides; the
guards of /api/ask; a client that disconnects stops the generation; heavy streams queue on the heavy
lane (/v1 too). LangChain's scripted chat models stand in for the LLM where what it writes, or how
slowly, is the input under test; the real local model is in test_local_llm.py."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel

from assistant.api import HEAVY_LANES, HEAVY_QUEUE, create_app
from assistant.generative import GenerativeAssistant
from assistant.security import Settings
from live_server import serve

SEATS = "邵东今年要新增多少学位？"
SHAODONG_7 = "〔邵东市教育局2020年工作要点·第7项〕"
FAITHFUL = "新增学位10000个以上[1]。"
UNSUPPORTED = "另外投入5亿元建设新校[1]。"


def events(response: httpx.Response) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a server-sent event stream."""
    out = []
    for block in response.text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        out.append((fields["event"], json.loads(fields["data"])))
    return out


def test_extractive_stream_is_one_final_event_equal_to_api_ask(assistant, tmp_path):
    with serve(create_app(assistant, Settings(data_dir=tmp_path), ui=False)) as url:
        plain = httpx.post(url + "/api/ask", json={"question": SEATS}, timeout=60).json()
        streamed = httpx.post(url + "/api/ask/stream", json={"question": SEATS}, timeout=60)
    assert streamed.status_code == 200 and streamed.headers["content-type"].startswith("text/event-stream")
    [(kind, final)] = events(streamed)
    assert kind == "final" and final["stream_id"]
    assert {k: final[k] for k in ("answer", "supported", "kind", "citations")} == \
        {k: plain[k] for k in ("answer", "supported", "kind", "citations")}


def test_drafts_stream_then_verification_decides_the_final_answer(assistant, tmp_path):
    script = FAITHFUL + " " + UNSUPPORTED
    generative = GenerativeAssistant(assistant, GenericFakeChatModel(messages=iter([script])), "scripted")
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url:
        got = events(httpx.post(url + "/api/ask/stream", json={"question": SEATS}, timeout=60))
    kinds = [k for k, _ in got]
    assert kinds[-1] == "final" and set(kinds[:-1]) == {"draft"} and len(kinds) > 2
    assert "".join(d["text"] for k, d in got if k == "draft") == script  # the model's text as it wrote it
    final = got[-1][1]
    assert final["mode"] == "generative" and final["answer"] == f"新增学位10000个以上{SHAODONG_7}。"
    assert [r["text"] for r in final["generation"]["removed"]] == [UNSUPPORTED]  # drafted, then removed
    assert app.state.finished_answers.take(final["stream_id"], SEATS)["answer"] == final["answer"]
    assert app.state.finished_answers.take(final["stream_id"], SEATS) is None, "claimed once"


@pytest.mark.parametrize("body, status", [
    ({"question": ""}, 422), ({"question": "问" * 501}, 422), ({"question": SEATS, "extra": 1}, 422),
    ({"question": SEATS, "history": ["学生资助由哪个科室牵头？"] * 9}, 422), ("not json", 422),
    ({"question": "   "}, 400), ({"question": SEATS, "plan": "nope-2020"}, 400),
])
def test_bad_input_is_a_json_4xx_before_any_stream(assistant, tmp_path, body, status):
    with serve(create_app(assistant, Settings(data_dir=tmp_path), ui=False)) as url:
        kwargs = {"content": body} if isinstance(body, str) else {"json": body}
        r = httpx.post(url + "/api/ask/stream", headers={"content-type": "application/json"}, timeout=60, **kwargs)
        big = httpx.post(url + "/api/ask/stream", json={"question": SEATS, "history": ["x" * 70000]}, timeout=60)
    assert r.status_code == status and r.json()["error"]
    assert big.status_code == 413 and big.json()["error"]


def test_auth_is_the_header_auth_of_api_ask(assistant, tmp_path):
    app = create_app(assistant, Settings(data_dir=tmp_path, token="s3cret-token-0123456789"), ui=False)
    with serve(app) as url:
        anonymous = httpx.post(url + "/api/ask/stream", json={"question": SEATS}, timeout=60)
        bearer = httpx.post(url + "/api/ask/stream", json={"question": SEATS}, timeout=60,
                            headers={"Authorization": "Bearer s3cret-token-0123456789"})
    assert anonymous.status_code == 401 and anonymous.json()["error"]
    assert bearer.status_code == 200 and events(bearer)[-1][0] == "final"


def slow(assistant, per_char: float = 0.05, text: str = FAITHFUL * 20) -> GenerativeAssistant:
    """A model that writes one character every `per_char` seconds (len(text) chunks in all)."""
    return GenerativeAssistant(assistant, FakeListChatModel(responses=[text], sleep=per_char), "slow")


def test_a_client_that_disconnects_stops_the_generation(assistant, tmp_path):
    text = FAITHFUL * 20
    app = create_app(slow(assistant, text=text), Settings(data_dir=tmp_path), ui=False)
    stats = app.state.answer_streams
    with serve(app) as url:
        with httpx.stream("POST", url + "/api/ask/stream", json={"question": SEATS}, timeout=60) as r:
            for line in r.iter_lines():
                if line.startswith("event: draft"):
                    break  # the stop button: the response is closed after the first draft
        deadline = time.monotonic() + 20
        while (stats.active or not stats.cancelled) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stats.active == 0 and stats.cancelled == 1 and stats.completed == 0
        assert 0 < stats.last_chunks < len(text) / 2, "the model was read on after the client left"
        # the server carries on: the next question is answered
        after = events(httpx.post(url + "/api/ask/stream", json={"question": "学生资助由哪个科室牵头？"}, timeout=60))
    assert after[-1][0] == "final" and after[-1][1]["supported"]


@pytest.mark.parametrize("path", ["/api/ask/stream", "/v1/chat/completions"])
def test_heavy_generative_streams_queue_on_the_heavy_lane(assistant, tmp_path, path):
    # each stream takes ~1.5 s of generation; with history they are heavy: HEAVY_LANES run, HEAVY_QUEUE wait,
    # the rest are refused with 503 (before the fix /v1 ran every stream at once, beside the lane)
    app = create_app(slow(assistant, per_char=0.1, text=FAITHFUL), Settings(data_dir=tmp_path), ui=False)
    if path == "/v1/chat/completions":
        body = {"model": "workplan-assistant", "stream": True,
                "messages": [{"role": "user", "content": "学生资助由哪个科室牵头？"}, {"role": "user", "content": SEATS}]}
    else:
        body = {"question": SEATS, "history": ["学生资助由哪个科室牵头？"]}
    n = HEAVY_LANES + HEAVY_QUEUE + 2
    with serve(app) as url, ThreadPoolExecutor(n) as pool:
        statuses = list(pool.map(lambda _: httpx.post(url + path, json=body, timeout=120).status_code, range(n)))
    assert statuses.count(200) == HEAVY_LANES + HEAVY_QUEUE and statuses.count(503) == 2, statuses


def test_the_chat_files_a_streamed_answer_without_asking_again(assistant, tmp_path):
    from assistant.api_stream import FinishedAnswers
    from assistant.web_chat import ChatUI

    finished = FinishedAnswers()
    shown = {**assistant.ask(SEATS).to_dict(), "mode": "generative", "fallback": False,
             "generation": {"model": "m", "removed": [{"text": UNSUPPORTED, "reason": "number 5"}]}}
    shown["answer"] = "一个只在流里出现过的回答" + SHAODONG_7 + "。"
    sid = finished.put(SEATS, shown)
    ui = ChatUI(assistant, tmp_path, finished=finished)
    *_, (_, messages, turns, *_) = list(ui.respond(SEATS, [], [], None, streamed="id:" + sid))
    assert turns[-1]["answer"] == shown, "the streamed answer is filed as it was shown"
    assert "一个只在流里出现过的回答" in messages[-1]["content"] and "已删去 1 句无出处的内容" in messages[-1]["content"]
    # a claimed or unknown id: the chat asks the plain way
    *_, (_, messages, turns, *_) = list(ui.respond(SEATS, messages, turns, None, streamed="id:" + sid))
    assert turns[-1]["answer"]["answer"] == assistant.ask(SEATS).answer
    # the stop button: the question stays, with a note, and is not answered
    *_, (_, messages, turns, *_) = list(ui.respond(SEATS, messages, turns, None, streamed="stopped"))
    assert turns[-1]["stopped"] and turns[-1]["answer"] is None and "已停止回答" in messages[-1]["content"]
    # the history the page streams with: answered turns only, none after 不接着问
    history = json.loads(ui.stream_context(turns, False))
    assert [h["question"] for h in history] == [SEATS, SEATS] and set(history[0]["answer"]) <= {
        "answer", "supported", "kind", "citations", "context"}
    assert ui.stream_context(turns, True) == "[]"


def test_the_note_under_an_answer_says_what_verification_did():
    from assistant.web_render import verification_note

    removed = [{"text": UNSUPPORTED, "reason": "number 5"}] * 2
    assert verification_note({"mode": "generative", "generation": {"model": "m", "removed": removed}}) == \
        "已删去 2 句无出处的内容。"
    assert verification_note({"mode": "generative", "generation": {"model": "m", "removed": []}}) == ""
    assert verification_note({"mode": "extractive", "fallback": True, "fallback_reason": "first claim failed",
                              "generation": {"model": "m", "removed": removed[:1]}}) == "模型的表述未通过核对，已改用原文摘录。"
    assert verification_note({"mode": "extractive", "fallback": True, "fallback_reason": "model error: Timeout",
                              "generation": {"model": "m"}}) == "模型未能作答，已改用原文摘录。"
    assert verification_note({"answer": "…", "kind": "fact"}) == ""  # extractive mode: no note
