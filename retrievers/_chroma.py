"""Reaching Chroma: an embedded ``PersistentClient`` in a folder, or a ``chroma run`` server.

chromadb is imported inside the functions, never at import time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from retrievers._storelock import read_stamp, write_lock
from toolkit import profiling
from toolkit.errors import ChromaUnreachableError, ConfigurationError, IndexNotFoundError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

__all__ = [
    "EmbeddedStore",
    "collection_names",
    "connect",
    "embedded_store",
    "settings_client",
    "store_anchor",
    "store_location",
]


def _client_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)  # no phoning home from a local tool


def _server_hint(host: str, path: str | Path | None) -> str:
    port = urlsplit(host if "://" in host else "http://" + host).port or 8000
    return f"chroma run --path {path or './chroma'} --host 127.0.0.1 --port {port}"


class EmbeddedStore:
    """This process's client of one embedded store folder, reopened after other processes write.

    chromadb shares one ``System`` per folder in a process and keeps each collection's vector
    index in memory, so vectors another process wrote stay invisible to it. :meth:`client`
    compares the folder's write stamp (see :mod:`retrievers._storelock`) with the one seen when
    the client was opened, and opens a new ``System`` when it changed.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._client: ClientAPI | None = None
        self._seen = ""

    def client(self) -> ClientAPI:
        """The current client, reopened first if another process wrote since it was opened."""
        stamp = read_stamp(self.folder)
        client = self._client
        if client is not None and stamp == self._seen:
            return client
        with self._lock:
            if self._client is None or stamp != self._seen:
                if self._client is not None:
                    _forget_system(self._client, self.folder)
                self._client = _persistent_client(self.folder)
                self._seen = stamp
            return self._client

    def written(self, before: str, after: str) -> None:
        """After a locked write through this client: current if nobody else wrote in between."""
        with self._lock:
            if self._seen == before:
                self._seen = after

    def write_lock(self, timeout: float, on_wait: Callable[[str], None] | None = None) -> Any:
        """The folder's inter-process write lock (a context manager)."""
        return write_lock(self.folder, timeout=timeout, on_wait=on_wait, on_written=self.written)


def _persistent_client(folder: str) -> ClientAPI:
    import chromadb

    return chromadb.PersistentClient(path=folder, settings=_client_settings())


def _forget_system(client: Any, folder: str) -> None:
    """Drop chromadb's cached ``System`` of ``folder`` so the next client opens a fresh one.

    The old System is not stopped: objects still using it (a query in another thread) keep
    working, and it is freed with them.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = str(getattr(client, "_identifier", folder))
    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(identifier, None)
        SharedSystemClient._identifier_to_refcount.pop(identifier, None)


_STORES: dict[str, EmbeddedStore] = {}
_STORES_LOCK = threading.Lock()


def embedded_store(path: str | Path, *, create: bool = True) -> EmbeddedStore | None:
    """The process-wide :class:`EmbeddedStore` of a folder; None if it holds no store and not ``create``.

    Raises:
        ConfigurationError: ``create`` and the folder cannot be created.
    """
    folder = os.path.abspath(Path(path).expanduser())
    if not os.path.isfile(os.path.join(folder, "chroma.sqlite3")):
        if not create:
            return None
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the Chroma folder {folder} ({exc}) - set chroma_path "
                "(LLAMA_TOOLKIT_CHROMA_PATH) to a writable folder"
            ) from exc
    with _STORES_LOCK:
        return _STORES.setdefault(folder, EmbeddedStore(folder))


@profiling.profiled("store")  # chromadb's import and its client
def connect(path: str | Path | None, host: str | None, *, create: bool = True) -> tuple[ClientAPI, str]:
    """A Chroma client and a description of where it points.

    Raises:
        IndexNotFoundError: ``create`` is False and ``path`` holds no store yet.
    """
    import chromadb

    if host:
        parts = urlsplit(host if "://" in host else "http://" + host)
        hint = _server_hint(host, path)
        try:
            client = chromadb.HttpClient(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=_client_settings(),
            )
            client.heartbeat()
        except Exception as exc:  # ValueError, httpx errors: all mean "nobody answers"
            raise ChromaUnreachableError(
                f"Chroma is not reachable at {host} - start it with `{hint}`, or unset chroma_host "
                "(LLAMA_TOOLKIT_CHROMA_HOST) to use the embedded store"
            ) from exc
        return client, host
    if path is None:
        raise ConfigurationError("DocumentIndex needs a `path` (embedded store) or a `host` (Chroma server)")
    store = embedded_store(path, create=create)
    if store is None:
        raise IndexNotFoundError(
            f"there is no document store at {os.path.abspath(Path(path).expanduser())} yet - "
            "run `llama-toolkit ingest PATH...` first"
        )
    return store.client(), store.folder


_COLLECTIONS = (
    "SELECT c.name, c.id FROM collections c JOIN databases d ON c.database_id = d.id "
    "WHERE d.name = 'default_database' AND d.tenant_id = 'default_tenant'"
)


def _store_db(path: str | Path) -> Path:
    """The SQLite file of the embedded store in ``path``."""
    return Path(path).expanduser().resolve() / "chroma.sqlite3"


def _read_collections(db: Path, timeout: float) -> list[tuple[str, str]]:
    """(name, id) of each collection in ``db``, read-only; ``sqlite3.Error`` when it cannot tell."""
    import sqlite3

    with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=timeout)) as conn:
        return [(str(name), str(cid)) for name, cid in conn.execute(_COLLECTIONS)]


def collection_names(path: str | Path) -> list[str] | None:
    """Collection names of the embedded store in ``path``, read-only from its SQLite file.

    chromadb's own ``list_collections`` answers the same for the default tenant and database
    (the only ones this toolkit uses) but costs a second to import. [] when the folder holds
    no store (or an empty file); None when the file is locked or laid out otherwise (then ask
    chromadb).

    Raises:
        ConfigurationError: ``chroma.sqlite3`` is not an SQLite database.
    """
    import sqlite3

    db = _store_db(path)
    if not db.is_file() or db.stat().st_size == 0:
        return []
    try:
        return sorted(name for name, _ in _read_collections(db, timeout=2))
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise ConfigurationError(
                f"{db} is not a readable Chroma store ({exc}) - move it aside and ingest again, or "
                "point chroma_path (LLAMA_TOOLKIT_CHROMA_PATH) at another folder"
            ) from exc
        return None


def store_anchor(path: str | Path, collection: str) -> tuple[str, int, int] | None:
    """What ties a manifest to the store it describes: ``collection``'s id and the device and
    inode of ``chroma.sqlite3`` (None when there is no such collection, or the file cannot be
    read quickly)."""
    import sqlite3

    db = _store_db(path)
    try:
        before = db.stat()
        ids = [cid for name, cid in _read_collections(db, timeout=1) if name == collection]
        after = db.stat()
    except (OSError, sqlite3.Error):
        return None
    if len(ids) != 1 or (before.st_dev, before.st_ino) != (after.st_dev, after.st_ino):
        return None
    return ids[0], after.st_dev, after.st_ino


def store_location(settings: Any) -> tuple[Path, str | None]:
    """The store folder (``chroma_path`` or ``<data_dir>/chroma``) and ``chroma_host`` of ``settings``."""
    path = settings.chroma_path or Path(settings.data_dir) / "chroma"
    return Path(path).expanduser(), settings.chroma_host


def settings_client(overrides: dict[str, Any], *, create: bool = True) -> ClientAPI | None:
    """A client for the store the settings (with ``overrides``) point at.

    None when ``create`` is False and the embedded folder holds no store yet (nothing is created).
    """
    from toolkit.settings import get_settings

    path, host = store_location(get_settings(**overrides))
    if not host and not create and embedded_store(path, create=False) is None:
        return None
    return connect(path, host)[0]
