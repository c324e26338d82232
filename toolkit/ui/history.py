"""Saved chat conversations: one SQLite file in the data folder, safe to share between sessions.

Each call opens its own connection (SQLite serialises writers; WAL lets readers go on), so
one store serves every browser session of the app. Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import ConfigurationError

__all__ = ["ChatTurn", "Conversation", "ConversationStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""

_TITLE_CHARS = 60


@dataclass(frozen=True)
class ChatTurn:
    """One message of a conversation; ``meta`` holds e.g. the model and its timings."""

    role: str
    content: str
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Conversation:
    """A saved conversation's header (its messages come from :meth:`ConversationStore.turns`)."""

    id: str
    title: str
    system_prompt: str
    updated: float


def _title(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _TITLE_CHARS else line[: _TITLE_CHARS - 1].rstrip() + "…"


class ConversationStore:
    """Conversations saved in ``path`` (created with its folder on first use).

    Raises:
        ConfigurationError: the file exists but is not a conversation database; it is left
            untouched, so nothing already saved is lost.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode = WAL")  # stored in the file: once is enough
                db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise ConfigurationError(
                f"{self.path} is not a readable chat history ({exc}); it was left as it is. Move it "
                "away to start a new history, or set LLAMA_TOOLKIT_DATA_DIR to another folder"
            ) from exc
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the chat history at {self.path}: {exc}. Set LLAMA_TOOLKIT_DATA_DIR "
                "to a folder you can write"
            ) from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0)
        try:
            db.execute("PRAGMA foreign_keys = ON")  # per connection, unlike the journal mode
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    def create(self, first_message: str, system_prompt: str = "") -> str:
        """Start a conversation titled after its first message; returns its id."""
        conversation_id = uuid.uuid4().hex
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations (id, title, system_prompt, created, updated) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, _title(first_message) or "New chat", system_prompt, now, now),
            )
        return conversation_id

    def add(self, conversation_id: str, turn: ChatTurn) -> None:
        """Append ``turn`` to the conversation."""
        now = time.time()
        with self._connect() as db:
            cur = db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
            if cur.rowcount == 0:
                raise KeyError(f"no conversation {conversation_id!r}")
            db.execute(
                "INSERT INTO messages (conversation_id, role, content, meta, created) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, turn.role, turn.content, json.dumps(turn.meta, default=str), now),
            )

    def set_system_prompt(self, conversation_id: str, system_prompt: str) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE conversations SET system_prompt = ? WHERE id = ?", (system_prompt, conversation_id)
            )

    def conversations(self, limit: int = 100) -> list[Conversation]:
        """Saved conversations, most recently used first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, title, system_prompt, updated FROM conversations ORDER BY updated DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: str) -> Conversation | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT id, title, system_prompt, updated FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        return Conversation(*row) if row else None

    def turns(self, conversation_id: str) -> list[ChatTurn]:
        """The conversation's messages in order."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT role, content, meta FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [ChatTurn(role, content, json.loads(meta or "{}")) for role, content, meta in rows]

    def delete(self, conversation_id: str) -> None:
        """Delete the conversation and its messages."""
        with self._connect() as db:
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
