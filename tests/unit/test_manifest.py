"""retrievers.manifest: the ingest manifest beside an embedded store, and the no-op path that
answers from it without chromadb (a real Chroma in tmp_path, a fake embedder)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import report as corpus_report

from retrievers._chroma import collection_names
from retrievers._storelock import write_lock
from retrievers.ingestion import ingest
from retrievers.manifest import manifest_path, noop_report, observe, read_manifest, save_manifest
from retrievers.store import DocumentIndex, delete_index, list_indexes
from toolkit.backends.embeddings.ids import MINILM_ID
from toolkit.errors import ConfigurationError
from unit.test_store_ingest import CountingEmbeddings


def fake_minilm(fail_after: int | None = None) -> CountingEmbeddings:
    """A counting fake that records MiniLM's id, so that the configured `minilm` matches the manifest."""
    return CountingEmbeddings(size=16, model_id=MINILM_ID, fail_after=fail_after)


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "chroma"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(4):
        path = root / f"report{i}.md"
        path.write_text(corpus_report(6, seed=i), encoding="utf-8")
        old = path.stat().st_mtime_ns - 60_000_000_000  # not "racy": written a minute ago
        os.utime(path, ns=(old, old))
    return root


def opened(store: Path, name: str = "docs") -> DocumentIndex:
    return DocumentIndex(name, embeddings=fake_minilm(), path=store)


def quick(folder: Path | list[Path], store: Path, **kwargs: object) -> list[str] | None:
    paths = folder if isinstance(folder, list) else [folder]
    found = noop_report(paths, chroma_path=str(store), collection="docs", embeddings="minilm", **kwargs)  # type: ignore[arg-type]
    return None if found is None else sorted(found[1].unchanged)


def test_ingest_writes_a_manifest_that_matches_the_store(folder: Path, store: Path) -> None:
    index = opened(store)
    first = ingest([folder], index)
    manifest = read_manifest(store, "docs")
    assert manifest is not None and manifest.model_id == MINILM_ID
    assert {s: (f.content_hash, f.chunks) for s, f in manifest.files.items()} == {
        s: (i.content_hash, i.chunks) for s, i in index.sources().items()
    }
    assert all(f.size and f.ino and f.seen_ns for f in manifest.files.values())
    assert quick(folder, store) == sorted(first.added)


def test_a_file_changed_within_the_clock_tick_is_hashed_not_trusted(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("hello", encoding="utf-8")
    info = path.stat()
    fresh = observe(info, "x", info.st_ctime_ns)
    assert not fresh.same_file(info)  # read in the same tick as its last change
    settled = dataclasses.replace(fresh, seen_ns=info.st_ctime_ns + 3_000_000_000)
    assert settled.same_file(info)
    assert not dataclasses.replace(settled, ino=info.st_ino + 1).same_file(info)
    assert not dataclasses.replace(settled, dev=info.st_dev + 1).same_file(info)
    # Where ctime is the creation time, a recent mtime alone must make it untrusted.
    created_long_ago = dataclasses.replace(settled, ctime_ns=0, mtime_ns=settled.seen_ns - 1)
    assert not created_long_ago.same_file(os.stat_result((*info[:7], 0, 0, 0)))


def test_missing_manifest_falls_back_and_is_rebuilt(folder: Path, store: Path) -> None:
    ingest([folder], opened(store))
    before = read_manifest(store, "docs")
    path = manifest_path(store, "docs")
    assert before is not None and path is not None
    path.unlink()
    assert quick(folder, store) is None
    embedder = fake_minilm()
    again = ingest([folder], DocumentIndex("docs", embeddings=embedder, path=store))
    assert len(again.unchanged) == 4 and embedder.texts == 0
    rebuilt = read_manifest(store, "docs")
    assert rebuilt is not None and rebuilt.stamp == before.stamp  # a manifest write is no store write
    assert {s: f.content_hash for s, f in rebuilt.files.items()} == {
        s: f.content_hash for s, f in before.files.items()
    }
    assert quick(folder, store) is not None


def test_a_changed_file_is_never_skipped(folder: Path, store: Path) -> None:
    ingest([folder], opened(store))
    target = folder / "report1.md"
    info = target.stat()
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("project", "PROJECT", 1), encoding="utf-8")  # same size
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # and the old mtime
    assert target.stat().st_size == info.st_size
    assert quick(folder, store) is None
    result = ingest([folder], opened(store))
    assert result.updated == [str(target)]
    assert quick(folder, store) is not None  # the run rewrote the manifest
    (folder / "new.md").write_text("# New\n\nA new file.\n", encoding="utf-8")
    assert quick(folder, store) is None


def test_touched_but_identical_file_is_unchanged(folder: Path, store: Path) -> None:
    ingest([folder], opened(store))
    os.utime(folder / "report2.md")  # new mtime and ctime, same bytes: hashed, still unchanged
    assert quick(folder, store) is not None


def test_another_writer_outdates_the_manifest(folder: Path, store: Path) -> None:
    ingest([folder], opened(store))
    assert quick(folder, store) is not None
    with write_lock(store, timeout=5):  # another process's write, to any collection
        pass
    assert read_manifest(store, "docs") is None and quick(folder, store) is None
    ingest([folder], opened(store))
    assert quick(folder, store) is not None


def test_a_write_to_the_collection_deletes_the_manifest_before_writing(folder: Path, store: Path) -> None:
    index = opened(store)
    ingest([folder], index)
    path = manifest_path(store, "docs")
    assert path is not None and path.exists()
    with index._writing():  # a writer killed in here leaves no manifest behind
        assert not path.exists()


def test_other_reasons_to_take_the_full_path(folder: Path, store: Path, tmp_path: Path) -> None:
    ingest([folder], opened(store))
    assert quick([folder, tmp_path / "missing"], store) is None  # a failure must be reported
    found = noop_report(
        [folder], chroma_path=str(store), collection="docs", embeddings="ollama:nomic-embed-text"
    )
    assert found is None  # another embedder: opening the index must raise the mismatch
    assert quick(folder, store, sync=True) is not None
    (folder / "report3.md").unlink()
    assert quick(folder, store, sync=True) is None  # sync has a file to remove


def test_list_and_no_op_ingest_import_no_chromadb(folder: Path, store: Path) -> None:
    other = opened(store, "other")
    other.client.create_collection("scratch")
    delete_index("scratch", chroma_path=str(store))
    ingest([folder], opened(store))  # last: the manifest is current
    expected = sorted(c.name for c in other.client.list_collections())  # chromadb's own answer
    assert expected == ["docs", "other"]
    assert list_indexes(chroma_path=str(store)) == expected
    code = (
        "import sys; from retrievers.listing import list_indexes;"
        f"names = list_indexes(chroma_path={str(store)!r}); light = 'langchain_core' not in sys.modules;"
        "from retrievers.manifest import noop_report;"
        f"found = noop_report([{str(folder)!r}], chroma_path={str(store)!r}, collection='docs', embeddings='minilm');"
        "print(names, light, found is not None, 'chromadb' in sys.modules, 'onnxruntime' in sys.modules)"
    )
    root = Path(__file__).resolve().parents[2]  # this checkout's packages, not an installed copy
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert done.stdout.strip() == "['docs', 'other'] True True False False", done.stderr


def test_a_file_left_incomplete_is_recorded_for_sync(folder: Path, store: Path, tmp_path: Path) -> None:
    index = DocumentIndex("docs", embeddings=fake_minilm(fail_after=3), path=store)
    index.batch_size = 2  # several batches per file, so the failure lands inside one
    with pytest.raises(RuntimeError, match="embedder died"):
        ingest([folder], index)
    partial = [s for s, info in index.sources().items() if not info.complete]
    assert len(partial) == 1
    assert manifest_path(store, "docs") is not None and not manifest_path(store, "docs").exists()  # type: ignore[union-attr]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "note.md").write_text("# Note\n\nSomething else entirely.\n", encoding="utf-8")
    ingest([elsewhere], opened(store))  # a full run on other files writes the manifest
    manifest = read_manifest(store, "docs")
    assert manifest is not None and manifest.partial == tuple(partial)
    assert quick(elsewhere, store) is not None
    done = [Path(s).name for s in manifest.files if Path(s).parent == folder]
    assert done and quick(folder, store, include=done, sync=True) is not None
    Path(partial[0]).unlink()
    assert quick(folder, store, include=done) is not None
    assert quick(folder, store, include=done, sync=True) is None  # sync must remove the leftovers


def test_cli_no_op_ingest_and_index_list_answer_without_chromadb(folder: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    ingest([folder], DocumentIndex("documents", embeddings=fake_minilm(), path=data / "chroma"))
    code = (
        "import sys; from toolkit.cli import main;"
        f"codes = main(['ingest', {str(folder)!r}]), main(['index', 'list']);"
        "print(codes, 'chromadb' in sys.modules, 'onnxruntime' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_")}
    env["LLAMA_TOOLKIT_DATA_DIR"] = str(data)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, env=env)
    lines = done.stdout.strip().splitlines()
    assert lines == [
        "documents: 0 added, 0 updated, 4 unchanged, 0 removed, 0 failed; 0 chunks added, 0 removed in 0.0 s",
        "documents",
        "(0, 0) False False",
    ], done.stderr


def test_a_current_manifest_is_not_rewritten(folder: Path, store: Path) -> None:
    index = opened(store)
    ingest([folder], index)
    manifest = read_manifest(store, "docs")
    assert manifest is not None
    known = {p: dataclasses.replace(f, chunks=0) for p, f in manifest.files.items()}
    assert not save_manifest(index, known)  # nothing new: no lock taken, nothing written
    source, state = next(iter(known.items()))
    assert save_manifest(index, {source: dataclasses.replace(state, ino=(state.ino or 0) + 1)})
    rewritten = read_manifest(store, "docs")
    assert rewritten is not None and rewritten.files[source].ino == (state.ino or 0) + 1


def test_a_store_gone_or_replaced_around_the_manifest_is_not_taken_for_unchanged(
    folder: Path, store: Path
) -> None:
    """``rm <store>/*`` leaves the dotfiles (manifest, stamp); a collection dropped by chromadb or
    a server leaves the manifest too: the no-op path must see the store is not what it records."""
    index = opened(store)
    ingest([folder], index)
    assert quick(folder, store) is not None
    index.client.delete_collection("docs")  # behind our back: no lock, no manifest removed
    assert manifest_path(store, "docs").exists()  # type: ignore[union-attr]
    assert quick(folder, store) is None
    ingest([folder], opened(store))
    assert quick(folder, store) is not None
    db = store / "chroma.sqlite3"
    copy = store / "copy.sqlite3"
    copy.write_bytes(db.read_bytes())
    os.replace(copy, db)  # a restored copy: same content, another file
    assert quick(folder, store) is None
    db.unlink()
    assert quick(folder, store) is None


@pytest.mark.parametrize(
    "body",
    [
        '{"version": 2, "collection": "docs", "model_id": "m", "stamp": "S", "partial": [], "anchor": null,'
        ' "files": {"a": {"content_hash": "h", "seen_ns": "soon", "ctime_ns": 1}}}',
        '{"version": 2, "collection": "docs", "model_id": 7, "stamp": "S", "files": {}, "partial": []}',
        '{"version": 2, "collection": "docs", "model_id": "m", "stamp": "S", "files": [], "partial": []}',
        "[" * 100_000 + "]" * 100_000,
        "\udcff not json",
    ],
    ids=["string-time", "number-model", "files-list", "deep", "garbage"],
)
def test_a_hostile_manifest_is_ignored_and_replaced(folder: Path, store: Path, body: str) -> None:
    ingest([folder], opened(store))
    path = manifest_path(store, "docs")
    assert path is not None
    stamp = read_manifest(store, "docs").stamp  # type: ignore[union-attr]
    path.write_text(body.replace('"S"', f'"{stamp}"'), encoding="utf-8", errors="surrogateescape")
    assert read_manifest(store, "docs") is None and quick(folder, store) is None
    again = ingest([folder], opened(store))  # the full path, which must not trip on it either
    assert len(again.unchanged) == 4 and quick(folder, store) is not None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_manifest_that_is_a_fifo_or_a_link_is_not_read(folder: Path, store: Path, tmp_path: Path) -> None:
    ingest([folder], opened(store))
    path = manifest_path(store, "docs")
    assert path is not None
    path.unlink()
    os.mkfifo(path)  # reading would block forever
    assert read_manifest(store, "docs") is None
    path.unlink()
    path.symlink_to("/dev/zero")  # reading would never end
    assert read_manifest(store, "docs") is None
    ingest([folder], opened(store))
    assert not path.is_symlink() and quick(folder, store) is not None


def test_index_list_on_an_empty_or_corrupt_store_file(tmp_path: Path) -> None:
    store = tmp_path / "chroma"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"")
    assert collection_names(store) == []
    assert (store / "chroma.sqlite3").stat().st_size == 0  # nothing written into it
    (store / "chroma.sqlite3").write_bytes(b"not a database at all" * 100)
    with pytest.raises(ConfigurationError, match="is not a readable Chroma store"):
        collection_names(store)
