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
  collection, outdates it, and the next ingest takes the full path and writes it again;
- it is trusted only while the store it describes is still there: it records the collection's
  id and the device and inode of ``chroma.sqlite3``, read again (read-only, milliseconds) before
  a no-op answer, so a store deleted around the manifest (``rm <store>/*`` leaves dotfiles), a
  restored copy, or a collection dropped through chromadb or a server is not taken for unchanged.

A file counts as unchanged when its size, mtime, ctime, device and inode match, it is readable,
and its mtime and ctime were more than 2 s older than the moment it was read (a change within
the same clock tick could keep them all; on some systems ctime is the creation time); otherwise
its bytes are hashed and compared. A manifest that is not a regular file, is over 64 MiB, or
holds a value of the wrong type is ignored (the full path runs and replaces it).
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

from retrievers._chroma import store_anchor
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

VERSION = 2  # 2: the store's anchor, and each file's device
_MAX_BYTES = 64 << 20  # ~300K files; a larger manifest is ignored, not read
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
    dev: int | None = None

    def same_file(self, info: os.stat_result) -> bool:
        """``info`` is the file that was read, untouched since (no hashing needed)."""
        if _racy(self):
            return False
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino, self.dev) == (
            info.st_size,
            info.st_mtime_ns,
            info.st_ctime_ns,
            info.st_ino,
            info.st_dev,
        )

    @classmethod
    def from_json(cls, value: Any) -> FileState:
        """A state read from a manifest; ``ValueError`` for anything but the written shape."""
        if (
            not isinstance(value, dict)
            or set(value) - _FIELDS
            or not isinstance(value.get("content_hash"), str)
        ):
            raise ValueError("not a file state")
        numbers = {k: v for k, v in value.items() if k != "content_hash"}
        if any(not (v is None or (type(v) is int and v >= 0)) for v in numbers.values()):
            raise ValueError("not a file state")
        if numbers.get("chunks") is None:
            numbers["chunks"] = 0
        return cls(value["content_hash"], **numbers)


_FIELDS = frozenset(f.name for f in dataclasses.fields(FileState))


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
    anchor: tuple[str, int, int] | None = None  # collection id, device and inode of chroma.sqlite3


def observe(info: os.stat_result, content_hash: str, seen_ns: int) -> FileState:
    """What a run learnt of one file: ``info`` from before reading it at ``seen_ns``."""
    return FileState(
        content_hash, 0, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, seen_ns, info.st_dev
    )


def manifest_path(folder: str | Path, collection: str) -> Path | None:
    """Where the manifest of ``collection`` lives (None for a name that is not a collection's)."""
    if not _NAME.fullmatch(collection) or collection.strip(".") == "":
        return None
    return Path(folder, f"{_PREFIX}{collection}.json")


def read_manifest(folder: str | Path, collection: str) -> Manifest | None:
    """The manifest, if present, readable and true at the store's current stamp; else None."""
    path = manifest_path(folder, collection)
    try:
        data = json.loads(_read_small(path)) if path else None
        if (
            not isinstance(data, dict)
            or data.get("version") != VERSION
            or data.get("collection") != collection
            or not all(isinstance(data.get(k), str) for k in ("model_id", "stamp"))
            or not isinstance(data.get("files"), dict)
            or not isinstance(data.get("partial"), list)
        ):
            return None
        anchor = data.get("anchor")
        manifest = Manifest(
            collection,
            data["model_id"],
            data["stamp"],
            {str(k): FileState.from_json(v) for k, v in data["files"].items()},
            tuple(str(p) for p in data["partial"]),
            _anchor(anchor) if anchor is not None else None,
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError, MemoryError):
        return None
    return manifest if manifest.stamp and manifest.stamp == read_stamp(folder) else None


def _read_small(path: Path) -> str:
    """``path``'s text if it is a regular file (not followed if a link, never blocking on a FIFO)
    of at most 64 MiB; ``OSError`` or ``ValueError`` otherwise."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES:
            raise ValueError(f"{path} is not a manifest")
        return stream.read(_MAX_BYTES + 1).decode("utf-8")


def _anchor(value: Any) -> tuple[str, int, int]:
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not all(type(v) is int for v in value[1:])
    ):
        raise ValueError("not an anchor")
    return value[0], value[1], value[2]


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
        "anchor": list(manifest.anchor) if manifest.anchor else None,
    }
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(body, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


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
        if state.same_file(info) and os.access(path, os.R_OK):
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
    return (state.content_hash, state.size, state.mtime_ns, state.ctime_ns, state.ino, state.dev)


def _racy(state: FileState) -> bool:
    """Changed too close to when it was read to trust its stat values (mtime or ctime: on some
    systems ctime is the creation time)."""
    if state.ctime_ns is None or state.mtime_ns is None or state.seen_ns is None:
        return True
    return max(state.ctime_ns, state.mtime_ns) >= state.seen_ns - _RACY_NS


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
    if (
        current is not None
        and current.model_id == index.model_id
        and current.anchor is not None
        and current.anchor == store_anchor(folder, index.name)
        and _knows(current, observed)
    ):
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
            anchor = store_anchor(folder, index.name)
            if anchor is None:
                return False  # no collection in the SQLite file we can read: nothing to vouch for
            write_manifest(folder, Manifest(index.name, index.model_id, stamp, files, tuple(partial), anchor))
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
    if manifest.anchor is None or manifest.anchor != store_anchor(folder, settings.collection):
        return None  # the store it describes is gone, replaced, or without this collection
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
