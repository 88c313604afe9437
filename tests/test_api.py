"""REST API through FastAPI's TestClient, over a real index built in a temp folder (nothing mocked)."""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from assistant.api import MAX_BODY_BYTES, ConfigError, Settings, create_app
from web_support import ROOT, free_port

PLAN_IDS = {"dazhou-2020", "hengyang-2022", "shaodong-2020", "yongshun-2023"}
BASE = "http://127.0.0.1"  # the Host a loopback server answers to (TestClient's default "testserver" is refused)
TOKEN = "s3cret-token-0123456789"
PASSWORD = "correct-horse-7"


# `assistant`: conftest.py's session fixture over the shared index.


@pytest.fixture(scope="module")
def client(assistant, tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("data"))
    with TestClient(create_app(assistant, settings), base_url=BASE) as c:  # the full app: API + mounted UI
        yield c


def ask(client, **body):
    return client.post("/api/ask", json=body)


# ---- read endpoints ------------------------------------------------------------------------
def test_healthz_reports_the_loaded_build(client, assistant):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "plans": 4, "build": assistant.retriever.manifest.build_id}


def test_plans_lists_the_four_indexed_plans(client):
    r = client.get("/api/plans")
    assert r.status_code == 200
    plans = {p["id"]: p for p in r.json()}
    assert set(plans) == PLAN_IDS
    assert plans["dazhou-2020"]["title"] == "达州市教育局2020年工作要点"
    assert plans["dazhou-2020"]["item_count"] == 38
    assert plans["dazhou-2020"]["year"] == 2020


def test_plan_items_and_unknown_plan(client):
    r = client.get("/api/plans/dazhou-2020/items")
    assert r.status_code == 200
    items = r.json()
    assert len(items) == 39
    by_number = {i["item"]: i for i in items}
    assert by_number["17"]["title"] == "深入推进教育信息化建设和应用"
    assert by_number["17"]["lead_units"] == ["市电教技装中心"]
    r = client.get("/api/plans/nowhere-1999/items")
    assert r.status_code == 404
    assert r.json() == {"error": "no plan with id 'nowhere-1999'"}


def test_item_by_id_numbered_unnumbered_and_encoded(client):
    r = client.get("/api/items/dazhou-2020:21")
    assert r.status_code == 200
    item = r.json()
    assert item["plan_id"] == "dazhou-2020" and item["item"] == "21"
    assert item["lead_units"] == ["市后勤与资助中心"]
    assert item["responsible_units"] == ["计财科", "基教科", "职成科", "扶贫办"]
    assert client.get("/api/items/dazhou-2020%3A21").json()["id"] == "dazhou-2020:21"
    unnumbered = client.get("/api/items/hengyang-2022:p20").json()
    assert unnumbered["item"] is None and unnumbered["title"].startswith("统筹做好统战")
    r = client.get("/api/items/dazhou-2020:999")
    assert r.status_code == 404 and "dazhou-2020:999" in r.json()["error"]


# ---- /api/ask ------------------------------------------------------------------------------
def test_ask_returns_the_answer_contract(client):
    r = ask(client, question="学生资助由哪个科室牵头？")
    assert r.status_code == 200
    data = r.json()
    assert {"question", "answer", "supported", "kind", "citations", "retrieved", "timings_ms"} <= set(data)
    assert data["supported"] is True
    cite = data["citations"][0]
    assert cite["id"] == "dazhou-2020:21"
    assert cite["lead_units"] == ["市后勤与资助中心"]
    assert set(cite) >= {"plan", "plan_id", "item", "section", "title", "lead_units", "responsible_units",
                         "quote", "id"}
    assert "〔达州市教育局2020年工作要点·第21项〕" in data["answer"]
    assert "市后勤与资助中心" in data["answer"]
    assert data["retrieved"] and {"plan", "plan_id", "item", "score"} <= set(data["retrieved"][0])
    assert data["timings_ms"]["total"] > 0


def test_ask_with_a_plan_filter(client):
    data = ask(client, question="要新增多少学位？", plan="shaodong-2020").json()
    assert data["citations"], data
    assert {c["plan_id"] for c in data["citations"]} == {"shaodong-2020"}
    assert "10000个" in data["answer"]
    r = ask(client, question="要新增多少学位？", plan="nowhere-1999")
    assert r.status_code == 400
    assert "unknown plan" in r.json()["error"]


def test_follow_up_uses_history_dicts_and_strings(client):
    first = ask(client, question="学生资助由哪个科室牵头？").json()
    follow = ask(client, question="那它的责任科室呢？",
                 history=[{"question": first["question"], "answer": first}]).json()
    assert [c["id"] for c in follow["citations"]] == ["dazhou-2020:21"]
    assert "计财科" in follow["answer"]
    again = ask(client, question="那它的责任科室呢？", history=["学生资助由哪个科室牵头？"]).json()
    assert [c["id"] for c in again["citations"]] == ["dazhou-2020:21"]


def test_unanswerable_question_is_marked_unsupported(client):
    data = ask(client, question="火星上有几所学校？").json()
    assert data["supported"] is False
    assert data["citations"] == []


# ---- limits and errors ---------------------------------------------------------------------
def test_question_length_limit(client):
    r = ask(client, question="学" * 501)
    assert r.status_code == 422
    body = r.json()
    assert body["error"].startswith("invalid request: question:") and "500" in body["error"]
    assert ask(client, question="学" * 500).status_code == 200


def test_empty_and_blank_questions(client):
    r = ask(client, question="")
    assert r.status_code == 422 and "question" in r.json()["error"]
    r = ask(client, question="   ")
    assert r.status_code == 400 and r.json() == {"error": "question is empty"}


def test_malformed_requests_get_json_errors(client):
    r = client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"].startswith("invalid request")
    r = ask(client, question="学生资助", colour="red")
    assert r.status_code == 422 and "colour" in r.json()["error"]
    r = ask(client, question="学生资助", history=["问题"] * 21)
    assert r.status_code == 422 and "history" in r.json()["error"]
    r = ask(client, question=["not", "a", "string"])
    assert r.status_code == 422


def test_body_size_limit(client):
    big = json.dumps({"question": "学生资助", "history": ["x" * 400] * 200}).encode()
    assert len(big) > MAX_BODY_BYTES
    r = client.post("/api/ask", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json()["error"].startswith("request body too large")

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(20):
            yield b" " * 4096
    r = client.post("/api/ask", content=chunks(), headers={"content-type": "application/json"})
    assert r.request.headers["transfer-encoding"] == "chunked"
    assert r.status_code == 413
    small = json.dumps({"question": "学生资助由哪个科室牵头？"}).encode()
    assert client.post("/api/ask", content=small, headers={"content-type": "application/json"}).status_code == 200


# ---- offline docs --------------------------------------------------------------------------
def test_docs_are_served_without_a_cdn(client):
    r = client.get("/docs")
    assert r.status_code == 200
    html = r.text
    urls = re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)
    assert urls, html
    assert not [u for u in urls if re.match(r"(?:https?:)?//", u)], urls
    assert "swagger-ui-bundle.js" in html
    for u in urls:
        assert client.get(u).status_code == 200, u
    schema = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/plans", "/api/plans/{plan_id}/items", "/api/items/{item_id}", "/healthz"} <= set(
        schema["paths"])
    ask_schema = schema["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert ask_schema["maxLength"] == 500


def test_ui_is_mounted_beside_the_api(client):
    r = client.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()
    assert client.get("/config").status_code == 200


# ---- safe by default -----------------------------------------------------------------------
@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                           ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.20", False),
                                           ("::", False), ("example.org", False)])
def test_loopback_detection(host, loopback):
    assert Settings(host=host).loopback is loopback


def test_exposed_host_without_credentials_is_refused(assistant):
    with pytest.raises(ConfigError, match="ASSISTANT_TOKEN"):
        Settings(host="0.0.0.0").check()
    with pytest.raises(ConfigError):
        create_app(assistant, Settings(host="0.0.0.0"), ui=False)
    with pytest.raises(ConfigError, match="both"):
        Settings(host="0.0.0.0", user="rector").check()
    Settings(host="0.0.0.0", token=TOKEN).check()
    Settings(host="0.0.0.0", user="rector", password=PASSWORD).check()


def test_app_py_refuses_to_start_exposed_without_credentials(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--host", "0.0.0.0", "--port", str(free_port()),
                           "--index", str(tmp_path / "never-built")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0" in proc.stderr
    assert not (tmp_path / "never-built").exists()  # refused before building anything
    assert time.monotonic() - started < 60


def test_settings_from_env(tmp_path):
    s = Settings.from_env("0.0.0.0", 8080, env={"ASSISTANT_TOKEN": "abc", "ASSISTANT_DATA_DIR": str(tmp_path)})
    assert (s.host, s.port, s.token, s.data_dir) == ("0.0.0.0", 8080, "abc", tmp_path)
    assert s.auth_required
    assert Settings.from_env(env={}).data_dir == ROOT / "data"
    assert not Settings.from_env(env={}).auth_required


@pytest.fixture(scope="module")
def secured(assistant, tmp_path_factory):
    settings = Settings(host="0.0.0.0", token=TOKEN, user="rector", password=PASSWORD,
                        data_dir=tmp_path_factory.mktemp("data"), allowed_hosts=["127.0.0.1"])
    with TestClient(create_app(assistant, settings), base_url=BASE) as c:
        yield c


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.mark.parametrize("path", ["/api/plans", "/api/items/dazhou-2020:17", "/docs", "/openapi.json"])
def test_api_without_credentials_is_401(secured, path):
    r = secured.get(path)
    assert r.status_code == 401
    assert r.json()["error"].startswith("authentication required")
    assert "Basic" in r.headers["www-authenticate"]


def test_api_with_credentials(secured):
    assert secured.post("/api/ask", json={"question": "学生资助由哪个科室牵头？"}).status_code == 401
    assert secured.get("/api/plans", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert secured.get("/api/plans", headers=basic("rector", "wrong")).status_code == 401
    assert secured.get("/api/plans", headers={"Authorization": "Basic !!notbase64"}).status_code == 401
    assert secured.get("/api/plans", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert secured.get("/api/plans", headers=basic("rector", PASSWORD)).status_code == 200
    assert secured.get("/api/plans", headers=basic("anyone", TOKEN)).status_code == 200
    r = secured.post("/api/ask", json={"question": "学生资助由哪个科室牵头？"},
                     headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and r.json()["citations"][0]["id"] == "dazhou-2020:21"
    assert secured.get("/healthz").status_code == 200  # liveness stays open


def test_ui_requires_login_when_secured(secured):
    assert secured.get("/config").status_code == 401
    assert secured.get("/gradio_api/info").status_code == 401
    r = secured.post("/login", data={"username": "rector", "password": "wrong"})
    assert r.status_code == 400 and r.json() == {"detail": "Incorrect credentials."}
    fresh = TestClient(secured.app, base_url=BASE)
    r = fresh.post("/login", data={"username": "rector", "password": PASSWORD})
    assert r.status_code == 200 and r.json() == {"success": True}
    assert fresh.get("/config").status_code == 200


def test_plain_docs_fallback_is_self_contained(client):
    from assistant.api import _plain_docs

    html = _plain_docs(client.get("/openapi.json").json())
    assert "<code>POST /api/ask</code>" in html and "<code>GET /api/items/{item_id}</code>" in html
    assert not re.search(r"(?:src|href)=['\"]?(?:https?:)?//", html)
