"""Replicas that start from the Chroma server alone: the build's records travel in Chroma too.

With a Chroma server (`--chroma-url`), every build also writes, into the server:

    records_<collection>   one entry per plan (its records as JSON, in build order) and the manifest
    assistant_current      one entry, "current": which build is current (written last)

A replica started with ASSISTANT_FOLLOW_CHROMA=1 (or `IndexStore(..., follow=True)`) needs no copy of
the index folder: its index folder is a local cache it fills by itself. It reads the pointer, fetches
the records of that build, and rebuilds the keyword index (BM25) from them locally — the same
tokenizer over the same texts as the indexer, so the same index — then answers as any reader does.
It checks the pointer again every FOLLOW_SECONDS and switches to a new build the same way.
Worker processes of one replica share its folder; a file lock makes one of them do the work.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from dataclasses import asdict
from typing import TYPE_CHECKING

from .models import Plan

if TYPE_CHECKING:
    from .store import IndexStore, Manifest

POINTER_COLLECTION = "assistant_current"
POINTER_ID = "current"
MANIFEST_ID = "__manifest__"
FOLLOW_ENV = "ASSISTANT_FOLLOW_CHROMA"
# How often a following replica asks the server for a newer build (ASSISTANT_FOLLOW_SECONDS overrides).
FOLLOW_SECONDS = 5.0
PUBLISH_BATCH = 64  # plans per Chroma call (a plan of ~30 items is ~60 KB of JSON)
_STUB = [1.0]  # these collections are looked up by id only; Chroma wants a vector per entry


def records_collection(collection: str) -> str:
    return "records_" + collection


def publish(store: IndexStore, manifest: Manifest, plans: list[Plan]) -> None:
    """Write a build's records and manifest into the Chroma server (before the pointer moves)."""
    client = store.client
    name = records_collection(manifest.collection)
    target = client.get_or_create_collection(name, embedding_function=None, metadata={"build": manifest.build_id})
    for start in range(0, len(plans), PUBLISH_BATCH):
        batch = plans[start:start + PUBLISH_BATCH]
        target.upsert(ids=[p.id for p in batch], embeddings=[_STUB for _ in batch],
                      documents=[json.dumps(p.to_dict(), ensure_ascii=False) for p in batch],
                      metadatas=[{"order": start + n} for n in range(len(batch))])
    target.upsert(ids=[MANIFEST_ID], embeddings=[_STUB], documents=[json.dumps(asdict(manifest), ensure_ascii=False)],
                  metadatas=[{"order": -1}])


def point_to(store: IndexStore, manifest: Manifest) -> None:
    """Make a published build the server's current one; drop the records of older builds of this index."""
    client = store.client
    pointer = client.get_or_create_collection(POINTER_COLLECTION, embedding_function=None)
    current = records_collection(manifest.collection)
    pointer.upsert(ids=[POINTER_ID], embeddings=[_STUB],
                   documents=[json.dumps({"build": manifest.build_id, "records": current})])
    for existing in client.list_collections():
        name = existing if isinstance(existing, str) else existing.name
        if name.startswith(records_collection(store.prefix)) and name != current:
            try:
                client.delete_collection(name)
            except Exception:
                pass


def server_pointer(store: IndexStore) -> dict[str, str] | None:
    """The server's current build ({"build", "records"}), or None when no build was published."""
    try:
        pointer = store.client.get_collection(POINTER_COLLECTION, embedding_function=None)
    except Exception:
        return None
    got = pointer.get(ids=[POINTER_ID], include=["documents"])
    if not got["ids"]:
        return None
    data: dict[str, str] = json.loads(got["documents"][0])
    return data


def follow(store: IndexStore) -> bool:
    """Bring the local folder to the server's current build; True when a new build was installed."""
    from .store import IndexUnavailable

    pointer = server_pointer(store)
    if pointer is None:
        if store.current() is None:
            raise IndexUnavailable("the Chroma server holds no published build: run the indexer "
                                   "(`python -m assistant index --chroma-url …`) first")
        return False
    local = store.current()
    if local is not None and local.build_id == pointer["build"]:
        return False
    store.root.mkdir(parents=True, exist_ok=True)
    with open(store.root / ".follow.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another worker of this replica may be installing it now
        local = store.current()
        if local is not None and local.build_id == pointer["build"]:
            return False
        install(store, pointer)
    return True


def install(store: IndexStore, pointer: dict[str, str]) -> None:
    """Fetch one published build's records and write it as a local build (records, BM25, manifest)."""
    from .keyword import KeywordIndex, plan_terms
    from .store import Manifest, _keyword_text, _write_json_atomic

    source = store.client.get_collection(pointer["records"], embedding_function=None)
    got = source.get(include=["documents", "metadatas"])
    manifest_doc = None
    ordered: list[tuple[int, str]] = []
    for rid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"]):
        if rid == MANIFEST_ID:
            manifest_doc = doc
        else:
            ordered.append((int(meta["order"]), doc))
    if manifest_doc is None:
        from .store import IndexUnavailable

        raise IndexUnavailable(f"published build {pointer['build']} has no manifest in {pointer['records']}")
    manifest = Manifest(**{k: v for k, v in json.loads(manifest_doc).items() if k in Manifest.__dataclass_fields__})
    plans = [Plan.from_dict(json.loads(doc)) for _, doc in sorted(ordered)]
    staging = store.root / "builds" / f".{manifest.build_id}.follow.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "records.json").write_text(json.dumps([p.to_dict() for p in plans], ensure_ascii=False),
                                          encoding="utf-8")
    records = [(i.id, p, i) for p in plans for i in p.items]
    keyword = KeywordIndex.build([rid for rid, _, _ in records], [_keyword_text(p, i) for _, p, i in records],
                                 plan_terms(plans))
    keyword.save(staging / "keyword")
    (staging / "manifest.json").write_text(json.dumps(asdict(manifest), ensure_ascii=False, indent=1),
                                           encoding="utf-8")
    final = store.root / "builds" / manifest.build_id
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)
    _write_json_atomic(store.root / "CURRENT.json", {"build": manifest.build_id})
    for path in (store.root / "builds").iterdir():  # older local builds: readers reload on the pointer
        if path.name != manifest.build_id and not path.name.endswith(".tmp"):
            shutil.rmtree(path, ignore_errors=True)


class Follower:
    """Rate-limited `follow` for a reader that checks before every question."""

    def __init__(self, store: IndexStore, every: float | None = None) -> None:
        self.store = store
        self.every = every if every is not None else float(os.environ.get("ASSISTANT_FOLLOW_SECONDS", FOLLOW_SECONDS))
        self._last = 0.0

    def check(self) -> bool:
        now = time.monotonic()
        if self._last and now - self._last < self.every:
            return False
        self._last = now
        return follow(self.store)


def follow_requested(flag: bool | None = None) -> bool:
    """Follow the server when asked by the caller, else when ASSISTANT_FOLLOW_CHROMA is set."""
    if flag is not None:
        return flag
    return os.environ.get(FOLLOW_ENV, "").lower() in ("1", "true", "yes")
