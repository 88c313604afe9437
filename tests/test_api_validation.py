"""POST /api/ask validates every field, nested ones included: a hostile body is a 422 JSON error,
never a 500, and nothing odd reaches the engine or a Chroma filter. Real app over a real index."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.schemas import MAX_HISTORY_TURNS
from assistant.security import Settings

BASE = "http://127.0.0.1"
Q = "学生资助由哪个科室牵头？"


@pytest.fixture(scope="module")
def client(assistant, tmp_path_factory):
    app = create_app(assistant, Settings(data_dir=tmp_path_factory.mktemp("data")), ui=False)
    # raise_server_exceptions=False: a crash must show up as the status the client would see
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def turn(answer) -> dict:
    return {"question": Q, "answer": answer}


HOSTILE = {
    "context is a list": {"question": "那它呢？", "history": [turn({"context": ["dazhou-2020"]})]},
    "context is a string": {"question": "那它呢？", "history": [turn({"context": "dazhou-2020"})]},
    "context is a number": {"question": "那它呢？", "history": [turn({"context": 17})]},
    "item_id is a list": {"question": "那它呢？", "history": [turn({"context": {"item_id": ["dazhou-2020:21"]}})]},
    "plan_id is an operator": {"question": "那它呢？", "history": [turn({"context": {"plan_id": {"$ne": "x"}}})]},
    "plan_id with spaces": {"question": "那它呢？", "history": [turn({"context": {"plan_id": "a b"}})]},
    "item_id too long": {"question": "那它呢？", "history": [turn({"context": {"item_id": "a" * 121}})]},
    "inherited not a list": {"question": "那它呢？", "history": [turn({"context": {"inherited": "plan_id"}})]},
    "citations not a list": {"question": "那它呢？", "history": [turn({"citations": "dazhou-2020:21"})]},
    "citations of numbers": {"question": "那它呢？", "history": [turn({"citations": [1, 2]})]},
    "citation id an object": {"question": "那它呢？", "history": [turn({"citations": [{"id": {"$gt": ""}}]})]},
    "answer is a list": {"question": "那它呢？", "history": [turn(["not", "an", "answer"])]},
    "supported not a bool": {"question": "那它呢？", "history": [turn({"supported": {"x": 1}})]},
    "kind a list": {"question": "那它呢？", "history": [turn({"kind": ["fact"]})]},
    "turn is a number": {"question": "那它呢？", "history": [42]},
    "turn has no question": {"question": "那它呢？", "history": [{"answer": {}}]},
    "turn with an unknown key": {"question": "那它呢？", "history": [{"question": Q, "colour": "red"}]},
    "surrogate in question": {"question": "学生\ud800资助"},
    "surrogate in plan": {"question": Q, "plan": "\udfff"},
    "surrogate in history string": {"question": "那它呢？", "history": ["学生\ud800资助由哪个科室牵头？"]},
    "surrogate in turn question": {"question": "那它呢？", "history": [{"question": "\ud800"}]},
    "surrogate in context unit": {"question": "那它呢？", "history": [turn({"context": {"unit": "基教科\udc00"}})]},
    "surrogate in citation quote": {"question": "那它呢？", "history": [turn({"citations": [{"quote": "\ud83d"}]})]},
    "surrogate as a key": {"question": Q, "\ud800": 1},
    "too many turns": {"question": "那它呢？", "history": [Q] * (MAX_HISTORY_TURNS + 1)},
    "turn too long": {"question": "那它呢？", "history": ["学" * 501]},
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bodies_are_422_json(client, name):
    # ensure_ascii: a lone surrogate travels as the JSON escape "\ud800", as a hostile client sends it
    r = client.post("/api/ask", content=json.dumps(HOSTILE[name]).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, (name, r.status_code, r.text[:300])
    body = r.json()
    assert body["error"].startswith("invalid request") and isinstance(body["detail"], list)


@pytest.mark.parametrize("raw", [b"[" * 5000 + b"]" * 5000, b'{"question": "' + b"\xff\xfe" + b'"}',
                                 b'{"question": ' + b"[" * 20000 + b"]" * 20000 + b"}", b"\x00", b""])
def test_unparsable_bodies_are_422_json(client, raw):
    r = client.post("/api/ask", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, (raw[:30], r.status_code, r.text[:300])
    assert r.json()["error"].startswith("invalid request")


def test_echoed_answers_with_extra_context_keys_still_work(client):
    first = client.post("/api/ask", json={"question": Q}).json()
    echoed = dict(first, context={**first.get("context", {}), "future_key": {"nested": [1, 2]}, "topic": ["资助"]})
    r = client.post("/api/ask", json={"question": "那它的责任科室呢？", "history": [turn(echoed)]})
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["citations"]] == ["dazhou-2020:21"]
    minimal = {"question": "那它的责任科室呢？",
               "history": [turn({"context": {"plan_id": "dazhou-2020", "item_id": "dazhou-2020:21"}})]}
    assert client.post("/api/ask", json=minimal).status_code == 200


def test_unknown_ids_in_a_valid_context_do_not_crash(client):
    body = {"question": "那它的责任科室呢？",
            "history": [turn({"context": {"plan_id": "nowhere-1999", "item_id": "nowhere-1999:1"},
                              "citations": [{"plan_id": "nowhere-1999", "id": "nowhere-1999:1"}]})]}
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200, r.text
    assert all(c["plan_id"] != "nowhere-1999" for c in r.json()["citations"])


def test_history_is_bounded_in_the_schema(client):
    schema = client.app.openapi()["components"]["schemas"]["AskRequest"]["properties"]["history"]
    assert schema["maxItems"] == MAX_HISTORY_TURNS
    ok = {"question": "那它的责任科室呢？", "history": [Q] * MAX_HISTORY_TURNS}
    assert client.post("/api/ask", json=ok).status_code == 200
    assert json.loads(client.post("/api/ask", json={"question": Q, "history": []}).text)["citations"]
