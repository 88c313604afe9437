"""Shared by the API, web and browser tests: one index built in a temp folder, one live server.

Both are cached per test process (several test modules use them), and cleaned up at exit.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
_cache: dict = {}


def built_index() -> Path:
    """A fresh index of the shipped corpus in a temp folder (built once per test process, ~40 s)."""
    if "index" not in _cache:
        from assistant.store import IndexStore

        tmp = Path(tempfile.mkdtemp(prefix="assistant-test-index-"))
        atexit.register(shutil.rmtree, tmp, True)
        IndexStore(tmp / "index").build(progress=False)
        _cache["index"] = tmp / "index"
    return _cache["index"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`python app.py` in a subprocess on a free 127.0.0.1 port, over a copy of the test index."""

    def __init__(self, extra_args: list[str] | None = None, env: dict | None = None):
        self.tmp = Path(tempfile.mkdtemp(prefix="assistant-test-server-"))
        self.index = self.tmp / "index"
        shutil.copytree(built_index(), self.index)
        self.data_dir = self.tmp / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.tmp / "server.log"
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("ASSISTANT_TOKEN", "ASSISTANT_USER", "ASSISTANT_PASSWORD")}
        full_env.update({"ASSISTANT_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1"})
        full_env.update(env or {})
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(self.port), "--index", str(self.index),
             *(extra_args or [])],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait(self, timeout: float = 180) -> "LiveServer":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app.py did not answer /healthz within {timeout:.0f}s:\n{self.log()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def live_server() -> LiveServer:
    """The shared server of this test process (started on first use, stopped at exit)."""
    if "server" not in _cache:
        server = LiveServer()
        atexit.register(server.stop)
        _cache["server"] = server.wait()
    return _cache["server"]
