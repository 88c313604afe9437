"""/v1 (OpenAI-compatible) through the official `openai` SDK against the real app on a real port.

The app is the REST API (no UI: /v1 is routed before the UI mount), over the session's real index;
the client is a library we did not write, so its parsing of our JSON and our SSE is the test.
"""
from __future__ import annotations

import re

import httpx
import openai
import pytest

from assistant.api import MAX_BODY_BYTES, create_app
from assistant.engine.contract import MARKER_RE
from assistant.security import Settings
from live_server import serve

MODEL = "workplan-assistant"
TOKEN = "v1-token-0123456789abcdef"
STUDENT_AID = "学生资助由哪个科室牵头？"


@pytest.fixture(scope="module")
def base_url(assistant, tmp_path_factory):
    app = create_app(assistant, Settings(data_dir=tmp_path_factory.mktemp("data")), ui=False)
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    return openai.OpenAI(base_url=base_url + "/v1", api_key="unused-without-auth", max_retries=0, timeout=120)


def markers(text: str) -> set[tuple[str, str]]:
    return {(m.group(1), m.group(2)) for m in MARKER_RE.finditer(text)}


def ask(client, content: str, model: str = MODEL, **kwargs):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}], **kwargs)


def test_models_lists_the_assistant_and_one_model_per_plan(client):
    ids = {m.id for m in client.models.list()}
    assert ids == {MODEL} | {f"{MODEL}:{p}" for p in ("dazhou-2020", "hengyang-2022", "shaodong-2020", "yongshun-2023")}


def test_completion_carries_the_answer_its_markers_and_citations(client, assistant):
    completion = ask(client, STUDENT_AID, temperature=0.7, max_tokens=50)  # sampling knobs accepted, ignored
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop" and completion.choices[0].message.role == "assistant"
    assert content == assistant.ask(STUDENT_AID).answer  # the same answer /api/ask gives
    assert "市后勤与资助中心牵头" in content and "〔达州市教育局2020年工作要点·第21项〕" in content
    citations = completion.model_extra["citations"]
    assert [c["id"] for c in citations] == ["dazhou-2020:21"]
    assert citations[0]["lead_units"] == ["市后勤与资助中心"]
    # every inline marker names a returned citation, and every citation is marked
    assert markers(content) == {(c["plan"], f"第{c['item']}项") for c in citations}
    meta = completion.model_extra["assistant"]
    assert meta["supported"] is True and meta["kind"] == "unit_role"
    assert completion.usage.completion_tokens > 10 and completion.usage.total_tokens > completion.usage.completion_tokens


def test_stream_yields_clauses_that_join_into_the_same_answer(client):
    expected = ask(client, STUDENT_AID).choices[0].message.content
    chunks = list(ask(client, STUDENT_AID, stream=True, stream_options={"include_usage": True}))
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(deltas) > 2, "streamed in clauses, not in one piece"
    assert "".join(deltas) == expected
    assert all(not MARKER_RE.search(d) or MARKER_RE.fullmatch(d) for d in deltas if "〔" in d), "a marker is never cut"
    closing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(closing) == 1 and closing[0].choices[0].finish_reason == "stop"
    assert [c["id"] for c in closing[0].model_extra["citations"]] == ["dazhou-2020:21"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0  # include_usage: last chunk
    assert len({c.id for c in chunks}) == 1


def test_earlier_user_turns_are_the_conversation(client):
    completion = client.chat.completions.create(model=MODEL, messages=[
        {"role": "system", "content": "你是一个助手。"},
        {"role": "user", "content": STUDENT_AID},
        {"role": "assistant", "content": "（上一轮的回答）"},
        {"role": "user", "content": [{"type": "text", "text": "那它的责任科室呢？"}]}])
    content = completion.choices[0].message.content
    assert "计财科" in content and "第21项" in content
    assert "dazhou-2020:21" in {c["id"] for c in completion.model_extra["citations"]}
    assert "item_id" in completion.model_extra["assistant"]["context"].get("inherited", []) or \
        completion.model_extra["assistant"]["context"].get("item_id") == "dazhou-2020:21"


def test_a_plan_model_scopes_the_answer(client):
    completion = ask(client, "要新增多少学位？", model=f"{MODEL}:shaodong-2020")
    assert "10000" in completion.choices[0].message.content
    assert {c["plan_id"] for c in completion.model_extra["citations"]} == {"shaodong-2020"}


def test_a_refusal_is_marked_unsupported(client):
    completion = ask(client, "益阳2021年工作要点第3项是什么？")
    assert completion.model_extra["assistant"]["supported"] is False
    assert not markers(completion.choices[0].message.content) - {
        (c["plan"], f"第{c['item']}项") for c in completion.model_extra["citations"]}


@pytest.mark.parametrize("kwargs, error, says", [
    ({"model": "gpt-4o", "messages": [{"role": "user", "content": STUDENT_AID}]}, openai.NotFoundError, "no model"),
    ({"model": MODEL, "messages": [{"role": "assistant", "content": "hi"}]}, openai.BadRequestError, "role 'user'"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "   "}]}, openai.BadRequestError, "no text"),
    ({"model": MODEL, "messages": [{"role": "user", "content": "问" * 501}]}, openai.BadRequestError, "too long"),
    ({"model": MODEL, "messages": [{"role": "user", "content": STUDENT_AID}], "n": 2},
     openai.UnprocessableEntityError, "n"),
    ({"model": MODEL, "messages": [{"role": "robot", "content": STUDENT_AID}]}, openai.UnprocessableEntityError, "role"),
    ({"model": MODEL, "messages": [{"role": "user", "content": STUDENT_AID}], "stream": True, "extra_body": {
        "padding": "x" * (MAX_BODY_BYTES + 1)}}, openai.APIStatusError, "too large"),
])
def test_bad_requests_get_a_clear_error(client, kwargs, error, says):
    with pytest.raises(error) as caught:
        client.chat.completions.create(**kwargs)
    assert says in caught.value.response.json()["error"]
    if "padding" in kwargs.get("extra_body", {}):
        assert caught.value.status_code == 413


def test_unknown_v1_route_is_json_404(base_url):
    r = httpx.get(base_url + "/v1/embeddings")
    assert r.status_code in (404, 405) and "error" in r.json()


def test_with_auth_on_the_api_key_is_the_bearer_token(assistant, tmp_path_factory):
    app = create_app(assistant, Settings(token=TOKEN, data_dir=tmp_path_factory.mktemp("data")), ui=False)
    with serve(app) as url:
        good = openai.OpenAI(base_url=url + "/v1", api_key=TOKEN, max_retries=0, timeout=120)
        bad = openai.OpenAI(base_url=url + "/v1", api_key="wrong-" + TOKEN, max_retries=0, timeout=120)
        assert MODEL in {m.id for m in good.models.list()}
        assert re.search("第21项", ask(good, STUDENT_AID).choices[0].message.content)
        with pytest.raises(openai.AuthenticationError):
            ask(bad, STUDENT_AID)
        with pytest.raises(openai.AuthenticationError):
            bad.models.list()
        # no header at all: refused too (a browser's session cookie alone never authorises /v1)
        assert httpx.post(url + "/v1/chat/completions", json={"model": MODEL, "messages": [
            {"role": "user", "content": STUDENT_AID}]}).status_code == 401


def test_text_that_spells_a_special_token_is_plain_text(client):
    # tiktoken refuses '<|endoftext|>' by default; the usage count must not turn it into a 500
    completion = ask(client, "学生资助<|endoftext|>由哪个科室牵头？", stream=False)
    assert completion.usage.prompt_tokens > 5
    assert completion.model_extra["assistant"]["kind"]
