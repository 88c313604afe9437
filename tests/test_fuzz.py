"""Fuzz suite (about a minute): no 5xx, no crash, no lost batch line, no foreign or missing citation.

- schemathesis generates requests for every operation of our own OpenAPI schema (ASGI transport,
  the real app over a real index) and asserts no 5xx;
- hypothesis throws nested garbage at POST /api/ask (history turns, contexts, citations, lone
  surrogates): every answer is 200/400/422 JSON, and every citation names a record the index holds;
- hypothesis feeds `ask --batch` arbitrary byte lines: one output per non-blank line, in order;
- hypothesis writes corpus folders with odd names and contents: loading never crashes, a good plan
  beside them still loads, every other file is either a plan or reported.

Generated text is kept short where the engine answers it: an answer costs real CPU, and the point
here is shapes and characters; the cost bound has its own benchmark (eval/flood.py).
"""
from __future__ import annotations

import json
import shutil
import string
import tempfile
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assistant.api import create_app
from assistant.cli_ask import answer_batch
from assistant.corpus import load_corpus
from assistant.security import Settings
from assistant.service import Assistant
from web_support import built_index

FUZZ = settings(deadline=None, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
SHORT = 40  # characters of generated text the engine actually reads


@pytest.fixture(scope="module")
def assistant():
    return Assistant.open(index_dir=built_index(), build=False)


@pytest.fixture(scope="module")
def app(assistant, tmp_path_factory):
    # schemathesis' ASGI client sends Host: testserver; the operator's allow-list is how such a name gets in
    settings_ = Settings(data_dir=tmp_path_factory.mktemp("data"), allowed_hosts=["testserver"])
    return create_app(assistant, settings_, ui=False)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# ---- schemathesis over our OpenAPI schema --------------------------------------------------
@schemathesis.hook
def map_body(context, body):
    """Shorten what the engine reads (question, history turns); every other shape is kept."""
    if isinstance(body, dict) and isinstance(body.get("question"), str):
        body = dict(body, question=body["question"][:SHORT] or "?")
        if isinstance(body.get("history"), list):
            body["history"] = [t[:SHORT] if isinstance(t, str) else t for t in body["history"][:2]]
    return body


def test_schema_fuzz_never_5xx(app):
    # The schema is loaded from the app at run time (the index fixture is too slow for import time).
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/ask", "/api/plans", "/api/items/{item_id}", "/healthz"}
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(FUZZ, max_examples=100)
        def run(case):
            response = case.call()
            event(f"{operation.path} {response.status_code}")
            assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:300])
        run()


# ---- /api/ask bodies --------------------------------------------------------------------------
text = st.text(max_size=SHORT)  # lone surrogates included: st.text draws from every code point
clean = st.text(st.characters(exclude_categories=("Cs",)), max_size=SHORT)
questions = st.one_of(st.sampled_from(["学生资助由哪个科室牵头？", "那它的责任科室呢？", "第17项是什么", "达州2020年第一百项是什么？",
                                       "北京第17项是什么？", "基教科牵头哪些任务？"]), clean.filter(str.strip))
ids = st.one_of(text, st.sampled_from(["dazhou-2020", "dazhou-2020:21", "hengyang-2022:p20", "x:header", "a b",
                                       "shaodong-2020:7", "nowhere-1999:1"]))
good_ids = st.sampled_from(["dazhou-2020", "dazhou-2020:21", "hengyang-2022:p20", "shaodong-2020:7", "nowhere-1999:1"])
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text, ids)
garbage = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(text, inner, max_size=4)), max_leaves=12)


def maybe(valid, odds: int = 4):
    """Mostly `valid`, sometimes garbage in its place (1 in `odds`)."""
    return st.integers(1, odds).flatmap(lambda n: garbage if n == 1 else valid)


context = maybe(st.fixed_dictionaries({}, optional={
    "plan_id": maybe(good_ids), "item_id": maybe(good_ids), "unit": maybe(clean), "section": maybe(clean),
    "inherited": maybe(st.lists(clean, max_size=3)), "topic": maybe(st.lists(clean, max_size=3)), "extra": garbage}))
citation = maybe(st.fixed_dictionaries({}, optional={
    "plan_id": maybe(good_ids), "id": maybe(good_ids), "item": maybe(st.one_of(clean, st.none())),
    "quote": maybe(clean), "extra": garbage}))
answer_turn = maybe(st.fixed_dictionaries({}, optional={
    "answer": maybe(clean), "supported": maybe(st.booleans()), "kind": maybe(clean),
    "citations": maybe(st.lists(citation, max_size=3)), "context": context}))
turn = maybe(st.one_of(questions, st.fixed_dictionaries({"question": maybe(questions)},
                                                        optional={"answer": answer_turn})), odds=6)
body = maybe(st.fixed_dictionaries(
    {"question": maybe(questions, odds=8)},
    optional={"plan": maybe(st.one_of(st.none(), st.sampled_from(["dazhou-2020", "shaodong-2020", "nowhere"]))),
              "history": maybe(st.lists(turn, max_size=3), odds=8), "extra": garbage}), odds=10)


@given(body=body)
@settings(FUZZ, max_examples=500)
def test_ask_bodies_never_5xx_and_cite_only_real_records(client, assistant, body):
    raw = json.dumps(body).encode()  # ensure_ascii: lone surrogates travel as \ud800 escapes
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 413, 422, 503), (r.status_code, r.text[:300], body)
    event(f"status {r.status_code}")
    data = r.json()
    if r.status_code != 200:
        assert isinstance(data["error"], str) and data["error"]
        return
    for c in data["citations"]:
        found = assistant.item(c["id"])
        if found is None:  # the notice header of a plan is cited as <plan id>:header
            assert c["id"].endswith(":header") and any(p.id == c["plan_id"] for p in assistant.plans()), c
        else:
            assert found[0].id == c["plan_id"] and found[1].number == c["item"], c
    if isinstance(body.get("plan"), str) and body["plan"]:
        assert {c["plan_id"] for c in data["citations"]} <= {body["plan"]}, data["citations"]


# ---- ask --batch lines ------------------------------------------------------------------------
json_line = st.builds(lambda v: json.dumps(v).encode(), st.fixed_dictionaries(
    {"id": st.one_of(st.none(), st.integers(), text, garbage)},
    optional={"question": maybe(st.one_of(questions, text)), "plan": maybe(st.sampled_from(["dazhou-2020", "x"])),
              "history": maybe(st.lists(maybe(questions), max_size=2))}))
nested = st.builds(lambda depth, open_, close: open_ * depth + close * depth,
                   st.integers(1, 20000), st.sampled_from([b"["]), st.sampled_from([b"]"]))
batch_lines = st.lists(st.one_of(json_line, st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ")), nested,
                                 st.just(b""), st.just(b"   ")), max_size=8)


@given(lines=batch_lines)
@settings(FUZZ, max_examples=300)
def test_batch_lines_one_output_each_never_a_crash(assistant, lines):
    out: list[str] = []
    count = answer_batch(assistant, lines, out.append)
    expected = [n for n, raw in enumerate(lines, 1) if raw.strip()]
    assert count == len(out) == len(expected)
    for text_, lineno in zip(out, expected):
        row = json.loads(text_)
        assert ("error" in row) != ("citations" in row), row
        event("answered" if "citations" in row else "error line")
        if "error" in row:
            assert row.get("line") == lineno, row
        text_.encode("utf-8")  # always writable


# ---- corpus files -----------------------------------------------------------------------------
name_chars = st.sampled_from(list(string.ascii_letters + string.digits + "-_ .#中文计划()[]'"))
file_name = st.builds(lambda stem, suffix: stem.strip() + suffix, st.text(name_chars, min_size=1, max_size=12),
                      st.sampled_from([".txt", ".md", ".TXT", ".docx", ".pdf", ".text", ".markdown", ".csv", ""]))
plan_like = st.builds(lambda lines: "\n".join(lines), st.lists(st.one_of(
    st.sampled_from(["某市教育局2020年工作要点", "一、加强党的建设", "1.推进学位建设", "牵头单位：基教科",
                     "责任单位：计财科、基教科", "（二）深化改革", "2020年底前完成新增学位3000个。"]),
    st.text(max_size=30)), max_size=12))
content = st.one_of(st.binary(max_size=400), plan_like.map(lambda t: t.encode("utf-8", "surrogatepass")),
                    plan_like.map(lambda t: t.encode("gb18030", "replace")),
                    plan_like.map(lambda t: t.encode("utf-16", "surrogatepass")))


@given(files=st.dictionaries(file_name, content, max_size=5))
@settings(FUZZ, max_examples=200)
def test_corpus_files_never_crash_the_loader(plans_dir, files):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        shutil.copy(plans_dir / "hengyang-2022.txt", folder / "zz-good.txt")
        written = set()
        for name, data in files.items():
            if name in ("zz-good.txt",) or name.startswith(".") or "/" in name:
                continue
            try:
                (folder / name).write_bytes(data)
            except OSError:  # a name the file system refuses
                continue
            written.add(name)
        corpus = load_corpus(folder)
        loaded = {p.source for p in corpus.plans}
        reported = {Path(e.path).name for e in corpus.errors}
        good = next(p for p in corpus.plans if p.source == "zz-good.txt")  # the real plan still loads
        assert len(good.numbered_items) > 10
        assert not loaded & reported
        from assistant.corpus import plan_files

        assert {p.name for p in plan_files(folder)} <= loaded | reported


# ---- item numbers: the asked item or a refusal, never another --------------------------------
PLAN_NAMES = {"dazhou-2020": ("达州", 2020), "hengyang-2022": ("衡阳", 2022), "shaodong-2020": ("邵东", 2020),
              "yongshun-2023": ("永顺", 2023)}
ITEM_TEMPLATES = ["{place}{year}年第{n}项是什么？", "{place}{year}年工作要点第{n}项讲什么？", "{place}第{n}项由哪个科室牵头？",
                  "{place}{year}年的第{n}条讲的是什么"]


def _numeral(n: int, style: str) -> str:
    """n as a question writes it: Arabic, Chinese (cn2an), or Chinese with 两 for a leading 二百/二千."""
    import cn2an

    if style == "arabic":
        return str(n)
    written = cn2an.an2cn(n)
    return "两" + written[1:] if style == "liang" and written[:2] in ("二百", "二千") else written


def _item_number(draw_max: int):
    """In range most of the time; otherwise just past the end, a round hundred, or far beyond."""
    return st.one_of(st.integers(1, draw_max), st.integers(draw_max + 1, draw_max + 12),
                     st.sampled_from([100, 101, 110, 200, 201, 1000, 1001, 2000]), st.integers(draw_max + 1, 99_999))


item_questions = st.sampled_from(sorted(PLAN_NAMES)).flatmap(lambda plan_id: st.tuples(
    st.just(plan_id), _item_number(40), st.sampled_from(["arabic", "chinese", "liang"]), st.sampled_from(ITEM_TEMPLATES)))


@given(asked=item_questions)
@settings(FUZZ, max_examples=150)
def test_item_number_questions_cite_the_asked_item_or_refuse(assistant, asked):
    plan_id, n, style, template = asked
    place, year = PLAN_NAMES[plan_id]
    question = template.format(place=place, year=year, n=_numeral(n, style))
    plan = next(p for p in assistant.plans() if p.id == plan_id)
    exists = plan.item(str(n)) is not None
    answer = assistant.ask(question).to_dict()
    event(f"{'in' if exists else 'out of'} range, {'supported' if answer['supported'] else 'refused'}")
    for c in answer["citations"]:  # every citation is a record the index holds
        assert assistant.item(c["id"]) is not None or c["id"] == f"{c['plan_id']}:header", (question, c)
    cited = {c["id"] for c in answer["citations"]}
    if exists and answer["supported"]:
        assert cited == {f"{plan_id}:{n}"}, (question, answer["answer"][:200], cited)
    elif not exists:  # the asked item does not exist: refused, and no other item stands in for it
        assert not answer["supported"], (question, answer["answer"][:200], cited)
        assert cited <= {f"{plan_id}:header"}, (question, answer["answer"][:200], cited)


# Places the corpus has no plan for: municipalities (北京 … once read as "every plan"), provinces, cities.
UNKNOWN_PLACES = ["北京", "北京市", "天津", "上海", "重庆", "湖北省", "湖南省", "成都", "深圳市", "益阳"]


@given(place=st.sampled_from(UNKNOWN_PLACES), n=st.integers(1, 40), style=st.sampled_from(["arabic", "chinese"]),
       template=st.sampled_from(ITEM_TEMPLATES), year=st.sampled_from([2020, 2022, 2023]))
@settings(FUZZ, max_examples=40)
def test_item_of_an_unknown_place_is_refused_without_citing_another_plan(assistant, place, n, style, template, year):
    question = template.format(place=place, year=year, n=_numeral(n, style))
    answer = assistant.ask(question).to_dict()
    assert not answer["supported"] and not answer["citations"], (question, answer["answer"][:200])
