"""Keeping uploaded files: safe names, atomic writes, and undoing a failed ingest.

The Documents page saves uploads in ``<data_dir>/uploads/<collection>/`` (a folder upload keeps
its relative paths) and ingests them from there. A stored copy is replaced only for good: when
ingesting the new version fails, :meth:`SavedUploads.undo` puts the earlier copy back (or removes
a file that was new). Two uploads of one batch that would land on the same file are never
written over each other: the first is kept and the others are rejected by name. Nothing here
imports Streamlit.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath
from typing import Protocol

__all__ = [
    "DUPLICATE",
    "MAX_UPLOAD_MB",
    "SavedUploads",
    "Upload",
    "prune_empty",
    "remove_stored_copy",
    "safe_relpath",
    "save_uploads",
    "uploads_folder",
    "within",
    "write_file",
]

DUPLICATE = "another file of this upload has the same name: the first one was kept, upload this one alone"
"""Why the second of two same-named uploads in one batch is rejected."""
MAX_UPLOAD_MB = 50
"""Largest file a page accepts (also Streamlit's ``server.maxUploadSize`` when started by the CLI)."""


class Upload(Protocol):
    """What the pages need of an uploaded file (``st.file_uploader`` returns these)."""

    @property
    def name(self) -> str: ...

    @property
    def size(self) -> int: ...

    def getvalue(self) -> bytes: ...


def uploads_folder(data_dir: Path, collection: str) -> Path:
    """Where the files uploaded to ``collection`` are kept: ``<data_dir>/uploads/<collection>``."""
    return data_dir / "uploads" / collection


def within(path: str | Path, folder: Path) -> bool:
    """Whether ``path`` (made absolute) lies strictly inside ``folder``."""
    return os.path.abspath(path).startswith(str(folder) + os.sep)


def prune_empty(folder: Path, top: Path) -> None:
    """Remove ``folder`` and its parents up to (not including) ``top`` while they are empty."""
    while folder != top and within(folder, top):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def safe_relpath(name: str) -> PurePosixPath | None:
    """An uploaded file's name as a relative path that stays inside the uploads folder.

    Separators of either kind split it; empty, ``.`` and ``..`` parts, unprintable characters
    and a Windows drive are dropped. ``None`` when nothing usable is left.
    """
    parts: list[str] = []
    for raw in re.split(r"[\\/]+", name):
        part = "".join(ch for ch in raw if ch.isprintable()).strip()
        if part and part not in (".", ".."):
            parts.append(part)
    if parts and re.fullmatch(r"[A-Za-z]:", parts[0]):  # a Windows drive
        parts = parts[1:]
    return PurePosixPath(*parts) if parts else None


def write_file(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` through a temporary file beside it (creating its folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    try:
        part.write_bytes(data)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def remove_stored_copy(source: str, folder: Path) -> None:
    """Delete ``source`` if it is an uploaded copy inside ``folder`` (never the user's own files)."""
    if within(source, folder) and os.path.isfile(source):
        Path(source).unlink(missing_ok=True)
        prune_empty(Path(source).parent, folder)


class SavedUploads:
    """Uploads written to a collection's folder, with what each replaced (to undo a failure)."""

    def __init__(self) -> None:
        self.previous: dict[str, bytes | None] = {}
        """Absolute path -> its earlier content (``None``: the file is new)."""
        self.rejected: list[tuple[str, str]] = []
        """``(shown name, reason)`` of each upload that was not saved."""

    @property
    def paths(self) -> list[str]:
        """The saved files, in upload order."""
        return list(self.previous)

    def undo(self, failed: Iterable[str], folder: Path) -> None:
        """Put back the earlier copy of each failed upload (or remove a new one)."""
        for path in {os.path.abspath(p) for p in failed} & set(self.previous):
            old = self.previous[path]
            try:
                if old is None:
                    Path(path).unlink(missing_ok=True)
                    prune_empty(Path(path).parent, folder)
                else:
                    write_file(Path(path), old)
            except OSError:  # the report already names the file; the index is unharmed
                pass


def _problem(rel: PurePosixPath, size: int, supported: Sequence[str], max_mb: int) -> str | None:
    """Why an upload named ``rel`` is not kept, or ``None``."""
    ext = rel.suffix.lower()
    if any(part.startswith(".") for part in rel.parts):
        return "hidden files and folders are skipped"
    if ext not in supported:
        kind = f"'{ext}'" if ext else "without an extension"
        return f"unsupported file type {kind} - supported: {', '.join(supported)}"
    if size > max_mb * 2**20:
        return f"it is {size / 2**20:.1f} MB; the limit is {max_mb} MB"
    return None


def save_uploads(
    uploads: Sequence[Upload], folder: Path, *, supported: Sequence[str], max_mb: int = MAX_UPLOAD_MB
) -> SavedUploads:
    """Write ``uploads`` into ``folder``, keeping what each one replaces.

    Args:
        uploads: The uploaded files; a folder upload's names hold relative paths.
        folder: The collection's uploads folder (see :func:`uploads_folder`).
        supported: The extensions the toolkit reads (``.md``...); other files are rejected.
        max_mb: The largest file kept, in MB.

    Returns:
        The saved files and the rejected ones with their reasons. Of two uploads with one name
        (the same file in ``folder``) the first is saved and the second rejected, named, with
        ``DUPLICATE`` as its reason: nothing of the batch is overwritten by the batch.
    """
    saved = SavedUploads()
    for upload in uploads:
        rel = safe_relpath(upload.name)
        if rel is None:
            saved.rejected.append((upload.name or "(no name)", "the file has no usable name"))
            continue
        shown = str(rel)
        problem = _problem(rel, upload.size, supported, max_mb)
        target = folder.joinpath(*rel.parts)
        path = os.path.abspath(target)
        if problem is None and not within(path, folder):  # cannot happen after safe_relpath
            problem = "the name points outside the uploads folder"
        if problem is None and path in saved.previous:
            problem = DUPLICATE
        if problem is not None:
            saved.rejected.append((shown, problem))
            continue
        try:
            old = target.read_bytes() if target.is_file() else None
            write_file(target, upload.getvalue())
        except OSError as exc:
            saved.rejected.append((shown, f"it could not be saved ({exc.strerror or exc})"))
            continue
        saved.previous[path] = old
    return saved
