"""Keeping uploaded files (``toolkit.ui.uploads``): safe names, limits, and undoing a failed ingest.

Plain Python: no Streamlit, no model, a temporary folder.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

from toolkit.ui.uploads import (
    DUPLICATE,
    SavedUploads,
    prune_empty,
    remove_stored_copy,
    safe_relpath,
    save_uploads,
    uploads_folder,
    within,
)

SUPPORTED = [".md", ".txt"]


@dataclass
class FakeUpload:
    """What ``st.file_uploader`` hands over: a name, a size and the bytes."""

    name: str
    data: bytes
    claimed_size: int | None = None

    @property
    def size(self) -> int:
        return len(self.data) if self.claimed_size is None else self.claimed_size

    def getvalue(self) -> bytes:
        return self.data


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.md", "notes.md"),
        ("notes/sub/todo.md", "notes/sub/todo.md"),
        ("../../escape.md", "escape.md"),
        ("/etc/passwd.txt", "etc/passwd.txt"),
        ("C:\\Users\\ada\\report.txt", "Users/ada/report.txt"),
        ("a/./b//c.md", "a/b/c.md"),
        ("bad\x00na\nme.md", "badname.md"),
        ("  spaced .md ", "spaced .md"),
    ],
)
def test_safe_relpath_stays_inside(name: str, expected: str) -> None:
    assert safe_relpath(name) == PurePosixPath(expected)


@pytest.mark.parametrize("name", ["", "..", "/", "./..", "C:", "\x00\x01"])
def test_safe_relpath_without_a_usable_name(name: str) -> None:
    assert safe_relpath(name) is None


def test_within_and_uploads_folder(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "handbook")
    assert folder == tmp_path / "uploads" / "handbook"
    assert within(folder / "a.md", folder)
    assert not within(folder, folder)  # strictly inside
    assert not within(tmp_path / "uploads" / "handbook2" / "a.md", folder)  # a sibling with the prefix
    assert not within(folder / ".." / "other.md", folder)


def test_saves_files_and_folders_and_rejects_with_reasons(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "docs")
    uploads = [
        FakeUpload("kelvara.txt", b"The bridge."),
        FakeUpload("notes/sub/todo.md", b"# Todo"),
        FakeUpload("../../escape.md", b"# Soup"),
        FakeUpload("image.png", b"\x89PNG"),
        FakeUpload("README", b"no extension"),
        FakeUpload("notes/.hidden/secret.md", b"x"),
        FakeUpload("big.txt", b"word", claimed_size=2 * 2**20),
        FakeUpload("..", b"x"),
    ]
    saved = save_uploads(uploads, folder, supported=SUPPORTED, max_mb=1)

    assert saved.paths == [
        str(folder / "kelvara.txt"),
        str(folder / "notes/sub/todo.md"),
        str(folder / "escape.md"),
    ]
    assert (folder / "notes" / "sub" / "todo.md").read_bytes() == b"# Todo"
    assert (folder / "escape.md").read_bytes() == b"# Soup"
    assert not (tmp_path / "escape.md").exists()
    reasons = dict(saved.rejected)
    assert reasons["image.png"] == "unsupported file type '.png' - supported: .md, .txt"
    assert reasons["README"] == "unsupported file type without an extension - supported: .md, .txt"
    assert reasons["notes/.hidden/secret.md"] == "hidden files and folders are skipped"
    assert reasons["big.txt"] == "it is 2.0 MB; the limit is 1 MB"
    assert reasons[".."] == "the file has no usable name"
    assert not list(folder.rglob(".*.part"))  # no temporary file left behind


def test_undo_puts_back_the_earlier_copy_and_removes_new_files(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "docs")
    save_uploads([FakeUpload("kelvara.txt", b"first version")], folder, supported=SUPPORTED)

    saved = save_uploads(
        [
            FakeUpload("kelvara.txt", b"broken"),
            FakeUpload("kelvara.txt", b"broken again"),  # twice in one go: the second is rejected
            FakeUpload("new/deep/soup.md", b"# Soup"),
            FakeUpload("good.md", b"# Good"),
        ],
        folder,
        supported=SUPPORTED,
    )
    assert (folder / "kelvara.txt").read_bytes() == b"broken"
    assert saved.rejected == [("kelvara.txt", DUPLICATE)]
    assert saved.previous[str(folder / "kelvara.txt")] == b"first version"
    assert saved.previous[str(folder / "new/deep/soup.md")] is None

    saved.undo([str(folder / "kelvara.txt"), str(folder / "new" / "deep" / "soup.md")], folder)
    assert (folder / "kelvara.txt").read_bytes() == b"first version"
    assert not (folder / "new").exists()  # the new file and its emptied folders are gone
    assert (folder / "good.md").read_bytes() == b"# Good"  # what did not fail stays


def test_undo_ignores_paths_it_did_not_save(tmp_path: Path) -> None:
    folder = tmp_path / "uploads" / "docs"
    own = tmp_path / "mine.md"
    own.write_text("the user's own file")
    SavedUploads().undo([str(own)], folder)
    assert own.read_text() == "the user's own file"


def test_a_file_that_cannot_be_written_is_rejected(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "docs")
    folder.mkdir(parents=True)
    (folder / "taken").write_text("a file where a folder should be")
    saved = save_uploads(
        [FakeUpload("taken/a.md", b"x"), FakeUpload("b.md", b"y")], folder, supported=SUPPORTED
    )
    assert saved.paths == [str(folder / "b.md")]
    assert saved.rejected[0][0] == "taken/a.md"
    assert saved.rejected[0][1].startswith("it could not be saved (")


def test_remove_stored_copy_never_touches_files_outside(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "docs")
    save_uploads([FakeUpload("a/b/c.md", b"x")], folder, supported=SUPPORTED)
    own = tmp_path / "notes" / "c.md"
    own.parent.mkdir()
    own.write_text("keep me")

    remove_stored_copy(str(own), folder)
    assert own.exists()
    remove_stored_copy(str(folder / "a" / "b" / "c.md"), folder)
    assert not (folder / "a").exists() and folder.is_dir()  # pruned up to the folder itself


def test_prune_stops_at_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    top = tmp_path / "top"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "keep.txt").write_text("x")
    prune_empty(top / "a" / "b", top)
    assert not (top / "a" / "b").exists() and (top / "a" / "keep.txt").exists()


def test_the_plain_helpers_do_not_import_streamlit() -> None:
    code = (
        "import sys, toolkit.ui.uploads, toolkit.ui.citations, toolkit.ui.history;"
        "print('streamlit' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
