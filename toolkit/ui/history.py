"""Saved chat conversations: one SQLite file in the data folder, safe to share between sessions.

Each call opens its own connection (SQLite serialises writers; WAL lets readers go on), so
one store serves every browser session of the app. Each conversation has an ``owner`` (the
signed-in user, ``"local"`` when the app runs for one person); the app lists, opens and
deletes only its user's own. A file from before owners existed is migrated in place: its
conversations are kept and belong to ``"local"``. :class:`SQLiteChatMessageHistory` shows one
saved conversation as a LangChain ``BaseChatMessageHistory`` (for ``RunnableWithMessageHistory``
and the like). Nothing here imports Streamlit.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from toolkit.errors import ConfigurationError

__all__ = [
    "LOCAL_OWNER",
    "ChatTurn",
    "Conversation",
    "ConversationStore",
    "SQLiteChatMessageHistory",
    "message_to_turn",
    "turn_to_message",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    owner TEXT NOT NULL DEFAULT 'local'
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

_MIGRATE_OWNER = "ALTER TABLE conversations ADD COLUMN owner TEXT NOT NULL DEFAULT 'local'"
_OWNER_INDEX = "CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations(owner, updated)"
_COLUMNS = "id, title, system_prompt, updated, owner"
_TITLE_CHARS = 60
LOCAL_OWNER = "local"
"""The owner of conversations saved when the app runs for one person (and of pre-owner files)."""


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
    owner: str = LOCAL_OWNER


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
                columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
                if "owner" not in columns:  # a file from before owners: its chats become "local"
                    db.execute(_MIGRATE_OWNER)
                db.execute(_OWNER_INDEX)
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

    def create(self, first_message: str, system_prompt: str = "", owner: str = LOCAL_OWNER) -> str:
        """Start a conversation of ``owner``, titled after its first message; returns its id."""
        conversation_id = uuid.uuid4().hex
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO conversations (id, title, system_prompt, created, updated, owner) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, _title(first_message) or "New chat", system_prompt, now, now, owner),
            )
        return conversation_id

    def add(self, conversation_id: str, turn: ChatTurn) -> None:
        """Append ``turn`` to the conversation.

        Raises:
            KeyError: there is no such conversation.
        """
        self.add_many(conversation_id, [turn])

    def add_many(self, conversation_id: str, turns: Iterable[ChatTurn]) -> None:
        """Append ``turns`` to the conversation in one transaction (all or none).

        Raises:
            KeyError: there is no such conversation.
        """
        now = time.time()
        rows = [(conversation_id, t.role, t.content, json.dumps(t.meta, default=str), now) for t in turns]
        with self._connect() as db:
            cur = db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
            if cur.rowcount == 0:
                raise KeyError(f"no conversation {conversation_id!r}")
            db.executemany(
                "INSERT INTO messages (conversation_id, role, content, meta, created) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def clear(self, conversation_id: str) -> None:
        """Remove the conversation's messages and system prompt; the conversation stays."""
        with self._connect() as db:
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            db.execute(
                "UPDATE conversations SET system_prompt = '', updated = ? WHERE id = ?",
                (time.time(), conversation_id),
            )

    def set_system_prompt(self, conversation_id: str, system_prompt: str) -> None:
        """Replace the conversation's system prompt (``""``: none)."""
        with self._connect() as db:
            db.execute(
                "UPDATE conversations SET system_prompt = ? WHERE id = ?", (system_prompt, conversation_id)
            )

    def conversations(self, limit: int = 100, owner: str | None = None) -> list[Conversation]:
        """Saved conversations of ``owner`` (``None``: everyone's), most recently used first."""
        where, args = ("WHERE owner = ?", [owner]) if owner is not None else ("", [])
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM conversations {where} ORDER BY updated DESC LIMIT ?",
                (*args, limit),
            ).fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: str, owner: str | None = None) -> Conversation | None:
        """The conversation's header, or ``None`` if there is none (of ``owner``, when given)."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        found = Conversation(*row) if row else None
        return found if found and (owner is None or found.owner == owner) else None

    def turns(self, conversation_id: str) -> list[ChatTurn]:
        """The conversation's messages in order."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT role, content, meta FROM messages WHERE conversation_id = ? ORDER BY id",
                (conversation_id,),
            ).fetchall()
        return [ChatTurn(role, content, json.loads(meta or "{}")) for role, content, meta in rows]

    def delete(self, conversation_id: str, owner: str | None = None) -> bool:
        """Delete the conversation and its messages (only if ``owner``'s, when given).

        Returns:
            Whether a conversation was deleted.
        """
        with self._connect() as db:
            if owner is None:
                cur = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
            else:
                cur = db.execute(
                    "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
                )
        return cur.rowcount > 0


def turn_to_message(turn: ChatTurn) -> BaseMessage:
    """A saved turn as a LangChain message; its ``meta`` becomes the ``response_metadata``."""
    cls = HumanMessage if turn.role == "user" else AIMessage
    return cls(turn.content, response_metadata=dict(turn.meta))


def message_to_turn(message: BaseMessage) -> ChatTurn:
    """A human or AI message as a turn to save: its text, and its metadata as ``meta``.

    Raises:
        ValueError: the message is neither a human nor an AI message (the store keeps the
            system prompt apart, and no tool messages).
    """
    if isinstance(message, HumanMessage):
        role = "user"
    elif isinstance(message, AIMessage):
        role = "assistant"
    else:
        raise ValueError(f"a saved conversation keeps human and AI messages, not {message.type!r} ones")
    meta = dict(message.response_metadata)
    if isinstance(message, AIMessage) and message.usage_metadata:
        meta["usage"] = dict(message.usage_metadata)
    return ChatTurn(role, message.text, meta)


class SQLiteChatMessageHistory(BaseChatMessageHistory):
    """One conversation of a :class:`ConversationStore` as a LangChain chat message history.

    ``messages`` starts with the conversation's system prompt (as a ``SystemMessage``) when it
    has one, then its turns; adding a ``SystemMessage`` sets the system prompt. Only text is
    kept: the image blocks of a message are not saved.

    Args:
        store: The conversation store.
        conversation_id: An existing conversation (see :meth:`ConversationStore.create`).
    """

    def __init__(self, store: ConversationStore, conversation_id: str) -> None:
        self.store = store
        self.conversation_id = conversation_id

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """The system prompt (if any) and the conversation's messages, read from the store."""
        saved = self.store.get(self.conversation_id)
        head: list[BaseMessage] = (
            [SystemMessage(saved.system_prompt)] if saved and saved.system_prompt else []
        )
        return [*head, *(turn_to_message(t) for t in self.store.turns(self.conversation_id))]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Save ``messages`` in one transaction; a ``SystemMessage`` sets the system prompt.

        Raises:
            ValueError: a message is a tool (or other) message; nothing is saved.
            KeyError: the conversation does not exist.
        """
        system = [m for m in messages if isinstance(m, SystemMessage)]
        turns = [message_to_turn(m) for m in messages if not isinstance(m, SystemMessage)]
        if system:
            if self.store.get(self.conversation_id) is None:
                raise KeyError(f"no conversation {self.conversation_id!r}")
            self.store.set_system_prompt(self.conversation_id, system[-1].text)
        if turns:
            self.store.add_many(self.conversation_id, turns)

    def clear(self) -> None:
        """Remove the conversation's messages and system prompt (the conversation stays listed)."""
        self.store.clear(self.conversation_id)
