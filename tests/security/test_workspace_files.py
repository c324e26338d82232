"""Workspace tools and the ingest walk on hostile files: FIFOs, devices, sockets, symlink swaps, secrets."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrievers._files import find_files
from toolkit.documents import load_document
from toolkit.errors import DocumentError
from tools import make_workspace_tools
from tools.workspace import _Workspace


def _bounded(call: Callable[[], Any], unblock: Path | None = None, seconds: float = 5.0) -> tuple[Any, float]:
    """Run ``call`` in a thread, so a regression that blocks fails the test instead of hanging it."""
    result: list[Any] = []
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: result.append(_catch(call)), daemon=True)
    worker.start()
    worker.join(seconds)
    elapsed = time.perf_counter() - started
    if worker.is_alive() and unblock is not None:  # free the blocked reader: open the FIFO's write end
        os.close(os.open(unblock, os.O_WRONLY | os.O_NONBLOCK))
    assert result, f"the call blocked for {seconds} s"
    return result[0], elapsed


def _catch(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:  # returned, so the test can assert on it
        return exc


def test_read_file_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    list_files, read_file = make_workspace_tools(tmp_path)
    answer, elapsed = _bounded(lambda: read_file.invoke({"path": "pipe.txt"}), unblock=tmp_path / "pipe.txt")
    assert elapsed < 1, elapsed
    assert (
        answer
        == "Error: pipe.txt is a FIFO (named pipe), not a regular file - only regular files can be read"
    )
    assert "pipe.txt  (a FIFO (named pipe), not readable)" in list_files.invoke({})


def test_read_file_refuses_a_socket_and_a_device_link(tmp_path: Path) -> None:
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        _, read_file = make_workspace_tools(tmp_path)
        answer, elapsed = _bounded(lambda: read_file.invoke({"path": "s.sock"}))
    assert elapsed < 1 and answer.startswith("Error: s.sock is a socket, not a regular file"), answer
    os.symlink("/dev/zero", tmp_path / "zero.txt")
    answer, elapsed = _bounded(lambda: read_file.invoke({"path": "zero.txt"}))
    assert elapsed < 1 and "is a link to a place outside the workspace" in answer, answer
    try:
        os.mknod(tmp_path / "zero2.txt", 0o600 | 0o020000, os.makedev(1, 5))  # /dev/zero's twin, root only
    except PermissionError:
        return
    answer, elapsed = _bounded(lambda: read_file.invoke({"path": "zero2.txt"}))
    assert elapsed < 1 and answer.startswith("Error: zero2.txt is a character device, not a regular file")


def test_a_parent_swapped_for_a_symlink_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "notes").mkdir(parents=True)
    outside.mkdir()
    (root / "notes" / "todo.md").write_text("inside\n")
    (outside / "todo.md").write_text("SECRET outside\n")
    checked = _Workspace.resolve

    def resolve_then_swap(self: _Workspace, path: str) -> Path:
        real = checked(self, path)  # the check passes on the real folder...
        (root / "notes").rename(root / "notes.old")  # ...then the attacker swaps it for a link
        os.symlink(outside, root / "notes")
        return real

    monkeypatch.setattr(_Workspace, "resolve", resolve_then_swap)
    _, read_file = make_workspace_tools(root)
    answer = read_file.invoke({"path": "notes/todo.md"})
    assert "SECRET" not in answer
    assert answer == (
        "Error: notes/todo.md changed while it was being opened (a part of its path became a symbolic link "
        "or a file) - it is not read; list_files shows what is there now"
    )


@pytest.mark.parametrize(
    ("path", "pattern"),
    [(".env", ".env"), (".git/config", ".git"), (".ssh/id_rsa", ".ssh"), ("sub/.aws/credentials", ".aws")],
)
def test_the_deny_list_refuses_secrets(tmp_path: Path, path: str, pattern: str) -> None:
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text("SECRET=1\n")
    os.symlink(path, tmp_path / "innocent.txt")  # a link inside the workspace to the secret
    list_files, read_file = make_workspace_tools(tmp_path)
    for asked in (path, "innocent.txt"):
        started = time.perf_counter()
        answer = read_file.invoke({"path": asked})
        assert time.perf_counter() - started < 1
        assert answer.startswith(
            f"Error: {asked!r} is refused: it matches {pattern!r} on the workspace deny-list"
        )
        assert "SECRET" not in answer and "\n" not in answer
    top = path.split("/")[0]
    listing = list_files.invoke({})
    assert f"{top}  (refused: on the deny-list as {pattern!r})" in listing or top == "sub"
    assert "refused" in list_files.invoke({"path": str(Path(path).parent)}) or path == ".env"


def test_the_deny_list_can_be_changed(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TOKEN=abc\n")
    (tmp_path / "notes.md").write_text("# notes\n")
    _, read_file = make_workspace_tools(tmp_path, deny=[])
    assert "TOKEN=abc" in read_file.invoke({"path": ".env"})
    _, read_file = make_workspace_tools(tmp_path, deny=["*.md"])
    assert "on the workspace deny-list" in read_file.invoke({"path": "notes.md"})
    assert "TOKEN=abc" in read_file.invoke({"path": ".env"})


def test_ingest_walk_never_opens_special_files_nor_leaves_the_folder(tmp_path: Path) -> None:
    folder, outside = tmp_path / "docs", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (folder / "good.md").write_text("# fine\n")
    (outside / "secret.md").write_text("secret\n")
    os.mkfifo(folder / "pipe.txt")
    os.symlink(outside / "secret.md", folder / "escape.md")
    os.symlink(outside, folder / "outdir")
    os.symlink("/dev/zero", folder / "zero.txt")
    failed: list[tuple[str, str]] = []
    (files, _), elapsed = _bounded(lambda: find_files([folder], [], [], failed), unblock=folder / "pipe.txt")
    assert elapsed < 1
    assert files == [str(folder / "good.md")]
    reasons = dict(failed)
    assert (
        reasons[str(folder / "pipe.txt")]
        == "a FIFO (named pipe), not a regular file - skipped (never opened)"
    )
    assert reasons[str(folder / "escape.md")].startswith("symbolic link out of the folder ->")
    assert reasons[str(folder / "outdir")].startswith("symbolic link out of the folder ->")
    assert reasons[str(folder / "zero.txt")].startswith("symbolic link out of the folder ->")


def test_load_document_refuses_a_fifo_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    error, elapsed = _bounded(lambda: load_document(tmp_path / "pipe.txt"), unblock=tmp_path / "pipe.txt")
    assert elapsed < 1
    assert isinstance(error, DocumentError)
    assert (
        str(error)
        == f"{tmp_path / 'pipe.txt'} is a FIFO (named pipe), not a regular file - only regular files are read"
    )


def test_a_file_swapped_for_a_symlink_or_fifo_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET outside\n")
    checked = _Workspace.resolve
    swaps = {
        "link.txt": lambda p: os.symlink(outside / "secret.txt", p),
        "fifo.txt": os.mkfifo,
    }

    def resolve_then_swap(self: _Workspace, path: str) -> Path:
        real = checked(self, path)
        real.unlink()
        swaps[real.name](real)
        return real

    monkeypatch.setattr(_Workspace, "resolve", resolve_then_swap)
    _, read_file = make_workspace_tools(root)
    for name, message in (("link.txt", "changed while it was being opened"), ("fifo.txt", "is a FIFO")):
        (root / name).write_text("inside\n")
        answer, elapsed = _bounded(lambda n=name: read_file.invoke({"path": n}), unblock=root / name)
        assert elapsed < 1 and message in answer and "SECRET" not in answer, answer
