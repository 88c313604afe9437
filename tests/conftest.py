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
