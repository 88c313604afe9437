"""Exposure hardening: credentials, login back-off, the auth gate before the UI, Host checking,
security headers, CORS, JSON errors for unknown routes, and a prompt exit on SIGTERM.

The app is the real one (API + mounted Gradio UI) over a real index; the shutdown and Host tests
run `python app.py` in a subprocess and talk HTTP to it.
"""
from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.security import CSP, ConfigError, LoginThrottle, Settings, host_of
from assistant.service import Assistant
from web_support import ROOT, LiveServer, built_index, free_port

BASE = "http://127.0.0.1"
TOKEN = "tok-0123456789abcdef"
PASSWORD = "correct-horse-7"
LEAKS = ["dazhou-2020", "shaodong-2020", "市后勤与资助中心", "基教科", "principal"]  # plan ids, unit names, endpoints


@pytest.fixture(scope="module")
def assistant():
    return Assistant.open(index_dir=built_index(), build=False)


@pytest.fixture(scope="module")
def open_app(assistant, tmp_path_factory):
    return create_app(assistant, Settings(data_dir=tmp_path_factory.mktemp("data")))


@pytest.fixture(scope="module")
def client(open_app):
    with TestClient(open_app, base_url=BASE) as c:
        yield c


@pytest.fixture()
def secured_app(assistant, tmp_path):
    """A fresh secured app per test: the login back-off state starts empty."""
    settings = Settings(host="0.0.0.0", token=TOKEN, user="rector", password=PASSWORD, data_dir=tmp_path,
                        allowed_hosts=["127.0.0.1"])
    return create_app(assistant, settings)


def basic(user: str, password: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


# ---- credentials ---------------------------------------------------------------------------
@pytest.mark.parametrize("token", [" ", "a", "x" * 15, " " * 20, "short token 12", f" {TOKEN}", f"{TOKEN}\n"])
def test_weak_tokens_are_refused(token):
    with pytest.raises(ConfigError, match="ASSISTANT_TOKEN is too weak"):
        Settings(host="0.0.0.0", token=token).check()


@pytest.mark.parametrize("user,password", [("rector", "pa55"), ("rector", "aaaaaaaaaaaa"), ("rector", "rector"),
                                           ("admin", "ADMIN"), ("rector", "1234567")])
def test_weak_passwords_are_refused(user, password):
    with pytest.raises(ConfigError, match="ASSISTANT_PASSWORD is too weak"):
        Settings(host="0.0.0.0", user=user, password=password).check()


def test_strong_credentials_are_accepted():
    Settings(host="0.0.0.0", token=TOKEN).check()
    Settings(host="0.0.0.0", user="rector", password=PASSWORD).check()
    Settings(token="x" * 16).check()  # on loopback too: a weak secret is refused wherever it is set


def test_app_py_refuses_a_blank_token():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_TOKEN"] = " "
    proc = subprocess.run([sys.executable, str(ROOT / "app.py"), "--host", "0.0.0.0", "--port", str(free_port())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "ASSISTANT_TOKEN is too weak" in proc.stderr


def test_login_throttle_window():
    now = [1000.0]
    throttle = LoginThrottle(max_failures=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after("a") == 0
        throttle.failed("a")
    assert 1 <= throttle.retry_after("a") <= 61
    assert throttle.retry_after("b") == 0  # per client
    now[0] += 61
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.retry_after("a") == 0


def test_repeated_failed_api_logins_get_429(secured_app):
    with TestClient(secured_app, base_url=BASE) as c, \
            TestClient(secured_app, base_url=BASE, client=("10.9.9.9", 4000)) as other:
        for _ in range(5):
            assert c.get("/api/plans", headers=basic("rector", "wrong-password")).status_code == 401
        r = c.get("/api/plans", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 429, r.text
        assert 1 <= int(r.headers["retry-after"]) <= 61
        assert r.json()["error"].startswith("too many failed logins")
        # Another client is not locked out; a request without credentials is a plain 401, not counted.
        assert other.get("/api/plans", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
        assert other.get("/api/plans").status_code == 401


def test_repeated_failed_ui_logins_get_429(secured_app):
    with TestClient(secured_app, base_url=BASE) as c:
        for _ in range(5):
            r = c.post("/login", data={"username": "rector", "password": "wrong-password"})
            assert r.status_code == 400
        r = c.post("/login", data={"username": "rector", "password": PASSWORD})
        assert r.status_code == 429 and "retry-after" in r.headers


# ---- nothing before login -------------------------------------------------------------------
def test_login_page_does_not_leak_the_app_before_login(secured_app):
    with TestClient(secured_app, base_url=BASE) as c:
        r = c.get("/")
        assert r.status_code == 200 and "<html" in r.text.lower()
        assert '"auth_required":true' in r.text.replace(" ", "")
        assert "window.gradio_api_info = null;" in r.text
        for word in LEAKS:
            assert word not in r.text, word
        assert c.post("/login", data={"username": "rector", "password": PASSWORD}).status_code == 200
        page = c.get("/").text  # logged in: the real page with its API description
        assert "dazhou-2020" in page and "principal" in page


@pytest.mark.parametrize("path", ["/config", "/gradio_api/info", "/gradio_api/openapi.json", "/gradio_api/queue/data",
                                  "/gradio_api/heartbeat/abc", "/gradio_api/startup-events", "/gradio_api/upload_progress",
                                  "/monitoring/abc", "/gradio_api/file=/etc/passwd", "/gradio_api/call/ask",
                                  "/user", "/token", "/app_id", "/nowhere", "/api/nowhere", "/docs", "/openapi.json"])
def test_everything_but_login_static_and_healthz_needs_credentials(secured_app, path):
    with TestClient(secured_app, base_url=BASE) as c:
        r = c.get(path)
        assert r.status_code == 401, (path, r.status_code, r.text[:200])
        assert r.json()["error"].startswith("authentication required")
        assert c.get("/healthz").status_code == 200
        assert c.get("/favicon.ico").status_code in (200, 404)
        assert c.post("/gradio_api/call/ask", json={"data": ["学生资助由哪个科室牵头？"]}).status_code == 401


# ---- Host header, headers, CORS -------------------------------------------------------------
@pytest.mark.parametrize("host,ok", [("127.0.0.1", True), ("127.0.0.1:7860", True), ("localhost:7860", True),
                                     ("[::1]:7860", True), ("evil.example", False), ("evil.example:7860", False),
                                     ("127.0.0.1.evil.example", False), ("", False)])
def test_only_the_bound_host_names_are_answered(client, host, ok):
    r = client.get("/api/plans", headers={"host": host})
    assert (r.status_code == 200) is ok, (host, r.status_code)
    if not ok:
        assert r.status_code == 400 and r.json()["error"].startswith("invalid Host header")


def test_allowed_hosts_from_the_environment():
    s = Settings.from_env("127.0.0.1", 7860, env={"ASSISTANT_ALLOWED_HOSTS": "assistant.example, 10.0.0.5"})
    assert {"assistant.example", "10.0.0.5", "127.0.0.1", "localhost", "::1"} <= s.host_names()
    assert Settings(host="192.168.1.20", token=TOKEN).host_names() == {"192.168.1.20"}
    assert "localhost" in Settings(host="0.0.0.0", token=TOKEN).host_names()
    assert [host_of(h) for h in ("A.example:80", "[::1]:7860", "::1", "b")] == ["a.example", "::1", "::1", "b"]


@pytest.mark.parametrize("path", ["/", "/api/plans", "/healthz", "/docs", "/api/nowhere", "/nowhere", "/config"])
def test_security_headers_on_every_response(client, path):
    r = client.get(path)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "SAMEORIGIN"
    assert r.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'self'" in CSP and "default-src 'self'" in CSP
    bad = client.get("/api/plans", headers={"host": "evil.example"})
    assert bad.headers["x-frame-options"] == "SAMEORIGIN"


def test_cross_origin_requests_get_no_cors_grant(client, secured_app):
    for origin in ("http://localhost:9999", "http://evil.example", "null"):
        r = client.get("/api/plans", headers={"origin": origin})
        assert "access-control-allow-origin" not in r.headers, origin
        assert "access-control-allow-credentials" not in r.headers, origin
        r = client.get("/config", headers={"origin": origin})
        assert "access-control-allow-origin" not in r.headers, origin
        pre = client.options("/gradio_api/queue/join", headers={"origin": origin, "access-control-request-method": "POST"})
        assert "access-control-allow-origin" not in pre.headers, origin
    refused = client.options("/api/ask", headers={"origin": "http://evil.example", "access-control-request-method": "POST"})
    assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
    assert "CORS" in refused.json()["error"]  # the API's JSON error shape, not plain text
    with TestClient(secured_app, base_url=BASE) as c:  # exposed host: Gradio used to reflect any origin here
        r = c.get("/healthz", headers={"origin": "http://evil.example"})
        assert "access-control-allow-origin" not in r.headers


# ---- JSON errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/nowhere", "/api/nowhere", "/api/plans/x/y/z", "/gradio_api/nowhere"])
def test_unknown_routes_answer_json_errors(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert set(r.json()) == {"error"}, r.text


def test_wrong_method_is_405_with_allow(client):
    r = client.get("/api/ask")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert set(r.json()) == {"error"}
    r = client.delete("/api/plans")
    assert r.status_code == 405 and r.headers["allow"] == "GET"


# ---- a real server ---------------------------------------------------------------------------
def test_real_server_refuses_foreign_hosts_and_exits_promptly_on_sigterm():
    server = LiveServer().wait()
    try:
        assert httpx.get(server.url + "/api/plans", headers={"host": "evil.example"}).status_code == 400
        r = httpx.get(server.url + "/api/plans", headers={"host": f"localhost:{server.port}"})
        assert r.status_code == 200 and r.headers["x-frame-options"] == "SAMEORIGIN"
        opened = threading.Event()

        def heartbeat():  # the event stream every open browser tab keeps
            try:
                with httpx.stream("GET", server.url + "/gradio_api/heartbeat/fuzz-session", timeout=60) as r:
                    opened.set()
                    for _ in r.iter_bytes():
                        pass
            except httpx.HTTPError:
                pass
        thread = threading.Thread(target=heartbeat, daemon=True)
        thread.start()
        assert opened.wait(15)
        time.sleep(0.5)
        started = time.monotonic()
        server.proc.terminate()
        server.proc.wait(timeout=20)
        assert time.monotonic() - started < 8, "the server waited for the open heartbeat stream"
    finally:
        server.stop()
