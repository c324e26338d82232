"""A Chroma collection of document chunks that remembers the embedder it was built with.

:class:`DocumentIndex` wraps one Chroma collection, embedded (``PersistentClient`` in a
folder) or on a server (``chroma run``). The collection's metadata records the embedding
model's id and dimension, so opening it with another model fails loudly
(:class:`~toolkit.errors.EmbeddingMismatchError`) instead of returning nonsense neighbours.
Chunk metadata (``source``, ``content_hash``, ``chunks``...) is what makes ingestion
idempotent and kill-safe: see :mod:`retrievers.ingestion`.

chromadb and langchain-chroma are imported on first use, never at import time.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from retrievers._chroma import EmbeddedStore, connect, embedded_store, settings_client, store_location
from retrievers._names import check_collection_name, flat_metadata, not_found
from retrievers.listing import list_indexes
from retrievers.manifest import forget_manifest
from toolkit import profiling
from toolkit.errors import EmbeddingMismatchError, IndexNotFoundError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection
    from langchain_chroma import Chroma

__all__ = [
    "DocumentIndex",
    "SourceInfo",
    "check_collection_name",
    "delete_index",
    "list_indexes",
    "open_index",
]

_MODEL_KEY = "embedding_model"
_DIMENSION_KEY = "embedding_dimension"
_VERSION_KEY = "index_version"
_PAGE = 5000  # rows per `get` call when reading the whole collection


@dataclass(frozen=True)
class SourceInfo:
    """What the index holds for one file.

    Attributes:
        source: The file's absolute path.
        content_hash: sha256 of the file's bytes when it was indexed.
        chunks: How many chunks the file was split into.
        complete: Every one of those chunks is stored (False after an interrupted ingest).
        file_type: The loader's file type (``pdf``, ``markdown``, ``code``...).
    """

    source: str
    content_hash: str
    chunks: int
    complete: bool
    file_type: str


def _model_id(embeddings: Embeddings) -> str:
    try:
        from toolkit.backends.embeddings import embedding_model_id
    except ImportError:
        return str(getattr(embeddings, "model_id", "") or type(embeddings).__name__)
    return embedding_model_id(embeddings)


def _dimension(embeddings: Embeddings) -> int:
    try:
        from toolkit.backends.embeddings import embedding_dimension
    except ImportError:
        for attr in ("dimension", "size"):
            value = getattr(embeddings, attr, None)
            if isinstance(value, int) and value > 0:
                return value
        return len(embeddings.embed_query("dimension probe"))
    return embedding_dimension(embeddings)


class DocumentIndex:
    """A Chroma collection of chunks plus the embedder it was built with.

    Attributes:
        name: The collection's name.
        embeddings: The embedder used for every chunk and query.
        client: The chromadb client.
        collection: The chromadb collection.
        location: The store's folder, or the server's URL.
        folder: The embedded store's folder (None for a server): the ingest manifest's home.
        model_id: The embedding model's id, recorded in the collection's metadata.
        dimension: Its vector length, recorded too. The cosine distance is set in the
            collection's configuration (chromadb refuses ``hnsw:*`` keys in later metadata updates).
        batch_size: Chunks embedded and written per batch by :meth:`add` (each write is a
            transaction, ~50 ms on disk, so ingestion also groups small files up to this size).
    """

    batch_size: int = 256

    @profiling.profiled("store")  # the embedder's own load or probe is a phase of its own
    def __init__(
        self,
        name: str = "documents",
        *,
        embeddings: Embeddings,
        path: str | Path | None = None,
        host: str | None = None,
        create: bool = True,
        lock_timeout: float | None = None,
    ) -> None:
        """Open (or create) the collection ``name``.

        Args:
            name: Collection name: 3-63 characters from ``[a-zA-Z0-9._-]``.
            embeddings: The embedding model; must be the one the collection was built with.
            path: Folder of the embedded store (created if missing and ``create``). With
                ``host``, only shown in the hint of the unreachable-server error.
            host: URL of a Chroma server, e.g. ``http://127.0.0.1:8000``; wins over ``path``.
            create: Create the collection (and the store folder) if missing. False for readers:
                a missing collection raises :class:`~toolkit.errors.IndexNotFoundError` and
                nothing is written.
            lock_timeout: Seconds a write waits while another process writes to the embedded
                store (default: the ``store_lock_timeout`` setting).

        Raises:
            ChromaUnreachableError: ``host`` is given and no Chroma server answers there.
            EmbeddingMismatchError: The collection was built with another model or dimension.
            IndexNotFoundError: ``create`` is False and there is no such collection.
            ConfigurationError: Invalid collection name, or the folder cannot be created.
            StoreLockedError: Creating the collection waited ``lock_timeout`` for another writer.
        """
        self.name = check_collection_name(name)
        self.embeddings = embeddings
        self.lock_timeout = lock_timeout
        client, self.location = connect(path, host, create=create)
        self._store: EmbeddedStore | None = None
        if not host:
            self._store = embedded_store(self.location, create=False)
        self.folder = self._store.folder if self._store is not None else None
        self.model_id = _model_id(embeddings)
        self.dimension = _dimension(embeddings)
        self._client, self._collection = client, self._open(client, create)
        self._vectorstore: Chroma | None = None
        self._check_embedder()

    def _open(self, client: ClientAPI, create: bool) -> Collection:
        try:
            return client.get_collection(self.name, embedding_function=None)  # type: ignore[arg-type]
        except Exception as exc:
            if type(exc).__name__ not in ("NotFoundError", "InvalidCollectionException"):
                raise
            if not create:
                raise not_found(self.name, sorted(c.name for c in client.list_collections())) from exc
        with self._writing():  # creating is a write too: other processes see it after
            return client.get_or_create_collection(
                self.name,
                metadata={_MODEL_KEY: self.model_id, _DIMENSION_KEY: self.dimension},
                configuration={"hnsw": {"space": "cosine"}},
                embedding_function=None,
            )

    def _refresh(self) -> None:
        """Reopen the collection on a fresh client when another process wrote to the store."""
        if self._store is None:
            return
        client = self._store.client()
        if client is not self._client:
            collection = self._open(client, create=False)
            self._client, self._collection, self._vectorstore = client, collection, None

    @property
    def client(self) -> ClientAPI:
        """The chromadb client (reopened after another process wrote to the embedded store)."""
        self._refresh()
        return self._client

    @property
    def collection(self) -> Collection:
        """The chromadb collection (reopened after another process wrote to the embedded store)."""
        self._refresh()
        return self._collection

    @contextmanager
    def _writing(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        """The embedded store's inter-process write lock (nothing for a Chroma server)."""
        if self._store is None:
            yield
            return
        timeout = self.lock_timeout
        if timeout is None:
            from toolkit.settings import get_settings

            timeout = get_settings().store_lock_timeout
        with self._store.write_lock(timeout, on_wait):
            forget_manifest(self._store.folder, self.name)  # a writer killed midway leaves none
            yield

    def _check_embedder(self) -> None:
        meta = self.collection.metadata or {}
        stored_id, stored_dim = meta.get(_MODEL_KEY), meta.get(_DIMENSION_KEY)
        if stored_id is None:  # made by another tool: all we can check is a stored vector's size
            sample = self.collection.get(limit=1, include=["embeddings"])["embeddings"]
            if sample is None or not len(sample) or len(sample[0]) == self.dimension:
                return
            stored_id, stored_dim = "an unknown model", len(sample[0])
        if stored_id != self.model_id or stored_dim != self.dimension:
            raise EmbeddingMismatchError(
                f"collection `{self.name}` was built with the embedding model {stored_id} "
                f"({stored_dim} dimensions), but the configured one is {self.model_id} "
                f"({self.dimension} dimensions) - configure {stored_id} again (setting `embeddings`), "
                f"or re-index with the new model: `llama-toolkit index delete {self.name} && "
                f"llama-toolkit ingest PATH... --collection {self.name}`"
            )

    @property
    def vectorstore(self) -> Chroma:
        """A LangChain ``Chroma`` vector store over the same (current) client and collection."""
        from langchain_chroma import Chroma

        self._refresh()
        store = self._vectorstore
        if store is None:
            store = self._vectorstore = Chroma(
                client=self._client,
                collection_name=self.name,
                embedding_function=self.embeddings,
                create_collection_if_not_exists=False,
            )
        return store

    def _bump_version(self) -> None:
        # A random token rather than a counter: two writers can never produce the same value.
        fresh = self.client.get_collection(self.name, embedding_function=None).metadata or {}
        meta = {k: v for k, v in fresh.items() if not k.startswith("hnsw:")}  # modify() refuses hnsw:*
        meta.update({_MODEL_KEY: self.model_id, _DIMENSION_KEY: self.dimension})
        meta[_VERSION_KEY] = uuid.uuid4().hex
        self.collection.modify(metadata=meta)

    def add(
        self, docs: Sequence[Document], ids: Sequence[str], *, on_wait: Callable[[str], None] | None = None
    ) -> None:
        """Embed ``docs`` with :attr:`embeddings`, in batches, and upsert them under ``ids``.

        Each batch is written as soon as it is embedded, so an interrupted call leaves the
        first batches stored (ingestion detects such partial files and redoes them).

        Args:
            docs: The chunks; their metadata must be flat (str, int, float, bool values).
            ids: One id per chunk.
            on_wait: Gets the one-line message when the write waits for another process.

        Raises:
            ValueError: ``docs`` and ``ids`` differ in length.
            ConfigurationError: A metadata value is not a str, int, float or bool.
            StoreLockedError: Another process kept the store locked for ``lock_timeout`` seconds.
        """
        if len(docs) != len(ids):
            raise ValueError(f"got {len(docs)} documents but {len(ids)} ids")
        metadatas = flat_metadata(docs)
        for start in range(0, len(docs), self.batch_size):
            end = start + self.batch_size
            batch = list(docs[start:end])
            vectors = self.embeddings.embed_documents([d.page_content for d in batch])
            # held for the write only, not while embedding
            with profiling.phase("store", chunks=len(batch)), self._writing(on_wait):
                self.collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors,  # type: ignore[arg-type]
                    documents=[d.page_content for d in batch],
                    metadatas=metadatas[start:end],  # type: ignore[arg-type]
                )
                self._bump_version()

    @profiling.profiled("store")
    def delete_source(self, source: str, *, on_wait: Callable[[str], None] | None = None) -> int:
        """Delete every chunk of one file; returns how many were removed."""
        with self._writing(on_wait):
            result = self.collection.delete(where={"source": str(source)})
            deleted = int(result.get("deleted", 0)) if isinstance(result, dict) else 0
            if deleted:
                self._bump_version()
        return deleted

    @profiling.profiled("store")
    def _rows(
        self, where: dict[str, Any] | None, include: list[str]
    ) -> list[tuple[str, str, dict[str, Any]]]:
        rows: list[tuple[str, str, dict[str, Any]]] = []
        offset = 0
        while True:
            got = self.collection.get(where=where, include=include, limit=_PAGE, offset=offset)  # type: ignore[arg-type]
            texts = got.get("documents") or [""] * len(got["ids"])
            metas = got.get("metadatas") or [{}] * len(got["ids"])
            rows.extend((i, t or "", dict(m or {})) for i, t, m in zip(got["ids"], texts, metas, strict=True))
            if len(got["ids"]) < _PAGE:
                return rows
            offset += _PAGE

    def sources(self) -> dict[str, SourceInfo]:
        """What is stored per file, keyed by absolute path, read from the chunks' metadata."""
        groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for _, _, meta in self._rows(None, ["metadatas"]):
            source = str(meta.get("source", ""))
            groups.setdefault(source, {}).setdefault(str(meta.get("content_hash", "")), []).append(meta)
        out: dict[str, SourceInfo] = {}
        for source, by_hash in groups.items():
            content_hash, metas = max(by_hash.items(), key=lambda item: len(item[1]))
            expected = max(int(m.get("chunks", 0) or 0) for m in metas)
            present = {m.get("chunk_index") for m in metas}
            out[source] = SourceInfo(
                source=source,
                content_hash=content_hash,
                chunks=expected,
                complete=len(by_hash) == 1 and expected > 0 and len(present) == len(metas) == expected,
                file_type=str(metas[0].get("file_type", "")),
            )
        return out

    def get_documents(self, where: dict[str, Any] | None = None) -> list[Document]:
        """Every stored chunk (or those matching ``where``), ordered by source then chunk index.

        Returns:
            Documents with the chunk text, its metadata and ``Document.id`` set.
        """
        rows = self._rows(where, ["documents", "metadatas"])
        rows.sort(key=lambda r: (str(r[2].get("source", "")), int(r[2].get("chunk_index", 0) or 0), r[0]))
        return [Document(id=i, page_content=text, metadata=meta) for i, text, meta in rows]

    @profiling.profiled("store")
    def count(self) -> int:
        """Number of chunks stored."""
        return self.collection.count()

    @profiling.profiled("store")
    def version(self) -> str:
        """A token that changes whenever chunks are added or removed (to invalidate caches)."""
        try:
            fresh = self.client.get_collection(self.name, embedding_function=None)
        except Exception as exc:
            if type(exc).__name__ != "NotFoundError":
                raise
            raise IndexNotFoundError(f"collection `{self.name}` no longer exists") from exc
        return f"{(fresh.metadata or {}).get(_VERSION_KEY, '0')}:{fresh.count()}"

    def stats(self) -> dict[str, Any]:
        """Name, chunk and source counts, embedding model, dimension, distance and location."""
        hnsw = (self.collection.configuration_json or {}).get("hnsw") or {}
        return {
            "name": self.name,
            "chunks": self.count(),
            "sources": len(self.sources()),
            "embedding_model": self.model_id,
            "dimension": self.dimension,
            "space": hnsw.get("space", "l2"),
            "location": self.location,
        }

    def drop(self) -> None:
        """Delete the whole collection; this object is unusable afterwards."""
        with self._writing():
            self.client.delete_collection(self.name)

    def __repr__(self) -> str:
        return f"DocumentIndex({self.name!r}, model={self.model_id!r}, location={self.location!r})"


def open_index(
    name: str | None = None,
    *,
    embeddings: Embeddings | str | None = None,
    create: bool = True,
    **overrides: Any,
) -> DocumentIndex:
    """Open the configured index: ``chroma_host`` or ``chroma_path`` (``<data_dir>/chroma``).

    Args:
        name: Collection name. Empty: the ``collection`` setting.
        embeddings: The embedder. Empty: ``retrievers.embeddings.get_embeddings`` for the
            ``embeddings`` setting. A string is that setting (``"minilm"``, ``"ollama:..."``).
        create: Create a missing collection. False for read-only use (search, stats, ask):
            a missing one raises ``IndexNotFoundError`` naming the existing ones.
        **overrides: Settings overrides (``chroma_path=``, ``collection=``, ``embeddings=``...).

    Raises:
        ConfigurationError: A setting is invalid.
        ChromaUnreachableError: ``chroma_host`` is set and no server answers.
        EmbeddingMismatchError: The collection was built with another embedding model.
        IndexNotFoundError: ``create`` is False and there is no such collection.
    """
    from toolkit.settings import get_settings

    if isinstance(embeddings, str):  # the `embeddings` setting, passed by keyword like the others
        overrides["embeddings"], embeddings = embeddings, None
    settings = get_settings(**overrides)
    name = check_collection_name(name or settings.collection)
    path, host = store_location(settings)
    if not create:  # fail before loading an embedder; nothing is created
        known = list_indexes(**overrides)
        if name not in known:
            raise not_found(name, known)
    if embeddings is None:
        from toolkit.backends.embeddings import get_embeddings

        embedder: Embeddings = get_embeddings(**overrides)
    else:
        embedder = embeddings
    return DocumentIndex(
        name,
        embeddings=embedder,
        path=path,
        host=host,
        create=create,
        lock_timeout=settings.store_lock_timeout,
    )


def delete_index(name: str, **overrides: Any) -> None:
    """Delete the collection ``name`` from the configured store.

    Raises:
        IndexNotFoundError: No such collection; the message lists the existing ones.
    """
    from toolkit.settings import get_settings

    client = settings_client(overrides, create=False)
    names = [] if client is None else sorted(c.name for c in client.list_collections())
    if client is None or name not in names:
        raise not_found(name, names)
    settings = get_settings(**overrides)
    store = None if settings.chroma_host else embedded_store(store_location(settings)[0], create=False)
    with store.write_lock(settings.store_lock_timeout) if store is not None else nullcontext():
        forget_manifest(store.folder if store is not None else None, name)  # first: kill-safe
        client = settings_client(overrides)  # fresh after waiting
        assert client is not None
        client.delete_collection(name)
