"""Conversations that persist: one SQLite file in the data folder, one row per conversation.

A conversation belongs to an owner: `user:<name>` when auth is on (the login name), otherwise
`browser:<id>` (a random id the browser keeps in its localStorage). Its turns are stored as the
web chat keeps them — {"question", "answer" (the answer contract), "plan", "vote"?, "comment"?} —
so the messages, chips and follow-up context are rebuilt exactly after a reload or a restart.
Writes are single statements in WAL mode; each connection is short-lived (threads of the server).
"""
from __future__ import annotations

import builtins
import json
import re
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MAX_TITLE = 40
MAX_CONVERSATIONS = 200  # per owner; the oldest beyond this are dropped on save
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  title TEXT NOT NULL,
  created REAL NOT NULL,
  updated REAL NOT NULL,
  turns TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_owner ON conversations(owner, updated DESC);
"""


@dataclass
class Conversation:
    """One stored conversation."""

    id: str
    owner: str
    title: str
    created: float
    updated: float
    turns: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What a list shows: no turns, their count."""
        data = asdict(self)
        data["turn_count"] = len(data.pop("turns"))
        return data

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def title_for(turns: list[dict[str, Any]]) -> str:
    """A new conversation is named after its first question."""
    first = next((t.get("question", "") for t in turns if t.get("question")), "")
    first = re.sub(r"\s+", " ", first).strip()
    return (first[:MAX_TITLE] + ("…" if len(first) > MAX_TITLE else "")) or "新对话"


class ConversationStore:
    """SQLite-backed conversations, safe to share between the server's threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def list(self, owner: str | None) -> list[Conversation]:
        """An owner's conversations, newest first (every owner's when `owner` is None)."""
        query = "SELECT id, owner, title, created, updated, turns FROM conversations"
        args: tuple[Any, ...] = ()
        if owner is not None:
            query, args = query + " WHERE owner = ?", (owner,)
        with closing(self._connect()) as db:
            rows = db.execute(query + " ORDER BY updated DESC", args).fetchall()
        return [_row(r) for r in rows]

    def get(self, owner: str | None, conversation_id: str) -> Conversation | None:
        """One conversation if it exists and belongs to `owner` (any owner when None)."""
        if not _ID_RE.match(conversation_id or ""):
            return None
        with closing(self._connect()) as db:
            row = db.execute("SELECT id, owner, title, created, updated, turns FROM conversations WHERE id = ?",
                             (conversation_id,)).fetchone()
        if row is None or (owner is not None and row[1] != owner):
            return None
        return _row(row)

    def save(self, owner: str, conversation_id: str | None, turns: builtins.list[dict[str, Any]]) -> Conversation:
        """Create or update a conversation's turns; a new one is titled after its first question."""
        now = time.time()
        existing = self.get(owner, conversation_id) if conversation_id else None
        with self._lock, closing(self._connect()) as db, db:
            if existing is None:
                existing = Conversation(uuid.uuid4().hex, owner, title_for(turns), now, now, turns)
                db.execute("INSERT INTO conversations VALUES (?, ?, ?, ?, ?, ?)",
                           (existing.id, owner, existing.title, now, now, json.dumps(turns, ensure_ascii=False)))
                stale = db.execute("SELECT id FROM conversations WHERE owner = ? ORDER BY updated DESC LIMIT -1 OFFSET ?",
                                   (owner, MAX_CONVERSATIONS)).fetchall()
                db.executemany("DELETE FROM conversations WHERE id = ?", stale)
            else:
                existing.turns, existing.updated = turns, now
                if existing.title == "新对话" and turns:
                    existing.title = title_for(turns)
                db.execute("UPDATE conversations SET turns = ?, updated = ?, title = ? WHERE id = ?",
                           (json.dumps(turns, ensure_ascii=False), now, existing.title, existing.id))
        return existing

    def rename(self, owner: str, conversation_id: str, title: str) -> Conversation | None:
        title = re.sub(r"\s+", " ", title or "").strip()[:MAX_TITLE]
        found = self.get(owner, conversation_id)
        if found is None or not title:
            return None
        with self._lock, closing(self._connect()) as db, db:
            db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id))
        found.title = title
        return found

    def delete(self, owner: str, conversation_id: str) -> bool:
        if self.get(owner, conversation_id) is None:
            return False
        with self._lock, closing(self._connect()) as db, db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        return True


def _row(row: tuple[Any, ...]) -> Conversation:
    try:
        turns = json.loads(row[5])
    except ValueError:
        turns = []  # a damaged row still lists; its turns are lost, not the others'
    return Conversation(row[0], row[1], row[2], row[3], row[4], turns if isinstance(turns, list) else [])


_stores: dict[Path, ConversationStore] = {}
_stores_lock = threading.Lock()


def store_for(data_dir: Path) -> ConversationStore:
    """The one store of a data folder (shared by the API and the UI)."""
    path = (Path(data_dir) / "conversations.sqlite3").resolve()
    with _stores_lock:
        if path not in _stores:
            _stores[path] = ConversationStore(path)
        return _stores[path]
