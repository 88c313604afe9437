"""The deployment past one machine: vectors in a Chroma server (`chroma run`), app processes and their
answer workers sharing it, new builds picked up while serving; and the docker-compose files a
bureau's IT starts (checked for consistency here: this machine runs no Docker engine).
"""
from __future__ import annotations

import json
import shutil
import sys

import httpx
import pytest
import yaml

from web_support import ROOT, LiveServer, chroma_server, wait_for

QUESTIONS = {"学生资助由哪个科室牵头？": "dazhou-2020:21", "邵东今年要新增多少学位？": "shaodong-2020:7"}


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A real `chroma run` server on a free loopback port, for this module."""
    yield from chroma_server(tmp_path_factory.mktemp("chroma-server"))


def test_workers_share_a_chroma_server_and_follow_new_builds(chroma_url, built_index, tmp_path):
    from assistant.store import IndexStore

    index_dir, corpus_dir = built_index
    plans = tmp_path / "plans"
    plans.mkdir()
    for name in ("dazhou-2020.txt", "shaodong-2020.txt"):
        shutil.copy(corpus_dir / name, plans / name)
    server_index = tmp_path / "index"
    first = IndexStore(server_index, chroma_url=chroma_url).build(plans, progress=False)
    assert not (server_index / "chroma").exists(), "the vectors live in the server"

    # One app replica with two answer workers that starts from the Chroma server alone: an empty index
    # folder of its own, the records and the BM25 index rebuilt from what the build published there.
    replica_cache = tmp_path / "replica-cache"
    server = LiveServer(extra_args=["--index", str(replica_cache), "--chroma-url", chroma_url, "--no-build"],
                        env={"ASSISTANT_WORKERS": "2", "ASSISTANT_FOLLOW_CHROMA": "1", "ASSISTANT_FOLLOW_SECONDS": "1"})
    try:
        server.wait()
        build_dir = f"builds/{first.build_id}"
        assert (replica_cache / build_dir / "records.json").read_bytes() == \
            (server_index / build_dir / "records.json").read_bytes(), "the same records as the indexer's"
        # The keyword index is rebuilt over the same records with the same user dictionary. (Its postings
        # are not compared: jieba's dictionary is process-wide, and this test process has also indexed
        # the other shipped plans, whose words the indexer above could use; a one-shot indexer cannot.)
        theirs, mine = (json.loads((folder / build_dir / "keyword" / "keyword.json").read_text(encoding="utf-8"))
                        for folder in (server_index, replica_cache))
        assert (mine["ids"], mine["words"]) == (theirs["ids"], theirs["words"])
        assert "2 answer workers ready" in server.log()
        for question, cited in QUESTIONS.items():
            for _ in range(3):  # several requests: more than one worker answers
                answer = httpx.post(server.url + "/api/ask", json={"question": question}, timeout=60).json()
                assert answer["supported"] and cited in [c["id"] for c in answer["citations"]], answer
        assert httpx.get(server.url + "/healthz").json()["build"] == first.build_id

        # A new build (another plan file) lands in the server while the app runs: it answers from it.
        shutil.copy(corpus_dir / "hengyang-2022.txt", plans / "hengyang-2022.txt")
        second = IndexStore(server_index, chroma_url=chroma_url).build(plans, progress=False)
        assert second.embedded and second.reused, "unchanged items keep their vectors in the server"
        # The replica finds the new build in the server by itself (it asks every second here).
        wait_for(lambda: httpx.get(server.url + "/healthz").json()["build"] == second.build_id, timeout=60,
                 what="the replica to install the second build from the server")
        answer = httpx.post(server.url + "/api/ask", json={"question": "衡阳公参民学校什么时候转公办？"}, timeout=60).json()
        assert "hengyang-2022:5" in [c["id"] for c in answer["citations"]], answer
        assert not (replica_cache / build_dir).exists(), "the replaced build is removed from the replica's folder"
    finally:
        server.stop()

    # Another machine: a copy of the index folder (records and BM25; no vectors) and the same server.
    from assistant.service import Assistant

    replica = tmp_path / "replica-index"
    shutil.copytree(server_index, replica)
    answer = Assistant.open(replica, chroma_url=chroma_url).ask("学生资助由哪个科室牵头？")
    assert "dazhou-2020:21" in [c.id for c in answer.citations]


def test_compose_file_starts_chroma_then_the_indexer_then_the_app_behind_tls():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"chroma", "indexer", "app", "proxy"} <= set(services)
    assert services["chroma"]["command"][:2] == ["chroma", "run"]
    assert services["indexer"]["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert services["app"]["depends_on"]["indexer"]["condition"] == "service_completed_successfully"
    assert all(s["environment"]["ASSISTANT_CHROMA_URL"] == "http://chroma:8000"
               for name, s in services.items() if name != "proxy")
    assert not any(v.startswith("index:") for v in services["app"]["volumes"]), "replicas start from Chroma alone"
    assert services["app"]["environment"]["ASSISTANT_FOLLOW_CHROMA"] == "1"

    # The commands are ones our programs accept.
    sys.path.insert(0, str(ROOT))
    import app

    args = app.parse_args(services["app"]["command"][2:])
    assert args.host == "0.0.0.0" and args.no_build and str(args.index) == "/var/lib/assistant/index"
    from assistant.cli import build_parser

    build_parser().parse_args(services["indexer"]["command"][3:])

    caddy = (ROOT / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "{$ASSISTANT_DOMAIN}" in caddy and "dynamic a app 7860" in caddy and "lb_policy cookie" in caddy
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "torch==2.13.0" in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    assert "ASSISTANT_DOMAIN=" in example and "ASSISTANT_TOKEN=" in example
