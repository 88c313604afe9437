"""The persistent item index: Chroma collection + BM25 + the records, built incrementally and atomically.

Layout of an index folder:

    index/
      CURRENT.json          which build readers use (replaced atomically, last step of a build)
      chroma/               the embedded Chroma store (unused with a Chroma server)
      builds/<build_id>/    manifest.json, records.json, keyword/ (BM25)

Every build writes a new Chroma collection `items_<build_id>`. Chunks whose text is unchanged
are copied from the previous collection with their stored vectors (never re-embedded); new or
changed chunks are embedded. Only when everything is written does CURRENT.json switch, so a build
that dies half way leaves the previous index fully usable, and readers never see a half-built one.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .chunks import Chunk, chunk_plans
from .corpus import load_corpus
from .keyword import KeywordIndex, plan_terms
from .models import Item, Plan

DEFAULT_INDEX = Path(__file__).resolve().parent.parent / "index"
EMBED_BATCH = 16
ADD_BATCH = 512  # chunks written to Chroma per call
FORMAT_VERSION = 1
_SEGMENT_DIR_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class IndexUnavailable(Exception):
    """The index is missing, stale in format, or unusable; the message says what to run."""


@dataclass
class Manifest:
    build_id: str
    created: float
    embedder: str
    dim: int
    collection: str
    format: int = FORMAT_VERSION
    chunks: dict[str, str] = field(default_factory=dict)  # chunk id -> content hash
    sources: dict[str, str] = field(default_factory=dict)  # file name -> content hash
    plans: list[str] = field(default_factory=list)
    record_count: int = 0

    @classmethod
    def load(cls, path: Path) -> "Manifest":
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class BuildReport:
    """What a build did, for the CLI and tests."""

    build_id: str = ""
    plans: int = 0
    records: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    full_rebuild: bool = False
    message: str = ""
    errors: list[str] = field(default_factory=list)
    kept_from_previous: list[str] = field(default_factory=list)
    unchanged: bool = False
    orphans_removed: list[str] = field(default_factory=list)  # Chroma segment folders no collection owns

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def chroma_client(root: Path, chroma_url: str | None = None) -> Any:
    """An embedded Chroma under `root/chroma`, or an HttpClient for a `chroma run` server."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    chroma_url = chroma_url or os.environ.get("ASSISTANT_CHROMA_URL") or None
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        return chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                   ssl=url.scheme == "https", settings=settings)
    (root / "chroma").mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(root / "chroma"), settings=settings)


class IndexStore:
    """One index folder (and its Chroma store): build it, and open the current build for reading."""

    def __init__(self, root: Path | str | None = None, chroma_url: str | None = None, follow: bool | None = None):
        from .replica import Follower, follow_requested

        self.root = Path(root) if root else DEFAULT_INDEX
        self.chroma_url = chroma_url or os.environ.get("ASSISTANT_CHROMA_URL") or None
        self._client: Any = None
        # A replica without the index folder: records and BM25 come from the Chroma server (replica.py).
        self.follower = Follower(self) if self.chroma_url and follow_requested(follow) else None
        # Collections are named per index folder, so several indexes can share one Chroma server.
        self.prefix = "items_" + hashlib.sha1(str(self.root.resolve()).encode()).hexdigest()[:8] + "_"

    # ---- reading -------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = chroma_client(self.root, self.chroma_url)
        return self._client

    def current(self) -> Manifest | None:
        """The manifest of the build readers should use, or None when there is none."""
        pointer = self.root / "CURRENT.json"
        if not pointer.exists():
            return None
        build_id = json.loads(pointer.read_text(encoding="utf-8"))["build"]
        path = self.root / "builds" / build_id / "manifest.json"
        if not path.exists():
            return None
        return Manifest.load(path)

    def build_dir(self, manifest: Manifest) -> Path:
        return self.root / "builds" / manifest.build_id

    def read_plans(self, manifest: Manifest | None = None) -> list[Plan]:
        manifest = manifest or self.require()
        data = json.loads((self.build_dir(manifest) / "records.json").read_text(encoding="utf-8"))
        return [Plan.from_dict(p) for p in data]

    def keyword_index(self, manifest: Manifest | None = None) -> KeywordIndex:
        manifest = manifest or self.require()
        return KeywordIndex.load(self.build_dir(manifest) / "keyword")

    def collection(self, manifest: Manifest | None = None) -> Any:
        manifest = manifest or self.require()
        return self.client.get_collection(manifest.collection, embedding_function=None)

    def follow_server(self) -> None:
        """In a following replica, install the server's current build when it is newer (rate-limited)."""
        if self.follower is not None:
            self.follower.check()

    def require(self) -> Manifest:
        if self.follower is not None and self.current() is None:
            self.follower.check()
        manifest = self.current()
        if manifest is None:
            raise IndexUnavailable(f"no index at {self.root}: run `python -m assistant index` first")
        if manifest.format != FORMAT_VERSION:
            raise IndexUnavailable(f"index at {self.root} has an old format: run `python -m assistant index --rebuild`")
        return manifest

    def is_stale(self, corpus_dir: Path | str | None = None, embedder_name: str | None = None) -> bool:
        """True when the corpus files or the embedder differ from the current build."""
        manifest = self.current()
        if manifest is None:
            return True
        if embedder_name and manifest.embedder != embedder_name:
            return True
        from .corpus import DEFAULT_CORPUS

        sources = source_hashes(Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS)
        return sources != manifest.sources

    # ---- building ------------------------------------------------------------------------
    def build(self, corpus_dir: Path | str | None = None, embedder: Any = None, rebuild: bool = False,
              progress: bool | Callable[[int, int], object] | None = None,
              log: Callable[[str], object] | None = None) -> BuildReport:
        """Parse the corpus and bring the index up to date; returns what was done."""
        from .corpus import DEFAULT_CORPUS
        from .embeddings import get_embedder

        started = time.perf_counter()
        log = log or (lambda msg: None)
        embedder = embedder or get_embedder()
        embedder_name = getattr(embedder, "name", type(embedder).__name__)
        folder = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS
        report = BuildReport()

        corpus = load_corpus(folder)
        previous = self.current()
        if previous is not None and previous.format != FORMAT_VERSION:
            previous = None
            rebuild = True
        plans = list(corpus.plans)
        report.errors = [str(e) for e in corpus.errors]
        # A file that fails now but was indexed before keeps its previous records: bad input loses nothing.
        if previous is not None and corpus.errors:
            failed = {Path(e.path).name for e in corpus.errors}
            for old in self.read_plans(previous):
                if old.source in failed and all(p.id != old.id for p in plans):
                    plans.append(old)
                    report.kept_from_previous.append(old.source)
        sources = source_hashes(folder)
        for name in report.kept_from_previous:
            assert previous is not None  # kept_from_previous names files of the previous build
            sources[name] = previous.sources.get(name, sources.get(name, ""))
        if not plans:
            raise IndexUnavailable(f"no readable plan files in {folder}" + (f": {'; '.join(report.errors)}" if report.errors else ""))

        if previous is not None and previous.embedder != embedder_name:
            report.message = (f"embedding model changed from {previous.embedder} to {embedder_name}: "
                              "rebuilding all vectors")
            log(report.message)
            rebuild = True
        report.full_rebuild = rebuild or previous is None

        count_tokens = getattr(embedder, "token_count", None) or (lambda text: len(text))
        chunks = chunk_plans(plans, count_tokens)
        hashes = {c.id: _chunk_hash(embedder_name, c) for c in chunks}
        report.plans, report.records, report.chunks = len(plans), sum(len(p.items) for p in plans), len(chunks)

        if (previous is not None and not rebuild and previous.chunks == hashes
                and previous.sources == sources and self._collection_exists(previous.collection)):
            report.unchanged = True
            if self.chroma_url:
                self._publish(previous, plans)
            report.orphans_removed = self._sweep_orphan_segments()
            report.build_id = previous.build_id
            report.reused = len(chunks)
            report.seconds = time.perf_counter() - started
            return report

        build_id = time.strftime("%Y%m%d-%H%M%S") + "-" + uuid.uuid4().hex[:6]
        collection_name = (self.prefix + build_id).replace("-", "_")
        new = self.client.create_collection(collection_name, embedding_function=None,
                                            configuration={"hnsw": {"space": "cosine"}},
                                            metadata={"embedder": embedder_name, "build": build_id})
        try:
            reusable = {}
            if previous is not None and not rebuild and self._collection_exists(previous.collection):
                reusable = {cid: h for cid, h in previous.chunks.items() if hashes.get(cid) == h}
            to_copy = [c for c in chunks if c.id in reusable]
            to_embed = [c for c in chunks if c.id not in reusable]
            if to_copy and previous is not None:
                self._copy_vectors(previous.collection, new, to_copy)
            report.reused = len(to_copy)
            report.removed = len(set(previous.chunks) - set(hashes)) if previous is not None else 0
            embed_started = time.perf_counter()
            self._embed_into(new, to_embed, embedder, progress)
            report.embed_seconds = time.perf_counter() - embed_started
            report.embedded = len(to_embed)

            dim = getattr(embedder, "dim", 0) or len(embedder.embed_query("维度"))
            staging = self.root / "builds" / f".{build_id}.tmp"
            staging.mkdir(parents=True, exist_ok=True)
            (staging / "records.json").write_text(
                json.dumps([p.to_dict() for p in plans], ensure_ascii=False), encoding="utf-8")
            records = [(i.id, p, i) for p in plans for i in p.items]
            keyword = KeywordIndex.build([rid for rid, _, _ in records],
                                         [_keyword_text(p, i) for _, p, i in records], plan_terms(plans))
            keyword.save(staging / "keyword")
            manifest = Manifest(build_id=build_id, created=time.time(), embedder=embedder_name,
                                dim=int(dim), collection=collection_name,
                                chunks=hashes, sources=sources, plans=[p.id for p in plans],
                                record_count=report.records)
            (staging / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1),
                                                   encoding="utf-8")
            if self.chroma_url:  # the records in the server too, for replicas without this folder
                from .replica import publish

                publish(self, manifest, plans)
            final = self.root / "builds" / build_id
            os.replace(staging, final)
            _write_json_atomic(self.root / "CURRENT.json", {"build": build_id})
            if self.chroma_url:
                from .replica import point_to

                point_to(self, manifest)
        except BaseException:
            # The previous build stays current; drop what this one started.
            try:
                self.client.delete_collection(collection_name)
            except Exception:
                pass
            raise
        report.build_id = build_id
        self._cleanup(keep=build_id)
        report.orphans_removed = self._sweep_orphan_segments()
        report.seconds = time.perf_counter() - started
        return report

    def _publish(self, manifest: Manifest, plans: list[Plan]) -> None:
        """Publish an unchanged build to the server when it does not point to it yet."""
        from .replica import point_to, publish, server_pointer

        pointer = server_pointer(self)
        if pointer is None or pointer["build"] != manifest.build_id:
            publish(self, manifest, plans)
            point_to(self, manifest)

    def _collection_exists(self, name: str) -> bool:
        try:
            self.client.get_collection(name, embedding_function=None)
            return True
        except Exception:
            return False

    def _copy_vectors(self, old_name: str, new: Any, chunks: list[Chunk]) -> None:
        old = self.client.get_collection(old_name, embedding_function=None)
        for start in range(0, len(chunks), 256):
            batch = chunks[start:start + 256]
            got = old.get(ids=[c.id for c in batch], include=["embeddings"])
            vectors = {cid: vec for cid, vec in zip(got["ids"], got["embeddings"])}
            missing = [c for c in batch if c.id not in vectors]
            if missing:
                raise IndexUnavailable(f"previous collection lacks {len(missing)} vectors; run with --rebuild")
            new.add(ids=[c.id for c in batch], embeddings=[list(map(float, vectors[c.id])) for c in batch],
                    documents=[c.text for c in batch], metadatas=[c.metadata for c in batch])

    def _embed_into(self, collection: Any, chunks: list[Chunk], embedder: Any,
                    progress: bool | Callable[[int, int], object] | None) -> None:
        if not chunks:
            return
        report = progress if callable(progress) else None  # a callback (done, total), e.g. the upload panel's bar
        if progress is None:
            progress = sys.stderr.isatty() and not os.environ.get("CI")
        bar = None
        if progress and report is None:
            from tqdm import tqdm

            bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", file=sys.stderr, dynamic_ncols=True)
        pending: list[tuple[Chunk, list[float]]] = []

        def flush() -> None:
            collection.add(ids=[c.id for c, _ in pending], embeddings=[v for _, v in pending],
                           documents=[c.text for c, _ in pending], metadatas=[c.metadata for c, _ in pending])
            pending.clear()

        try:
            for start in range(0, len(chunks), EMBED_BATCH):
                batch = chunks[start:start + EMBED_BATCH]
                vectors = embedder.embed_documents([c.text for c in batch])
                pending.extend(zip(batch, vectors))
                # Chroma pays per call: writing hundreds of chunks at once keeps a large build's writes short.
                if len(pending) >= ADD_BATCH or start + EMBED_BATCH >= len(chunks):
                    flush()
                if bar is not None:
                    bar.update(len(batch))
                if report is not None:
                    report(min(start + EMBED_BATCH, len(chunks)), len(chunks))
        finally:
            if bar is not None:
                bar.close()

    def _cleanup(self, keep: str) -> None:
        """Remove older builds and their collections (and leftovers of interrupted builds)."""
        builds = self.root / "builds"
        for path in builds.iterdir():
            if path.name != keep:
                shutil.rmtree(path, ignore_errors=True)
        keep_collection = (self.prefix + keep).replace("-", "_")
        try:
            names = [c if isinstance(c, str) else c.name for c in self.client.list_collections()]
        except Exception:
            return
        for name in names:
            if name.startswith(self.prefix) and name != keep_collection:
                try:
                    self.client.delete_collection(name)
                except Exception:
                    pass


    def _sweep_orphan_segments(self) -> list[str]:
        """Remove segment folders of the embedded store that no collection owns any more.

        A build killed half way (SIGKILL, power loss) leaves its vector folder behind; Chroma's
        sqlite catalogue lists the segments that are live, so anything else named like a segment
        is an orphan. Never touches a Chroma server's storage.
        """
        if self.chroma_url:
            return []
        folder = self.root / "chroma"
        catalogue = folder / "chroma.sqlite3"
        if not catalogue.is_file():
            return []
        try:
            conn = sqlite3.connect(f"file:{catalogue}?mode=ro", uri=True)
            try:
                live = {row[0] for row in conn.execute("SELECT id FROM segments")}
            finally:
                conn.close()
        except sqlite3.Error:
            return []  # an unknown catalogue layout: better leave a folder than delete a live one
        removed = []
        for path in folder.iterdir():
            if _SEGMENT_DIR_RE.match(path.name) and path.name not in live and path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return sorted(removed)


def source_hashes(folder: Path) -> dict[str, str]:
    """Content hash of every plan file in a corpus folder, by file name."""
    from .corpus import plan_files
    from .loaders import PlanFileError, read_regular_bytes

    hashes = {}
    for path in plan_files(folder):
        sidecar = path.with_name(path.name + ".meta.json")  # corrected metadata: a change is a change of the plan
        extra = sidecar.read_bytes() if sidecar.is_file() and not sidecar.is_symlink() else b""
        try:
            hashes[path.name] = hashlib.sha256(read_regular_bytes(path) + extra).hexdigest()
        except PlanFileError as exc:  # empty, too large, swapped for a link: hashed by its reason
            hashes[path.name] = "unreadable: " + exc.reason
    return hashes


def _chunk_hash(embedder_name: str, chunk: Chunk) -> str:
    meta = json.dumps(chunk.metadata, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(f"{embedder_name}\n{chunk.text}\n{meta}".encode("utf-8")).hexdigest()


def _keyword_text(plan: Plan, item: Item) -> str:
    units = "、".join(item.lead_units + item.responsible_units)
    return f"{plan.title} {' '.join(item.section)} {item.title} {item.text} {units}"


def read_plans(index_dir: Path | str) -> list[Plan]:
    """The records stored in an index folder (for `items --index`)."""
    return IndexStore(index_dir).read_plans()
