"""Ingestion against the real world: a SIGKILLed ingest process, a real ``chroma run`` server,
an unreachable host, and the real MiniLM embedder when ``retrievers.embeddings`` provides it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from corpus import report as corpus_report
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings

from retrievers.ingestion import ingest
from retrievers.store import DocumentIndex, open_index
from toolkit.errors import ChromaUnreachableError, EmbeddingMismatchError

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHROMA = Path(sys.executable).with_name("chroma")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def corpus_folder(root: Path, files: int, paragraphs: int = 6) -> Path:
    root.mkdir(parents=True)
    for i in range(files):
        (root / f"report{i:03d}.md").write_text(corpus_report(paragraphs + i % 5, seed=i), encoding="utf-8")
    return root


def assert_complete(index: DocumentIndex, files: int) -> None:
    infos = index.sources()
    assert len(infos) == files
    incomplete = [s for s, info in infos.items() if not info.complete]
    assert not incomplete
    assert index.count() == sum(info.chunks for info in infos.values())  # nothing duplicated or stale
    assert len({d.id for d in index.get_documents()}) == index.count()


def count_embedded(monkeypatch: pytest.MonkeyPatch, cls: type[Embeddings]) -> list[int]:
    """Record the batch sizes ``cls.embed_documents`` is called with (the model id is untouched)."""
    batches: list[int] = []
    original = cls.embed_documents

    def counting(self: Embeddings, texts: list[str]) -> list[list[float]]:
        batches.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(cls, "embed_documents", counting)
    return batches


# --- A real kill ----------------------------------------------------------------------------------

KILLED_INGEST = textwrap.dedent(
    """
    import sys, time
    from langchain_core.embeddings import DeterministicFakeEmbedding
    from retrievers.ingestion import ingest
    from retrievers.store import DocumentIndex

    slow = False
    embed = DeterministicFakeEmbedding.embed_documents
    def announced(self, texts):
        print("batch", flush=True)
        if slow:  # give the parent time to kill us before this batch is written
            time.sleep(0.5)
        return embed(self, texts)
    DeterministicFakeEmbedding.embed_documents = announced

    def progress(stage, done, total):
        global slow
        slow = done >= 40
        print("files", done, flush=True)

    index = DocumentIndex("docs", embeddings=DeterministicFakeEmbedding(size=32), path=sys.argv[2])
    index.batch_size = 2
    ingest([sys.argv[1]], index, on_progress=progress)
    print("finished", flush=True)
    """
)


def test_sigkilled_ingest_is_finished_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = corpus_folder(tmp_path / "docs", files=200)
    store = tmp_path / "chroma"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_INGEST, str(folder), str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        files = batches_since = 0
        assert proc.stdout is not None
        # Kill during the second embedding batch after 40 files are stored: the first batch of
        # the next file is then written and the rest of it is not.
        while not (files >= 40 and batches_since == 2):
            line = proc.stdout.readline().split()
            assert line, f"the ingest process ended early: {proc.stderr.read() if proc.stderr else ''}"
            assert line != ["finished"], "the ingest finished before it could be killed"
            if line[0] == "files":
                files, batches_since = int(line[1]), 0
            else:
                batches_since += 1
            assert time.monotonic() < deadline, "the ingest process is too slow"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    batches = count_embedded(monkeypatch, DeterministicFakeEmbedding)
    index = DocumentIndex("docs", embeddings=DeterministicFakeEmbedding(size=32), path=store)
    before = index.sources()
    complete = sorted(s for s, info in before.items() if info.complete)
    partial = [s for s, info in before.items() if not info.complete]
    assert len(complete) >= 40 and len(partial) == 1  # the kill landed inside a file
    assert 0 < len(index.get_documents(where={"source": partial[0]})) < before[partial[0]].chunks

    result = ingest([folder], index)
    assert not result.failed and not result.updated
    assert sorted(result.unchanged) == complete and len(result.added) == 200 - len(complete)
    assert partial[0] in result.added
    assert sum(batches) == result.chunks_added  # the finished files were not embedded again
    assert_complete(index, 200)
    assert ingest([folder], index).unchanged == sorted(result.unchanged + result.added)


# --- A real Chroma server -------------------------------------------------------------------------


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    assert CHROMA.exists(), f"{CHROMA} is missing - install chromadb in the venv"
    port = free_port()
    log = (tmp_path / "chroma.log").open("wb")
    proc = subprocess.Popen(
        [
            str(CHROMA),
            "run",
            "--path",
            str(tmp_path / "server-data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "chroma.log").read_text(errors="replace")
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "chroma run did not answer its heartbeat within 60 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_ingest_through_a_chroma_server(
    chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = corpus_folder(tmp_path / "docs", files=8)
    batches = count_embedded(monkeypatch, DeterministicFakeEmbedding)
    embedder = DeterministicFakeEmbedding(size=32)
    index = DocumentIndex("docs", embeddings=embedder, host=chroma_server)
    assert index.stats()["location"] == chroma_server and index.stats()["space"] == "cosine"

    first = ingest([folder], index)
    assert len(first.added) == 8 and not first.failed and sum(batches) == first.chunks_added
    assert_complete(index, 8)

    batches.clear()
    version = index.version()
    again = ingest([folder], DocumentIndex("docs", embeddings=embedder, host=chroma_server))
    assert len(again.unchanged) == 8 and again.chunks_added == 0 and not batches
    assert index.version() == version

    target = str(folder / "report003.md")
    chunks = index.sources()[target].chunks
    assert index.delete_source(target) == chunks
    assert target not in index.sources() and index.version() != version
    hits = index.vectorstore.similarity_search(index.get_documents()[0].page_content, k=1)
    assert hits and hits[0].page_content == index.get_documents()[0].page_content

    with pytest.raises(EmbeddingMismatchError, match=r"32 dimensions.*16 dimensions"):
        DocumentIndex("docs", embeddings=DeterministicFakeEmbedding(size=16), host=chroma_server)
    # open_index() goes to the server when chroma_host is set.
    assert (
        open_index(embeddings=embedder, chroma_host=chroma_server, collection="docs").count() == index.count()
    )


def test_unreachable_chroma_host_says_how_to_start_it(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    host = f"http://127.0.0.1:{port}"
    with pytest.raises(
        ChromaUnreachableError, match=rf"not reachable at {host} - start it with `chroma run --path"
    ):
        DocumentIndex("docs", embeddings=DeterministicFakeEmbedding(size=32), host=host)
    with pytest.raises(ChromaUnreachableError, match=rf"--port {port}`"):
        open_index(embeddings=DeterministicFakeEmbedding(size=32), chroma_host=host)


# --- The real embedder ----------------------------------------------------------------------------


def real_embedder() -> tuple[Embeddings, bool]:
    """MiniLM when retrievers.embeddings provides a working one, else the fake (with a warning)."""
    try:
        from retrievers.embeddings import MiniLMEmbeddings

        model = MiniLMEmbeddings()
        model.embed_query("probe")
        return model, True
    except Exception as exc:  # not written yet, or broken: say so in the test summary
        warnings.warn(
            f"MiniLMEmbeddings unavailable ({exc!r}); ran with DeterministicFakeEmbedding", stacklevel=2
        )
        return DeterministicFakeEmbedding(size=32), False


def test_ingest_and_search_with_the_real_embedder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embeddings, real = real_embedder()
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "llamas.md").write_text(
        "# Llamas\n\nLlamas are South American camelids kept for wool and as pack animals in the Andes.\n"
    )
    (folder / "rust.rs").write_text(
        "// Compute the factorial of a number recursively.\nfn fact(n: u64) -> u64 {\n"
    )
    (folder / "budget.csv").write_text("item,cost\nrent,1200\ngroceries,450\nbus pass,60\n")
    corpus_folder(folder / "reports", files=3, paragraphs=30)
    batches = count_embedded(monkeypatch, type(embeddings))
    index = DocumentIndex("real", embeddings=embeddings, path=tmp_path / "chroma")

    first = ingest([folder], index, chunk_tokens=128, overlap=16)
    assert len(first.added) == 6 and not first.failed and sum(batches) == first.chunks_added
    assert_complete(index, 6)
    assert len(index.get_documents(where={"source": str(folder / "reports" / "report000.md")})) > 3
    count = getattr(embeddings, "count_tokens", None)
    if count is not None:  # the model's own tokenizer bounds every chunk, overlap included
        assert max(count(d.page_content) for d in index.get_documents()) <= 128

    batches.clear()
    assert len(ingest([folder], index, chunk_tokens=128, overlap=16).unchanged) == 6 and not batches
    code = index.get_documents(where={"file_type": "code"})[0]
    assert code.metadata["language"] == "rust" and code.metadata["section"] == ""
    top = index.vectorstore.similarity_search("Which animal carries loads in the mountains?", k=1)[0]
    if real:  # only a real model understands the question
        assert top.metadata["source"] == str(folder / "llamas.md")
