"""One writer at a time per embedded Chroma folder, and a stamp that tells readers to reopen.

Writes take an exclusive ``fcntl.flock`` on ``<store>/.llama-toolkit.lock`` (released by the
kernel when the process dies, so a killed writer never leaves a stale lock); the holder writes
its pid and command into the file so a waiter can say who holds it. Threads of one process
queue on a re-entrant in-process lock first. After each write, still under the lock, the
stamp file ``<store>/.llama-toolkit.stamp`` gets a new random token: a process that opened
the store earlier reads it before a query and reopens its chromadb client when it changed
(chromadb keeps the vector index of an embedded store in memory and does not see other
processes' writes). On Windows (no ``fcntl``) only the in-process lock applies: run a
Chroma server (``chroma_host``) to share a store between processes there.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from toolkit.errors import ConfigurationError, StoreLockedError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "STAMP_NAME", "read_stamp", "write_lock"]

LOCK_NAME = ".llama-toolkit.lock"
STAMP_NAME = ".llama-toolkit.stamp"
_POLL = 0.05


class _FolderLock:
    def __init__(self) -> None:
        self.threads = threading.RLock()
        self.depth = 0
        self.fd: int | None = None


_LOCKS: dict[str, _FolderLock] = {}
_LOCKS_GUARD = threading.Lock()


def _folder_lock(folder: str) -> _FolderLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(folder, _FolderLock())


def read_stamp(folder: str | Path) -> str:
    """The store's write stamp ("" before its first locked write, or if unreadable)."""
    try:
        with open(os.path.join(folder, STAMP_NAME), encoding="ascii", errors="replace") as stream:
            return stream.read(200)
    except OSError:
        return ""


def _bump_stamp(folder: str) -> str:
    token = f"{uuid.uuid4().hex} {os.getpid()}"
    tmp = os.path.join(folder, f"{STAMP_NAME}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="ascii") as stream:
        stream.write(token)
    os.replace(tmp, os.path.join(folder, STAMP_NAME))  # readers never see a half-written stamp
    return token


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 300, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return f" ({text})" if text else ""


def _announce(folder: str, fd: int | None, on_wait: Callable[[str], None] | None) -> None:
    holder = _holder(fd) if fd is not None else " (another thread of this process)"
    message = f"waiting for another process writing to {folder}{holder}..."
    if on_wait is not None:
        on_wait(message)
    else:
        print(message, file=sys.stderr, flush=True)


def _locked_error(folder: str, timeout: float, fd: int | None) -> StoreLockedError:
    holder = _holder(fd) if fd is not None else " (another thread of this process)"
    return StoreLockedError(
        f"the Chroma store {folder} is being written by another process{holder} and stayed locked for "
        f"{timeout:g} s - wait for it to finish and retry, or raise store_lock_timeout "
        "(LLAMA_TOOLKIT_STORE_LOCK_TIMEOUT)"
    )


def _flock(folder: str, deadline: float, timeout: float, on_wait: Callable[[str], None] | None) -> int:
    try:
        fd = os.open(os.path.join(folder, LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write to the Chroma store {folder} ({exc.strerror}) - check its permissions, or set "
            "chroma_path (LLAMA_TOOLKIT_CHROMA_PATH) to a writable folder"
        ) from exc
    announced = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked_error(folder, timeout, fd) from None
                if not announced:
                    _announce(folder, fd, on_wait)
                    announced = True
                time.sleep(_POLL)
        os.ftruncate(fd, 0)
        command = " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv[:3]))
        os.pwrite(fd, f"pid {os.getpid()}: {command}".encode("utf-8", "replace")[:300], 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextmanager
def write_lock(
    folder: str | Path,
    *,
    timeout: float,
    on_wait: Callable[[str], None] | None = None,
    on_written: Callable[[str, str], None] | None = None,
    bump: bool = True,
) -> Iterator[None]:
    """Hold the store's write lock for the ``with`` body; re-entrant within a thread.

    Args:
        folder: The store's folder (must exist).
        timeout: Seconds to wait for another writer; then :class:`StoreLockedError`.
        on_wait: Gets the one-line "waiting for ..." message (default: printed on stderr).
        on_written: Called under the lock after the outermost body with the stamp read at
            acquisition and the new one (a reader that had seen the first is current).
        bump: False for a body that writes no Chroma data (the ingest manifest): the stamp is
            left as it is, so readers need not reopen.

    Raises:
        StoreLockedError: The lock stayed taken for ``timeout`` seconds.
    """
    key = os.path.abspath(folder)
    lock = _folder_lock(key)
    deadline = time.monotonic() + timeout
    if not lock.threads.acquire(blocking=False):
        _announce(key, None, on_wait)
        if not lock.threads.acquire(timeout=max(timeout, 0.0)):
            raise _locked_error(key, timeout, None)
    try:
        outer = lock.depth == 0
        if outer and fcntl is not None:
            lock.fd = _flock(key, deadline, timeout, on_wait)
        before = read_stamp(key) if outer else ""
        lock.depth += 1
        try:
            yield
        finally:
            lock.depth -= 1
            if outer:
                try:
                    stamp = _bump_stamp(key) if bump else before
                    if on_written is not None:
                        on_written(before, stamp)
                finally:
                    if lock.fd is not None:
                        os.ftruncate(lock.fd, 0)
                        os.close(lock.fd)  # closing the descriptor releases the flock
                        lock.fd = None
    finally:
        lock.threads.release()
