"""The ingest manifest: what a collection holds per file, kept beside the embedded store, so
that re-ingesting unchanged files answers without importing chromadb.

``<store>/.llama-toolkit.manifest.<collection>.json`` lists each *complete* source of the
collection with its content hash and chunk count, and the size, mtime, ctime and inode its
file had when that hash was read; and the sources an interrupted run left incomplete. It stays consistent with the store by three rules:

- it is written only under the store's write lock (:mod:`retrievers._storelock`), from what
  the collection holds at that moment, with the store's stamp (the stamp is not bumped:
  writing it changes no Chroma data);
- every write to the collection deletes it first, under the same lock, so a writer killed
  midway leaves none behind;
- it is trusted only while the store's stamp equals the recorded one: any later write, to any
  collection, outdates it, and the next ingest takes the full path and writes it again.

A file counts as unchanged when its size, mtime, ctime and inode match and its ctime was
more than 2 s older than the moment it was read (a change within the same clock tick could
keep all four); otherwise its bytes are hashed and compared.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from retrievers._storelock import read_stamp, write_lock
from retrievers.report import IngestReport
from toolkit.errors import StoreLockedError

__all__ = [
    "FileState",
    "Index",
    "Manifest",
    "forget_manifest",
    "is_unchanged",
    "manifest_path",
    "noop_report",
    "observe",
    "read_manifest",
    "save_manifest",
    "write_manifest",
]

VERSION = 1
_PREFIX = ".llama-toolkit.manifest."
_NAME = re.compile(r"[A-Za-z0-9._-]{1,63}")
_RACY_NS = 2_000_000_000  # coarse file-system clocks (FAT: 2 s) and jiffies


@dataclass(frozen=True)
class FileState:
    """One source: its content hash and chunk count, and its file's identity when read.

    ``size``..``seen_ns`` are None when this run did not read the file (its bytes are then
    hashed by the next check); ``seen_ns`` is the wall clock just before it was read.
    """

    content_hash: str
    chunks: int = 0
    size: int | None = None
    mtime_ns: int | None = None
    ctime_ns: int | None = None
    ino: int | None = None
    seen_ns: int | None = None

    def same_file(self, info: os.stat_result) -> bool:
        """``info`` is the file that was read, untouched since (no hashing needed)."""
        if _racy(self):
            return False
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino) == (
            info.st_size,
            info.st_mtime_ns,
            info.st_ctime_ns,
            info.st_ino,
        )


class Index(Protocol):
    """What :func:`save_manifest` needs of a :class:`~retrievers.store.DocumentIndex`."""

    name: str
    model_id: str
    folder: str | None

    def sources(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Manifest:
    """A collection's manifest: the store stamp it is true at, the model id, its complete
    files, and the sources an interrupted run left incomplete (``partial``)."""

    collection: str
    model_id: str
    stamp: str
    files: dict[str, FileState]
    partial: tuple[str, ...] = ()


def observe(info: os.stat_result, content_hash: str, seen_ns: int) -> FileState:
    """What a run learnt of one file: ``info`` from before reading it at ``seen_ns``."""
    return FileState(content_hash, 0, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, seen_ns)


def manifest_path(folder: str | Path, collection: str) -> Path | None:
    """Where the manifest of ``collection`` lives (None for a name that is not a collection's)."""
    if not _NAME.fullmatch(collection) or collection.strip(".") == "":
        return None
    return Path(folder, f"{_PREFIX}{collection}.json")


def read_manifest(folder: str | Path, collection: str) -> Manifest | None:
    """The manifest, if present, readable and true at the store's current stamp; else None."""
    path = manifest_path(folder, collection)
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path else None
        if (
            not isinstance(data, dict)
            or data.get("version") != VERSION
            or data.get("collection") != collection
        ):
            return None
        manifest = Manifest(
            collection,
            str(data["model_id"]),
            str(data["stamp"]),
            {str(k): FileState(**v) for k, v in data["files"].items()},
            tuple(str(p) for p in data["partial"]),
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    return manifest if manifest.stamp and manifest.stamp == read_stamp(folder) else None


def write_manifest(folder: str | Path, manifest: Manifest) -> None:
    """Replace the manifest atomically; call it under the store's write lock."""
    path = manifest_path(folder, manifest.collection)
    if path is None:
        return
    body = {
        "version": VERSION,
        "collection": manifest.collection,
        "model_id": manifest.model_id,
        "stamp": manifest.stamp,
        "files": {k: dataclasses.asdict(v) for k, v in sorted(manifest.files.items())},
        "partial": sorted(manifest.partial),
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
    os.replace(tmp, path)


def forget_manifest(folder: str | Path | None, collection: str) -> None:
    """Delete the manifest (before a write to the collection, under the write lock; no folder:
    a Chroma server, nothing to do)."""
    path = manifest_path(folder, collection) if folder is not None else None
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def is_unchanged(path: str, state: FileState, max_bytes: int) -> bool:
    """The file at ``path`` still has the content ``state`` records (False when unsure)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return False
        if state.same_file(info):
            return True
        if state.size is not None and info.st_size != state.size:
            return False
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                if stream.tell() > max_bytes:
                    return False
    except OSError:
        return False
    return digest.hexdigest() == state.content_hash


def _quiet(message: str) -> None:
    """No "waiting for another process" line: the manifest is skipped instead of waited for."""


def _knows(manifest: Manifest, observed: dict[str, FileState]) -> bool:
    """Every observed file is in ``manifest`` with the same content and file identity, and
    trusted there unless it is not trustworthy as observed either (see :meth:`FileState.same_file`)."""
    for path, seen in observed.items():
        have = manifest.files.get(path)
        if have is None or _identity(have) != _identity(seen) or (_racy(have) and not _racy(seen)):
            return False
    return True


def _identity(state: FileState) -> tuple[object, ...]:
    return (state.content_hash, state.size, state.mtime_ns, state.ctime_ns, state.ino)


def _racy(state: FileState) -> bool:
    return state.ctime_ns is None or state.seen_ns is None or state.ctime_ns >= state.seen_ns - _RACY_NS


def save_manifest(index: Index, observed: dict[str, FileState]) -> bool:
    """Write the manifest of ``index`` after an ingest; True if written.

    Skipped for a Chroma server, when the current manifest is still true and knows every
    observed file as observed, and when another writer holds the lock (the next run writes it).
    The collection is read again under the lock, so the manifest is what it holds.
    """
    folder = index.folder
    if folder is None:
        return False
    current = read_manifest(folder, index.name)
    if current is not None and current.model_id == index.model_id and _knows(current, observed):
        return False
    try:
        with write_lock(folder, timeout=0, on_wait=_quiet, bump=False):
            stamp = read_stamp(folder)
            files, partial = {}, []
            for source, info in index.sources().items():
                seen = observed.get(source)
                if not info.complete:
                    partial.append(source)
                elif seen is not None and seen.content_hash == info.content_hash:
                    files[source] = dataclasses.replace(seen, chunks=info.chunks)
                else:
                    files[source] = FileState(info.content_hash, info.chunks)
            write_manifest(folder, Manifest(index.name, index.model_id, stamp, files, tuple(partial)))
    except (StoreLockedError, OSError):
        return False
    return True


def noop_report(
    paths: Sequence[str | os.PathLike[str]],
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    sync: bool = False,
    max_bytes: int | None = None,
    **overrides: Any,
) -> tuple[str, IngestReport] | None:
    """The collection's name and the report of an ingest with nothing to do, found from the
    manifest without opening Chroma; None when there may be work (or only Chroma can tell).

    Every file must be in a current manifest, unchanged, with the configured embedder's id;
    no path may fail; with ``sync``, no recorded file under a given folder may be gone.
    """
    from retrievers._chroma import store_location
    from retrievers._files import find_files, is_within
    from toolkit.backends.embeddings.ids import spec_model_id
    from toolkit.documents.base import DEFAULT_MAX_BYTES
    from toolkit.settings import get_settings

    started = time.perf_counter()
    settings = get_settings(**overrides)
    folder, host = store_location(settings)
    manifest = None if host else read_manifest(folder, settings.collection)
    if manifest is None or manifest.model_id != spec_model_id(settings.embeddings):
        return None
    failed: list[tuple[str, str]] = []
    files, roots = find_files(list(paths), include, exclude, failed)
    if failed or not files:
        return None
    sources = [*manifest.files, *manifest.partial]
    if sync and any(is_within(s, r) and not os.path.lexists(s) for s in sources for r in roots):
        return None
    limit = DEFAULT_MAX_BYTES if max_bytes is None else max_bytes
    for path in files:
        state = manifest.files.get(path)
        if state is None or not is_unchanged(path, state, limit):
            return None
    return settings.collection, IngestReport(unchanged=files, seconds=time.perf_counter() - started)
