"""Finding the files to ingest: folders walked recursively, glob patterns, symlink safety.

A walk never leaves the folder it was given: a symlink to a place outside it is reported and
skipped (name the target itself to ingest it), and FIFOs, devices and sockets are reported
without ever being opened (reading a FIFO blocks; a device may never end).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from toolkit.documents import LOADERS
from toolkit.documents.base import special_file_kind

__all__ = ["SKIPPED_DIRS", "find_files", "is_within", "matcher"]

SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
"""Folder names never descended into (besides hidden ones such as ``.git`` and ``.venv``)."""


def _glob(pattern: str) -> re.Pattern[str]:
    """``fnmatch`` with ``**`` (any folders) and ``/`` as the separator."""
    pattern = pattern.strip().replace("\\", "/").removeprefix("./")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("/**", i) and i + 3 == len(pattern):
            out.append("(?:/.*)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] in "*?":
            out.append("[^/]*" if pattern[i] == "*" else "[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


def matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """A pattern without ``/`` matches the name at any depth; one with ``/`` the relative path."""
    compiled = [(_glob(p), "/" in p.strip().rstrip("/")) for p in patterns if p.strip()]

    def matches(rel: str) -> bool:
        name = rel.rsplit("/", 1)[-1]
        return any(rx.match(rel) or (not anchored and rx.match(name)) for rx, anchored in compiled)

    return matches


def _why_unreachable(path: str) -> str | None:
    """Why a path cannot be followed (broken or looping symlink, no permission), or None."""
    try:
        os.stat(path)
    except OSError as exc:
        if os.path.islink(path):
            what = "symbolic link loop" if exc.errno == errno.ELOOP else "broken symbolic link"
            return f"{what} ({exc.strerror}) -> {os.readlink(path)}"
        return f"cannot be read ({exc.strerror})"
    return None


def _why_special(path: str) -> str | None:
    """Why ``path`` (followed) is no file to read: a FIFO, device or socket; None otherwise."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return f"{special_file_kind(mode)}, not a regular file - skipped (never opened)"


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _walk(
    root: str,
    include: Callable[[str], bool] | None,
    exclude: Callable[[str], bool],
    failed: list[tuple[str, str]],
) -> list[str]:
    files: list[str] = []
    top = os.path.realpath(root)
    visited = {top}  # resolved folders: no folder is walked twice, loops end
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            failed.append((folder, f"cannot list the folder ({exc.strerror})"))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
                continue
            rel = os.path.relpath(entry.path, root).replace(os.sep, "/")
            if exclude(rel):
                continue
            if entry.is_symlink() and (why := _why_unreachable(entry.path)):
                failed.append((entry.path, why))
            elif entry.is_symlink() and not is_within(os.path.realpath(entry.path), top):
                failed.append(
                    (
                        entry.path,
                        f"symbolic link out of the folder -> {os.readlink(entry.path)} - skipped "
                        "(name the target itself to ingest it)",
                    )
                )
            elif (why := _why_special(entry.path)) is not None:
                if Path(entry.name).suffix.lower() in LOADERS:
                    failed.append((entry.path, why))
            elif entry.is_dir():
                real = os.path.realpath(entry.path)
                if real not in visited:
                    visited.add(real)
                    subdirs.append(entry.path)
                elif is_within(os.path.realpath(folder), real):  # else: a second way to a walked folder
                    failed.append((entry.path, f"symbolic link loop -> {os.readlink(entry.path)}"))
            elif (
                entry.is_file()
                and Path(entry.name).suffix.lower() in LOADERS
                and (include is None or include(rel))
            ):
                files.append(entry.path)
        stack.extend(reversed(subdirs))
    return files


def find_files(
    paths: Sequence[str | os.PathLike[str]],
    include: Sequence[str],
    exclude: Sequence[str],
    failed: list[tuple[str, str]],
) -> tuple[list[str], list[str]]:
    """Expand ``paths`` into the files to ingest.

    Args:
        paths: Files and folders; folders are walked recursively, skipping hidden entries,
            :data:`SKIPPED_DIRS` and files without a loader.
        include: Patterns a file in a folder must match (all files when empty).
        exclude: Patterns of files and folders to leave out.
        failed: Receives ``(path, reason)`` for missing paths, broken or looping symlinks,
            unreadable folders, and files named explicitly with an unsupported extension.

    Returns:
        The files (absolute, deduplicated, in walk order) and the folders that were given.
    """
    inc = matcher(include) if any(p.strip() for p in include) else None
    exc = matcher(exclude)
    files: dict[str, None] = {}
    roots: list[str] = []
    for given in paths:
        path = os.path.abspath(os.path.expanduser(os.fspath(given)))
        if not os.path.lexists(path):
            failed.append((path, "not found - check the path and its spelling"))
        elif (why := _why_unreachable(path)) or (why := _why_special(path)):
            failed.append((path, why))
        elif os.path.isdir(path):
            roots.append(path)
            files.update(dict.fromkeys(_walk(path, inc, exc, failed)))
        else:
            ext = Path(path).suffix.lower()
            if ext and ext not in LOADERS:
                failed.append(
                    (path, f"unsupported file type '{ext}' - supported: {', '.join(sorted(LOADERS))}")
                )
            else:
                files[path] = None
    return list(files), roots
