"""retrievers.store / ingest / loaders: a real embedded Chroma in tmp_path, a fake embedder.

Every test writes a real store (chromadb ``PersistentClient``); only the embedding model
is faked (``DeterministicFakeEmbedding``, wrapped to count calls and to fail on demand).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from corpus import report as corpus_report
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from retrievers._files import matcher
from retrievers.ingestion import IngestReport, chunk_documents, chunk_id, ingest
from retrievers.store import DocumentIndex, SourceInfo, _model_id, delete_index, list_indexes, open_index
from toolkit.documents import LOADERS, load_document
from toolkit.errors import ConfigurationError, EmbeddingMismatchError, EmptyDocumentError, IndexNotFoundError

LATIN1_TEXT = (
    "Le café de la gare sert une crème brûlée très appréciée.\n"
    "À l'été, la façade est décorée; les élèves y goûtent des gâteaux.\n"
    "Müller aß Würstchen in der Straße, während Søren smørrebrød bestilte.\n"
)


class CountingEmbeddings(Embeddings):
    """``DeterministicFakeEmbedding`` that counts ``embed_documents`` calls and can die after N."""

    def __init__(
        self, size: int = 32, model_id: str = "fake-embedder", fail_after: int | None = None
    ) -> None:
        self.inner = DeterministicFakeEmbedding(size=size)
        self.size = size
        self.model_id = model_id
        self.fail_after = fail_after
        self.calls = 0
        self.texts = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise RuntimeError("embedder died")
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def words(text: str) -> int:
    return len(text.split())


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return tmp_path / "chroma"


@pytest.fixture
def index(store: Path) -> DocumentIndex:
    return DocumentIndex("docs", embeddings=CountingEmbeddings(), path=store)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def make_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 10, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def corpus_folder(root: Path, files: int = 6, paragraphs: int = 12) -> Path:
    for i in range(files):
        write(root / f"report{i}.md", corpus_report(paragraphs, seed=i))
    return root


def assert_complete(index: DocumentIndex) -> None:
    infos = index.sources()
    assert infos and all(info.complete for info in infos.values()), infos
    assert index.count() == sum(info.chunks for info in infos.values())


# --- DocumentIndex --------------------------------------------------------------------------------


def test_add_delete_sources_version_and_stats(index: DocumentIndex, store: Path) -> None:
    def chunk(source: str, i: int, n: int) -> Document:
        meta = {
            "source": source,
            "file_type": "text",
            "content_hash": "h" + source,
            "chunks": n,
            "chunk_index": i,
        }
        return Document(page_content=f"{source} part {i}", metadata=meta)

    v0 = index.version()
    index.add([chunk("/a", 0, 2), chunk("/a", 1, 2), chunk("/b", 0, 2)], ["a0", "a1", "b0"])
    v1 = index.version()
    assert v1 != v0 and index.count() == 3
    assert index.sources() == {
        "/a": SourceInfo(source="/a", content_hash="h/a", chunks=2, complete=True, file_type="text"),
        "/b": SourceInfo(source="/b", content_hash="h/b", chunks=2, complete=False, file_type="text"),
    }
    docs = index.get_documents()
    assert [d.id for d in docs] == ["a0", "a1", "b0"] and docs[1].page_content == "/a part 1"
    assert [d.id for d in index.get_documents(where={"source": "/b"})] == ["b0"]
    assert index.version() == v1  # reads do not change it

    assert index.delete_source("/a") == 2
    assert index.version() not in (v0, v1) and index.count() == 1
    assert index.delete_source("/nowhere") == 0
    stats = index.stats()
    assert stats == {
        "name": "docs",
        "chunks": 1,
        "sources": 1,
        "embedding_model": _model_id(index.embeddings),
        "dimension": 32,
        "space": "cosine",
        "location": str(store),
    }
    hits = index.vectorstore.similarity_search("/b part 0", k=1)
    assert hits[0].page_content == "/b part 0"

    index.drop()
    assert "docs" not in [c.name for c in index.client.list_collections()]


def test_version_changes_when_another_handle_writes(index: DocumentIndex, store: Path) -> None:
    other = DocumentIndex("docs", embeddings=CountingEmbeddings(), path=store)
    before = index.version()
    other.add([Document(page_content="x", metadata={"source": "/x"})], ["x"])
    assert index.version() != before


class OtherEmbeddings(CountingEmbeddings):
    """Another model: another class and another ``model_id``, whichever of them the id comes from."""


@pytest.mark.parametrize(
    "embedder",
    [CountingEmbeddings(size=64), OtherEmbeddings(model_id="other-model")],
    ids=["other-size", "other-model"],
)
def test_opening_with_another_embedder_fails_with_the_reindex_command(
    index: DocumentIndex, store: Path, embedder: CountingEmbeddings
) -> None:
    with pytest.raises(EmbeddingMismatchError) as info:
        DocumentIndex("docs", embeddings=embedder, path=store)
    message = str(info.value)
    assert f"built with the embedding model {index.model_id} (32 dimensions)" in message
    assert f"the configured one is {_model_id(embedder)} ({embedder.size} dimensions)" in message
    assert "`llama-toolkit index delete docs && llama-toolkit ingest PATH... --collection docs`" in message
    assert isinstance(info.value, ConfigurationError)
    # A collection of another name is free to use another model.
    assert DocumentIndex("other", embeddings=embedder, path=store).dimension == embedder.size


def test_plain_fake_embedder_id_falls_back_to_the_class_name(store: Path) -> None:
    index = DocumentIndex("plain", embeddings=DeterministicFakeEmbedding(size=32), path=store)
    assert index.collection.metadata["embedding_dimension"] == 32
    assert index.model_id  # embedding_model_id() when retrievers.embeddings exists, else the class name
    with pytest.raises(EmbeddingMismatchError, match=r"32 dimensions.*16 dimensions"):
        DocumentIndex("plain", embeddings=DeterministicFakeEmbedding(size=16), path=store)


def test_invalid_collection_name_is_a_configuration_error(store: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"invalid collection name `a!`"):
        DocumentIndex("a!", embeddings=CountingEmbeddings(), path=store)


def test_open_list_and_delete_indexes_from_settings(tmp_path: Path) -> None:
    store = tmp_path / "store"
    index = open_index(embeddings=CountingEmbeddings(), chroma_path=store, collection="notes")
    assert index.name == "notes" and index.location == str(store)
    open_index("papers", embeddings=CountingEmbeddings(), chroma_path=store)
    assert list_indexes(chroma_path=store) == ["notes", "papers"]
    delete_index("notes", chroma_path=store)
    assert list_indexes(chroma_path=store) == ["papers"]
    with pytest.raises(IndexNotFoundError, match=r"no collection named `notes` - existing: papers"):
        delete_index("notes", chroma_path=store)
    # Default location: <data_dir>/chroma (conftest points data_dir at tmp_path / "data").
    default = open_index(embeddings=CountingEmbeddings())
    assert default.name == "documents" and default.location == str(tmp_path / "data" / "chroma")


# --- Chunking -------------------------------------------------------------------------------------


def test_chunks_minus_overlap_reassemble_the_text_and_respect_the_budget() -> None:
    text = corpus_report(40, seed=3)
    doc = Document(page_content=text, metadata={"source": "/r.md", "file_type": "markdown", "tags": ["x"]})
    chunks = chunk_documents([doc], count_tokens=words, chunk_tokens=60, overlap=12)
    assert len(chunks) > 10
    rebuilt = ""
    for i, chunk in enumerate(chunks):
        meta = chunk.metadata
        own = chunk.page_content[meta["overlap"] :]
        assert text[meta["start"] : meta["start"] + len(own)] == own
        assert meta["start"] == len(rebuilt)  # consecutive: nothing lost, nothing repeated
        rebuilt += own
        assert words(chunk.page_content) <= 60
        assert words(own) <= 48
        assert (meta["chunk_index"], meta["chunks"]) == (i, len(chunks))
        assert meta["chunk_hash"] == hashlib.sha256(chunk.page_content.encode()).hexdigest()
        assert "tags" not in meta  # lists are dropped: Chroma takes scalars only
        if i:
            prefix = chunk.page_content[: meta["overlap"]]
            previous = chunks[i - 1].page_content
            assert 0 < words(prefix) <= 12 and previous.endswith(prefix)
            cut = len(previous) - len(prefix)
            assert cut == 0 or previous[cut - 1].isspace()  # the tail starts at a word
        else:
            assert meta["overlap"] == 0
    assert rebuilt == text


def test_chunk_sections_follow_markdown_headings_but_not_code_comments() -> None:
    md = "# Intro\n\n" + "alpha " * 30 + "\n\n## Methods\n\n" + "beta " * 30 + "\n"
    chunks = chunk_documents(
        [Document(page_content=md, metadata={"source": "/m.md", "file_type": "markdown"})],
        count_tokens=words,
        chunk_tokens=40,
        overlap=5,
    )
    assert [c.metadata["section"] for c in chunks] == ["Intro", "Methods"]
    code = "# setup\nimport os\n\n" * 20
    chunks = chunk_documents(
        [Document(page_content=code, metadata={"source": "/c.py", "file_type": "code"})],
        count_tokens=words,
        chunk_tokens=12,
        overlap=2,
    )
    assert len(chunks) > 1 and {c.metadata["section"] for c in chunks} == {""}


def test_chunk_documents_rejects_an_overlap_as_large_as_the_chunk() -> None:
    with pytest.raises(ConfigurationError, match=r"overlap < chunk_tokens"):
        chunk_documents([], count_tokens=words, chunk_tokens=32, overlap=32)


def test_chunk_metadata_is_flat_and_correct_for_pdf_and_markdown(
    index: DocumentIndex, tmp_path: Path
) -> None:
    folder = tmp_path / "in"
    pdf = make_pdf(folder / "paper.pdf", ["First page about llamas. " * 5, "Second page about alpacas. " * 5])
    md = write(folder / "notes.md", "# Notes\n\n" + "word " * 120 + "\n\n## Later\n\n" + "more " * 120)
    result = ingest([folder], index, chunk_tokens=64, overlap=8)
    assert sorted(result.added) == [str(md), str(pdf)] and not result.failed

    pdf_chunks = index.get_documents(where={"source": str(pdf)})
    assert [(c.metadata["page"], c.metadata["chunk_index"]) for c in pdf_chunks] == [(1, 0), (2, 1)]
    content_hash = hashlib.sha256(pdf.read_bytes()).hexdigest()
    for chunk in pdf_chunks:
        meta = chunk.metadata
        assert meta["content_hash"] == content_hash and meta["chunks"] == 2 and meta["file_type"] == "pdf"
        assert chunk.id == chunk_id(str(pdf), content_hash, meta["chunk_index"])
        assert chunk.id.split(":")[1] == content_hash[:12]
        assert all(isinstance(v, (str, int, float, bool)) for v in meta.values())
    assert "alpacas" in pdf_chunks[1].page_content

    md_chunks = index.get_documents(where={"source": str(md)})
    assert len(md_chunks) >= 4 and "page" not in md_chunks[0].metadata
    assert md_chunks[0].metadata["section"] == "Notes" and md_chunks[-1].metadata["section"] == "Later"
    assert [c.metadata["chunk_index"] for c in md_chunks] == list(range(len(md_chunks)))
    assert {c.metadata["chunks"] for c in md_chunks} == {len(md_chunks)}
    assert_complete(index)


# --- Idempotence, updates, sync -------------------------------------------------------------------


def test_reingest_is_idempotent_and_embeds_nothing(tmp_path: Path, store: Path) -> None:
    folder = corpus_folder(tmp_path / "docs")
    first_embedder = CountingEmbeddings()
    index = DocumentIndex("docs", embeddings=first_embedder, path=store)
    progress: list[tuple[str, int, int]] = []
    first = ingest([folder], index, on_progress=lambda *args: progress.append(args))
    assert len(first.added) == 6 and first.chunks_added == index.count() > 6
    assert first_embedder.texts == first.chunks_added
    assert progress[0] == ("ingest", 0, 6) and progress[-1] == ("ingest", 6, 6) and len(progress) >= 7
    assert [done for _, done, _ in progress] == sorted(done for _, done, _ in progress)
    version = index.version()

    embedder = CountingEmbeddings()
    again = ingest([folder], DocumentIndex("docs", embeddings=embedder, path=store))
    assert sorted(again.unchanged) == sorted(first.added)
    assert (again.added, again.updated, again.removed, again.failed, again.chunks_added) == (
        [],
        [],
        [],
        [],
        0,
    )
    assert embedder.calls == 0
    assert index.version() == version and index.count() == first.chunks_added
    assert again.summary().startswith("0 added, 0 updated, 6 unchanged, 0 removed, 0 failed; 0 chunks added")


def test_edited_file_is_updated_and_its_old_chunks_replaced(index: DocumentIndex, tmp_path: Path) -> None:
    folder = corpus_folder(tmp_path / "docs", files=3)
    ingest([folder], index)
    target = folder / "report1.md"
    old_hash = index.sources()[str(target)].content_hash
    old_chunks = index.sources()[str(target)].chunks
    write(target, "# Replaced\n\nA short new text about vicuñas.\n")
    embedder: CountingEmbeddings = index.embeddings  # type: ignore[assignment]
    embedder.texts = 0

    result = ingest([folder], index)
    assert result.updated == [str(target)] and len(result.unchanged) == 2
    assert (result.chunks_added, result.chunks_removed) == (1, old_chunks)
    assert embedder.texts == 1
    info = index.sources()[str(target)]
    assert info.content_hash != old_hash and info.chunks == 1 and info.complete
    (only,) = index.get_documents(where={"source": str(target)})
    assert "vicuñas" in only.page_content and only.metadata["section"] == "Replaced"
    assert_complete(index)


def test_sync_removes_deleted_files_only_under_the_given_folders(
    index: DocumentIndex, tmp_path: Path
) -> None:
    folder = corpus_folder(tmp_path / "docs", files=3)
    other = write(tmp_path / "elsewhere" / "keep.md", "# Keep\n\nThis file stays indexed.\n")
    ingest([folder, other], index)
    gone = folder / "report2.md"
    gone_chunks = index.sources()[str(gone)].chunks
    gone.unlink()
    other.unlink()

    without_sync = ingest([folder], index)
    assert without_sync.removed == [] and str(gone) in index.sources()

    result = ingest([folder], index, sync=True)
    assert result.removed == [str(gone)] and result.chunks_removed == gone_chunks
    assert str(gone) not in index.sources()
    assert str(other) in index.sources()  # not under the synced folder
    # A folder that is missing (typo, unmounted drive) removes nothing.
    missing = ingest([tmp_path / "docs-typo"], index, sync=True)
    assert missing.removed == [] and missing.failed[0][1].startswith("not found")
    assert_complete(index)


def test_delete_source_among_many_sources(index: DocumentIndex) -> None:
    # Sanity for the `where` delete on a store of a few thousand chunks (no timing assertion).
    docs, ids = [], []
    for s in range(40):
        for i in range(50):
            docs.append(Document(page_content=f"s{s} c{i}", metadata={"source": f"/f{s}", "chunk_index": i}))
            ids.append(f"{s}:{i}")
    index.batch_size = 500
    index.add(docs, ids)
    assert index.delete_source("/f7") == 50
    assert index.count() == 39 * 50 and "/f7" not in index.sources()
    assert len(index.get_documents()) == 39 * 50


# --- Bad input, kill safety -----------------------------------------------------------------------


def test_bad_files_fail_with_reasons_and_leave_everything_else_intact(
    index: DocumentIndex, tmp_path: Path
) -> None:
    keep = corpus_folder(tmp_path / "keep", files=2, paragraphs=1)  # under max_bytes below
    ingest([keep], index)
    before = [(d.id, d.page_content, d.metadata) for d in index.get_documents()]

    bad = tmp_path / "bad"
    write(bad / "good.md", "# Good\n\nA perfectly fine note about llamas.\n")
    write(bad / "latin1.txt", LATIN1_TEXT.encode("latin-1"))
    write(bad / "empty.txt", b"")
    write(bad / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 2)
    write(bad / "broken.pdf", b"%PDF-1.4\nthis is not really a pdf\n%%EOF")
    write(bad / "huge.txt", "big text " * 300)
    write(bad / "ignored.xyz", "a folder's unsupported files are skipped silently")
    write(bad / ".git" / "config.txt", "hidden: skipped")
    write(bad / "node_modules" / "lib.md", "skipped")
    os.symlink("loop.txt", bad / "loop.txt")  # a file symlink pointing at itself
    os.symlink("nowhere.md", bad / "dangling.md")
    (bad / "sub").mkdir()
    os.symlink("..", bad / "sub" / "up")  # a folder symlink back to an ancestor
    explicit = write(tmp_path / "data.xyz", "named explicitly")
    emptied = write(keep / "report0.md", b"")  # a file that was indexed, then broke: its chunks stay

    result = ingest([bad, keep, explicit], index, max_bytes=1000)
    assert sorted(result.added) == [str(bad / "good.md"), str(bad / "latin1.txt")]
    reasons = dict(result.failed)
    assert set(reasons) == {
        str(bad / name)
        for name in ("empty.txt", "image.txt", "broken.pdf", "huge.txt", "loop.txt", "dangling.md")
    } | {str(bad / "sub" / "up"), str(explicit), str(emptied)}
    assert "is empty (0 bytes)" in reasons[str(bad / "empty.txt")]
    assert "binary data" in reasons[str(bad / "image.txt")]
    assert "damaged or not really a PDF" in reasons[str(bad / "broken.pdf")]
    assert (
        "over the 1000 bytes limit" in reasons[str(bad / "huge.txt")]
        and "max_bytes" in reasons[str(bad / "huge.txt")]
    )
    assert reasons[str(bad / "loop.txt")].startswith("symbolic link loop")
    assert reasons[str(bad / "dangling.md")].startswith("broken symbolic link")
    assert reasons[str(bad / "sub" / "up")] == "symbolic link loop -> .."
    assert reasons[str(explicit)].startswith("unsupported file type '.xyz'")
    assert all("\n" not in reason and str(tmp_path) not in reason for reason in reasons.values())
    assert result.unchanged == [str(keep / "report1.md")]
    assert "9 failed (dangling.md, loop.txt, up, +6 more)" in result.summary()

    (latin,) = index.get_documents(where={"source": str(bad / "latin1.txt")})
    assert latin.page_content == LATIN1_TEXT
    assert [
        (d.id, d.page_content, d.metadata)
        for d in index.get_documents(where={"source": {"$nin": result.added}})
    ] == before
    assert_complete(index)


def test_interrupted_ingest_is_finished_by_the_next_run(tmp_path: Path, store: Path) -> None:
    folder = corpus_folder(tmp_path / "docs", files=5, paragraphs=8)
    dying = CountingEmbeddings(fail_after=5)
    index = DocumentIndex("docs", embeddings=dying, path=store)
    index.batch_size = 2  # several batches per file, so the failure lands inside one
    with pytest.raises(RuntimeError, match="embedder died"):
        ingest([folder], index)
    infos = index.sources()
    partial = [s for s, info in infos.items() if not info.complete]
    done = [s for s, info in infos.items() if info.complete]
    assert len(partial) == 1 and done and dying.calls == 5
    stored_partial = len(index.get_documents(where={"source": partial[0]}))
    assert 0 < stored_partial < infos[partial[0]].chunks
    assert index.count() == sum(infos[s].chunks for s in done) + stored_partial

    embedder = CountingEmbeddings()
    fresh = DocumentIndex("docs", embeddings=embedder, path=store)
    result = ingest([folder], fresh)
    assert sorted(result.unchanged) == sorted(done)  # finished files are not embedded again
    assert partial[0] in result.added and len(result.added) == 5 - len(done)
    assert result.chunks_removed == stored_partial
    assert embedder.texts == result.chunks_added
    assert_complete(fresh)


# --- Walking, patterns, loaders -------------------------------------------------------------------


def test_include_exclude_patterns(index: DocumentIndex, tmp_path: Path) -> None:
    root = tmp_path / "tree"
    for rel in ("a.md", "b.txt", "docs/c.md", "docs/deep/d.md", "build/e.md", "src/f.py"):
        write(root / rel, f"# {rel}\n\ncontent of {rel}\n")
    only_md = ingest([root], index, include=["*.md"], exclude=["build/**"])
    assert sorted(Path(p).relative_to(root).as_posix() for p in only_md.added) == [
        "a.md",
        "docs/c.md",
        "docs/deep/d.md",
    ]
    docs_only = ingest([root], index, include=["docs/**/*.md"], exclude=["deep"])
    assert [Path(p).relative_to(root).as_posix() for p in docs_only.added + docs_only.unchanged] == [
        "docs/c.md"
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.md", "a.md", True),
        ("*.md", "x/y/a.md", True),  # no slash: the name at any depth
        ("docs/*.md", "docs/a.md", True),
        ("docs/*.md", "docs/x/a.md", False),
        ("docs/**/*.md", "docs/a.md", True),
        ("docs/**/*.md", "docs/x/y/a.md", True),
        ("**/tmp", "a/b/tmp", True),
        ("build/**", "build", True),
        ("build/**", "build/x/y.md", True),
        ("build/**", "rebuild/x.md", False),
        ("report[0-2].md", "report1.md", True),
        ("report[!0-2].md", "report1.md", False),
        ("?.txt", "ab.txt", False),
    ],
)
def test_glob_matching(pattern: str, path: str, expected: bool) -> None:
    assert matcher([pattern])(path) is expected


def test_csv_and_code_loaders(tmp_path: Path) -> None:
    assert LOADERS[".csv"].__name__ == "load_csv" and LOADERS[".py"].__name__ == "load_code"
    rows = "name;city;note\n" + "".join(f"person{i};Oslo;likes llamas {i}\n" for i in range(200)) + ";;\n"
    table = write(tmp_path / "people.csv", rows.encode("cp1252") + "Zoë;Tromsø;é\n".encode("cp1252"))
    docs = load_document(table)
    assert len(docs) > 1 and docs[0].metadata["file_type"] == "csv"
    assert docs[0].page_content.startswith("name: person0\ncity: Oslo\nnote: likes llamas 0\n\nname: person1")
    assert docs[0].metadata["row"] == 1 and docs[1].metadata["row"] == docs[0].metadata["last_row"] + 1
    assert docs[-1].metadata["last_row"] == 202 and docs[-1].page_content.endswith(
        "name: Zoë\ncity: Tromsø\nnote: é"
    )

    code = load_document(write(tmp_path / "tool.rs", 'fn main() {\n    println!("hi");\n}\n'))
    assert code[0].metadata | {"source": ""} == {
        "source": "",
        "file_type": "code",
        "language": "rust",
        "encoding": "utf-8",
    }
    with pytest.raises(EmptyDocumentError, match="header but no rows"):
        load_document(write(tmp_path / "only.csv", "a,b\n"))


def test_report_summary_lists_failures_briefly() -> None:
    report = IngestReport(
        added=["/a"],
        unchanged=["/b", "/c"],
        failed=[("/x/one.txt", "empty"), ("/x/two.pdf", "damaged")],
        seconds=1.25,
    )
    assert report.summary() == (
        "1 added, 0 updated, 2 unchanged, 0 removed, 2 failed (one.txt, two.pdf); 0 chunks added, 0 removed in 1.2 s"
    )


def test_paths_may_be_a_single_path_and_files_are_deduplicated(index: DocumentIndex, tmp_path: Path) -> None:
    note = write(tmp_path / "n" / "note.md", "# N\n\nnote\n")
    result = ingest(tmp_path / "n", index)
    assert result.added == [str(note)]
    again = ingest([note, tmp_path / "n", str(note)], index)
    assert again.unchanged == [str(note)]
