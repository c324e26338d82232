"""The Documents page through AppTest: uploads, ingestion reports, the list, delete, re-index, collections.

The real app script with the real MiniLM embedder and a fresh data folder per test
(``tests/ui/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from toolkit.ui import resources as res
from toolkit.ui.citations import escape_markdown

KELVARA = b"The Kelvara bridge was finished in 1911. It crosses the Dunmere river north of the old mill."
SOUP = b"# Soup\n\nTomato soup needs ripe tomatoes, salt, olive oil and fresh basil."
TODO = b"# Todo\n\nRepaint the garden shed before the autumn rains start."


def _texts(at: Any, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def _no_exception(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _listed(at: Any) -> dict[str, dict[str, Any]]:
    """The documents table, by file name (empty when the page shows no table)."""
    if not at.table:
        return {}
    frame = at.table[0].value
    return {row["Document"]: dict(row) for row in frame.to_dict("records")}


def _index(data_dir: Path, name: str = "documents") -> Any:
    from retrievers import open_index

    return open_index(name, data_dir=data_dir)


def _ingest_folder(data_dir: Path, folder: Path, files: dict[str, bytes]) -> list[str]:
    """Write ``files`` into ``folder`` and ingest them with the public API (no page involved)."""
    from retrievers import ingest

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    report = ingest([folder], _index(data_dir))
    assert len(report.added) == len(files) and not report.failed, report.summary()
    return sorted(str(folder / name) for name in files)


def _names(sources: dict[str, Any]) -> set[str]:
    return {Path(s).name for s in sources}


def test_uploaded_files_and_folder_are_ingested_listed_and_deletable(
    open_page: Callable[[str], Any], data_dir: Path
) -> None:
    at = open_page("documents")
    assert "The collection documents is empty" in " ".join(_texts(at, "info"))
    assert [u.label for u in at.file_uploader] == ["Upload files", "Upload a folder"]

    at.file_uploader[0].upload("kelvara.txt", KELVARA, "text/plain").upload("soup.md", SOUP, "text/markdown")
    at.file_uploader[1].upload("notes/sub/todo.md", TODO, "text/markdown")  # a folder upload's relative name
    at.button(key="docs_ingest").click().run()
    _no_exception(at)

    report = " ".join(_texts(at, "success"))
    assert "Ingested: 3 added, 0 updated, 0 unchanged, 0 failed; 3 chunks added" in report
    listed = _listed(at)
    assert set(listed) == {"kelvara.txt", "soup.md", "todo.md"}
    assert all(row["Chunks"] >= 1 and row["Status"] == "indexed" for row in listed.values())
    assert listed["soup.md"]["Type"] == "markdown"
    assert listed["todo.md"]["Location"] == "uploaded: notes/sub/"
    uploads = data_dir / "uploads" / "documents"
    assert (uploads / "notes" / "sub" / "todo.md").read_bytes() == TODO
    assert [u.value for u in at.file_uploader] == [[], []]  # emptied after ingesting

    soup = str(uploads / "soup.md")
    at.multiselect(key="docs_selected").select(soup).run()
    at.button(key="docs_delete").click().run()
    _no_exception(at)
    assert "Deleted 1 document(s): soup.md." in _texts(at, "success")
    assert set(_listed(at)) == {"kelvara.txt", "todo.md"}
    assert _names(_index(data_dir).sources()) == {"kelvara.txt", "todo.md"}
    assert not Path(soup).exists()  # the uploaded copy goes with it


def test_rejected_and_failing_files_do_not_stop_the_rest_or_lose_stored_ones(
    open_page: Callable[[str], Any], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = open_page("documents")
    at.file_uploader[0].upload("kelvara.txt", KELVARA, "text/plain")
    at.button(key="docs_ingest").click().run()
    stored = _index(data_dir).sources()
    assert _names(stored) == {"kelvara.txt"}

    monkeypatch.setattr("toolkit.ui.pages.documents.MAX_UPLOAD_MB", 1)
    at.run()  # the uploaders now take at most 1 MB
    uploader = at.file_uploader[0]
    uploader.upload("big.txt", b"word " * 250_000, "text/plain")  # 1.2 MB
    uploader.upload("kelvara.txt", b"", "text/plain")  # a broken new version of a stored file
    uploader.upload("../../escape.md", SOUP, "text/markdown")  # saved inside the uploads folder
    uploader.upload("blank.txt", b"   \n", "text/plain")
    at.button(key="docs_ingest").click().run()
    _no_exception(at)

    warnings = " ".join(_texts(at, "warning"))
    assert "big.txt" in warnings and "the limit is 1 MB" in warnings
    assert "Ingested: 1 added, 0 updated, 0 unchanged, 2 failed" in warnings
    errors = " ".join(_texts(at, "error"))
    assert "Could not index 2 file(s)" in errors
    assert (
        "**kelvara.txt**: kelvara.txt is empty" in errors and "**blank.txt**: blank.txt has no text" in errors
    )

    uploads = data_dir / "uploads" / "documents"
    assert sorted(p.name for p in uploads.iterdir()) == ["escape.md", "kelvara.txt"]
    assert (uploads / "kelvara.txt").read_bytes() == KELVARA  # the earlier copy is back
    sources = _index(data_dir).sources()
    assert _names(sources) == {"kelvara.txt", "escape.md"}
    assert sources[str(uploads / "kelvara.txt")] == stored[str(uploads / "kelvara.txt")]
    assert set(_listed(at)) == {"kelvara.txt", "escape.md"}


def test_reindex_reads_changed_files_and_reports_missing_ones(
    open_page: Callable[[str], Any], data_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "notes"
    keep, gone = _ingest_folder(data_dir, folder, {"bridge.txt": KELVARA, "soup.md": SOUP})
    at = open_page("documents")
    listed = _listed(at)
    assert set(listed) == {"bridge.txt", "soup.md"}
    assert listed["bridge.txt"]["Location"] == escape_markdown(str(folder))

    Path(keep).write_bytes(KELVARA + b"\n\n" + b"The bridge was repainted in 1990 and again in 2015. " * 40)
    Path(gone).unlink()
    at.multiselect(key="docs_selected").select(keep).select(gone).run()
    at.button(key="docs_reindex").click().run()
    _no_exception(at)
    assert "Re-indexed: 0 added, 1 updated, 0 unchanged, 0 failed" in " ".join(_texts(at, "success"))
    warning = " ".join(_texts(at, "warning"))
    assert "Not re-indexed" in warning and "soup.md" in warning and "no longer exists" in warning
    listed = _listed(at)
    assert listed["bridge.txt"]["Chunks"] > 1
    assert set(listed) == {"bridge.txt", "soup.md"}  # a missing file is kept until deleted
    assert at.multiselect(key="docs_selected").value == [gone]  # what is left to do: delete it

    at.button(key="docs_delete").click().run()
    _no_exception(at)
    assert set(_listed(at)) == {"bridge.txt"}
    assert _names(_index(data_dir).sources()) == {"bridge.txt"}
    assert Path(keep).exists()  # files outside the uploads folder are never touched


def test_missing_folder_path_is_an_error_and_nothing_is_ingested(
    open_page: Callable[[str], Any], data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS", str(tmp_path))  # server folders are opt-in
    _ingest_folder(data_dir, tmp_path / "notes", {"bridge.txt": KELVARA})
    before = _index(data_dir).sources()
    at = open_page("documents")
    at.file_uploader[0].upload("soup.md", SOUP, "text/markdown")
    at.text_input(key="docs_path").input(str(tmp_path / "no-such-folder"))
    at.button(key="docs_ingest").click().run()
    _no_exception(at)
    assert any(
        "does not exist on this machine" in e and "Nothing was ingested" in e for e in _texts(at, "error")
    )
    assert set(_listed(at)) == {"bridge.txt"}
    assert _index(data_dir).sources() == before
    assert not (data_dir / "uploads").exists()

    at.text_input(key="docs_path").input(str(tmp_path / "notes")).run()  # an existing folder still works
    at.button(key="docs_ingest").click().run()
    _no_exception(at)
    assert "Ingested: 1 added, 0 updated, 1 unchanged, 0 failed" in " ".join(_texts(at, "success"))
    assert set(_listed(at)) == {"bridge.txt", "soup.md"}


def test_collections_are_validated_created_shared_with_ask_and_deleted(
    open_page: Callable[[str], Any], data_dir: Path
) -> None:
    from retrievers import list_indexes

    _ingest_folder(data_dir, data_dir.parent / "notes", {"bridge.txt": KELVARA})
    at = open_page("documents")
    for bad, why in [("ab", "use 3 to 63"), ("my notes!", "only letters, digits"), ("a..b", "two periods")]:
        at.text_input(key="docs_new_name").input(bad)
        at.button(key="docs_create").click().run()
        _no_exception(at)
        assert any("is not a valid collection name" in e and why in e for e in _texts(at, "error")), bad
    assert at.session_state[res.COLLECTION_KEY] == "documents"

    at.text_input(key="docs_new_name").input("projects")
    at.button(key="docs_create").click().run()
    _no_exception(at)
    assert "Created collection projects." in _texts(at, "success")
    assert at.selectbox(key="docs_pick").value == "projects"
    assert at.session_state[res.COLLECTION_KEY] == "projects"
    assert "projects" in list_indexes(data_dir=data_dir)

    at.file_uploader[0].upload("soup.md", SOUP, "text/markdown")
    at.button(key="docs_ingest").click().run()
    assert set(_listed(at)) == {"soup.md"}
    assert _names(_index(data_dir, "projects").sources()) == {"soup.md"}

    at.switch_page("toolkit/ui/screens/ask.py").run()  # the choice survives a page without the picker
    _no_exception(at)
    assert at.selectbox(key="ask_pick").value == "projects"
    at.switch_page("toolkit/ui/screens/documents.py").run()
    assert at.selectbox(key="docs_pick").value == "projects"
    assert set(_listed(at)) == {"soup.md"}

    assert at.button(key="docs_drop").disabled
    at.checkbox(key="docs_confirm_drop").check().run()
    at.button(key="docs_drop").click().run()
    _no_exception(at)
    assert "Deleted the collection projects and its documents." in _texts(at, "success")
    assert "projects" not in list_indexes(data_dir=data_dir)
    assert not (data_dir / "uploads" / "projects").exists()
    assert at.session_state[res.COLLECTION_KEY] == "documents"
    assert at.selectbox(key="docs_pick").value == "documents"
    assert set(_listed(at)) == {"bridge.txt"}
    assert not at.checkbox(key="docs_confirm_drop").value  # the confirmation is not carried over
