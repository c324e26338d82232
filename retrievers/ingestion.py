"""Ingest files and folders into a :class:`~retrievers.store.DocumentIndex`, idempotently.

Each file is hashed (sha256 of its bytes). A file whose hash matches a *complete* stored
copy is skipped without parsing or embedding; a changed file's old chunks are deleted, then
the new ones are written in batches. "Complete" means all ``chunks`` chunks of that
(source, content_hash) are present, so a run killed midway leaves every other file intact
and the interrupted file is redone by the next run. A bad file (empty, binary, damaged,
too large, unreadable) is reported in :attr:`IngestReport.failed` and never stops the run.
Errors of the embedder or the store are not about one file: they propagate. After a run,
an embedded store gets the collection's manifest (:mod:`retrievers.manifest`), from which
:func:`~retrievers.manifest.noop_report` answers a run with nothing to do without Chroma.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

from retrievers._files import SKIPPED_DIRS, find_files, is_within
from retrievers.manifest import FileState, observe, save_manifest
from retrievers.report import IngestReport
from retrievers.store import DocumentIndex, SourceInfo
from toolkit import profiling
from toolkit.documents import DEFAULT_MAX_BYTES, format_size, load_bytes
from toolkit.errors import ConfigurationError, DocumentError, EmptyDocumentError
from toolkit.text.splitting import Chunk, span_counter, split_to_budget

__all__ = ["SKIPPED_DIRS", "IngestReport", "chunk_documents", "chunk_id", "ingest", "token_counter"]

_WORD_START = re.compile(r"(?<=\s)\S")


def token_counter(embeddings: Embeddings) -> Callable[[str], int]:
    """The embedder's own ``count_tokens``, else an estimate (4/3 tokens a word, 1 per 4 chars)."""
    count = getattr(embeddings, "count_tokens", None)
    if callable(count):
        return count  # type: ignore[no-any-return]
    return lambda text: max(-(-len(text.split()) * 4 // 3), -(-len(text) // 4))


def chunk_id(source: str, content_hash: str, chunk_index: int) -> str:
    """The deterministic id of a chunk: ``sha1(source)[:16]:content_hash[:12]:chunk_index``."""
    return f"{hashlib.sha1(source.encode()).hexdigest()[:16]}:{content_hash[:12]}:{chunk_index}"


def _flat(metadata: dict[str, Any]) -> dict[str, Any]:
    # Chroma takes only scalars; lists such as a PDF's `empty_pages` are dropped.
    return {k: v for k, v in metadata.items() if isinstance(v, (str, int, float, bool))}


def _tail(
    text: str,
    prev: Chunk,
    nxt: Chunk,
    overlap: int,
    limit: int,
    span: Callable[[int, int], int],
    count: Callable[[str], int],
) -> str:
    """The longest suffix of ``prev`` starting at a word with at most ``overlap`` tokens that
    still lets ``suffix + nxt`` fit ``limit`` tokens ("" if none does); both are slices of
    ``text``, and ``span`` counts the tokens of ``text[a:b]``."""

    def joined(start: int) -> int:
        if prev.end == nxt.start:
            return span(start, nxt.end)
        return count(text[start : prev.end] + nxt.text)  # a blank piece between them was dropped

    starts = [prev.start, *(prev.start + m.start() for m in _WORD_START.finditer(prev.text))]
    lo, hi = 0, len(starts)
    while lo < hi:  # first word start whose suffix fits the overlap (suffixes shrink to the right)
        mid = (lo + hi) // 2
        if span(starts[mid], prev.end) <= overlap:
            hi = mid
        else:
            lo = mid + 1
    for start in starts[lo : lo + 8]:  # seams can add a token: try a few shorter tails
        if text[start : prev.end].strip() and joined(start) <= limit:
            return text[start : prev.end]
    return ""


def chunk_documents(
    docs: Sequence[Document],
    *,
    count_tokens: Callable[[str], int],
    chunk_tokens: int = 200,
    overlap: int = 32,
    token_starts: Callable[[str], list[int]] | None = None,
) -> list[Document]:
    """Split documents into overlapping chunks of at most ``chunk_tokens`` tokens.

    Each document is cut with :func:`~toolkit.text.splitting.split_to_budget` into exact
    slices of at most ``chunk_tokens - overlap`` tokens; each chunk after the first of a
    document starts with the tail of the previous slice (about ``overlap`` tokens, cut at a
    word start). Whitespace-only slices are dropped.

    Args:
        docs: Loaded documents (one per file, or per PDF page / CSV block).
        count_tokens: Token counter of the embedding model.
        chunk_tokens: Most tokens per chunk, overlap included.
        overlap: Tokens repeated from the previous chunk.
        token_starts: Start offsets of the tokens of a text, from the same tokenizer, if it
            qualifies (see :func:`~toolkit.text.splitting.span_counter`): each document is
            then tokenized once instead of once per candidate span. Chunks are the same.

    Returns:
        Chunks with the documents' scalar metadata plus ``section`` (Markdown heading, "" for
        code), ``chunk_index`` and ``chunks`` (numbered per ``source``), ``chunk_hash``,
        ``start`` (offset of the slice in its document) and ``overlap`` (characters prepended).

    Raises:
        ConfigurationError: ``chunk_tokens < 1`` or ``overlap`` not in ``[0, chunk_tokens)``.
    """
    if chunk_tokens < 1 or not 0 <= overlap < chunk_tokens:
        raise ConfigurationError(
            f"need chunk_tokens >= 1 and 0 <= overlap < chunk_tokens, got chunk_tokens={chunk_tokens}, "
            f"overlap={overlap}"
        )
    out = [
        chunk
        for doc in docs
        for chunk in _document_chunks(doc, count_tokens, chunk_tokens, overlap, token_starts)
    ]
    _number(out)
    return out


def _document_chunks(
    doc: Document,
    count_tokens: Callable[[str], int],
    chunk_tokens: int,
    overlap: int,
    token_starts: Callable[[str], list[int]] | None,
) -> list[Document]:
    """One document's chunks, in order, before numbering (see :func:`chunk_documents`)."""
    base = _flat(doc.metadata)
    code = base.get("file_type") == "code"  # `# comment` lines are not headings
    offsets = token_starts(doc.page_content) if token_starts is not None else None
    pieces = split_to_budget(doc.page_content, chunk_tokens - overlap, count_tokens, offsets=offsets)
    pieces = [p for p in pieces if p.text.strip()]
    span = span_counter(doc.page_content, count_tokens, offsets)
    out = []
    for i, piece in enumerate(pieces):
        prev = pieces[i - 1] if i else None
        prefix = ""
        if prev is not None and overlap:
            prefix = _tail(doc.page_content, prev, piece, overlap, chunk_tokens, span, count_tokens)
        text = prefix + piece.text
        meta = {
            **base,
            "section": "" if code else piece.section,
            "start": piece.start,
            "overlap": len(prefix),
            "chunk_hash": hashlib.sha256(text.encode()).hexdigest(),
        }
        out.append(Document(page_content=text, metadata=meta))
    return out


def _number(chunks: Sequence[Document]) -> None:
    """Set ``chunk_index`` and ``chunks`` metadata, counted per ``source``."""
    totals: dict[str, int] = {}
    for chunk in chunks:
        source = str(chunk.metadata.get("source", ""))
        chunk.metadata["chunk_index"] = totals.get(source, 0)
        totals[source] = chunk.metadata["chunk_index"] + 1
    for chunk in chunks:
        chunk.metadata["chunks"] = totals[str(chunk.metadata.get("source", ""))]


# --- Ingesting ------------------------------------------------------------------------------------


def _read(path: str, max_bytes: int) -> tuple[bytes, os.stat_result]:
    too_large = "{} is {}, over the {} limit - split it, or pass a larger max_bytes= to ingest"
    name = Path(path).name
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError(f"{name} is not a regular file", source=path)
        if info.st_size > max_bytes:
            raise DocumentError(
                too_large.format(name, format_size(info.st_size), format_size(max_bytes)), source=path
            )
        with open(path, "rb") as stream:
            data = stream.read(max_bytes + 1)  # bounded: the file may be growing
    except OSError as exc:
        raise DocumentError(
            f"{name} cannot be read ({exc.strerror}) - check its permissions", source=path
        ) from exc
    if len(data) > max_bytes:
        raise DocumentError(
            too_large.format(name, f"over {format_size(max_bytes)}", format_size(max_bytes)), source=path
        )
    return data, info


def _reason(exc: BaseException, path: str) -> str:
    text = str(exc) if isinstance(exc, DocumentError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.replace(path, Path(path).name).split())


def _prepare(
    path: str,
    old: SourceInfo | None,
    report: IngestReport,
    count: Callable[[str], int],
    starts: Callable[[str], list[int]] | None,
    chunk_tokens: int,
    overlap: int,
    max_bytes: int,
    observed: dict[str, FileState],
) -> list[Document] | None:
    """The file's chunks, or None when it is unchanged or failed (recorded in ``report``);
    what was read of the file goes to ``observed`` (for the manifest)."""
    try:
        seen_ns = time.time_ns()
        data, info = _read(path, max_bytes)
        content_hash = hashlib.sha256(data).hexdigest()
        observed[path] = observe(info, content_hash, seen_ns)
        if old is not None and old.complete and old.content_hash == content_hash:
            report.unchanged.append(path)
            return None
        docs = load_bytes(data, name=path)
        for doc in docs:
            doc.metadata.update(source=path, content_hash=content_hash)
        chunks = chunk_documents(
            docs, count_tokens=count, chunk_tokens=chunk_tokens, overlap=overlap, token_starts=starts
        )
        if not chunks:
            raise EmptyDocumentError(f"{path} has no text to index", source=path)
        return chunks
    except Exception as exc:  # a parser may raise anything on a hostile file
        report.failed.append((path, _reason(exc, path)))
        return None


def ingest(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    index: DocumentIndex,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    sync: bool = False,
    chunk_tokens: int = 200,
    overlap: int = 32,
    on_progress: Callable[[str, int, int], None] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> IngestReport:
    """Index files and folders (recursively) into ``index``; safe to re-run and to interrupt.

    Args:
        paths: Files and folders. Hidden entries, ``node_modules`` and ``__pycache__`` inside
            folders are skipped, as are files without a loader; a file named explicitly with
            an unsupported extension is reported as failed.
        index: The index to write to.
        include: Glob patterns (``*``, ``?``, ``[...]``, ``**``) on the path relative to the
            given folder; a pattern without ``/`` matches the file name at any depth. Given
            patterns, only matching files in folders are taken.
        exclude: Patterns of files and folders to leave out.
        sync: Also delete the chunks of files under the given folders that no longer exist
            (a folder that is missing removes nothing).
        chunk_tokens: Most tokens per chunk (see :func:`chunk_documents`).
        overlap: Tokens repeated from the previous chunk.
        on_progress: Called as ``on_progress("ingest", done, total)`` before the first file
            and after each one; ``done`` counts files finished (stored, unchanged or failed).
            ``on_progress("waiting", done, total)`` when a write waits for another process
            writing to the same embedded store (also said in one line on stderr).
        max_bytes: Files larger than this are reported as failed.

    Returns:
        The report: which files were added, updated, unchanged, removed or failed and why.

    Raises:
        ConfigurationError: Invalid ``chunk_tokens`` / ``overlap``.
        StoreLockedError: Another process kept the store locked for ``store_lock_timeout``
            seconds; what was written before stays, the next run finishes the rest.
        Exception: Whatever the embedder or the store raises (not about one file): stored
            data stays consistent and the next run finishes the interrupted file.
    """
    if chunk_tokens < 1 or not 0 <= overlap < chunk_tokens:
        chunk_documents([], count_tokens=len, chunk_tokens=chunk_tokens, overlap=overlap)  # raises
    started = time.perf_counter()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    report = IngestReport()
    files, roots = find_files(paths, include, exclude, report.failed)
    count = token_counter(index.embeddings)
    starts = getattr(index.embeddings, "token_starts", None)  # MiniLM's: its tokenizer qualifies
    stored = index.sources()
    writer = _Writer(index, report, len(files), on_progress)
    writer.progress()
    observed: dict[str, FileState] = {}
    for path in files:
        old = stored.get(path)
        with profiling.phase("read", files=1):  # read, hash, parse and chunk
            chunks = _prepare(path, old, report, count, starts, chunk_tokens, overlap, max_bytes, observed)
        if chunks is None:
            writer.done += 1
        else:
            writer.store(path, old, chunks)
        writer.progress()
    if writer.pending:
        writer.flush()
        writer.progress()
    if sync:
        _remove_missing(index, report, stored, roots)
    with profiling.phase("store"):
        save_manifest(index, observed)  # lets the next no-op run skip Chroma (retrievers.manifest)
    report.seconds = time.perf_counter() - started
    return report


class _Writer:
    """Writes the chunks of files in batches (several small files share one) and reports progress."""

    def __init__(
        self,
        index: DocumentIndex,
        report: IngestReport,
        total: int,
        on_progress: Callable[[str, int, int], None] | None,
    ) -> None:
        self.index = index
        self.report = report
        self.total = total
        self.on_progress = on_progress
        self.pending: list[Document] = []
        self.queued = 0  # files in `pending`
        self.done = 0  # files finished: stored, unchanged or failed

    def progress(self) -> None:
        if self.on_progress:
            self.on_progress("ingest", self.done, self.total)

    def waiting(self, message: str) -> None:
        """Another process holds the store's write lock: say so once, on stderr and as progress."""
        print(message, file=sys.stderr, flush=True)
        if self.on_progress:
            self.on_progress("waiting", self.done, self.total)

    def store(self, path: str, old: SourceInfo | None, chunks: list[Document]) -> None:
        # Kill-safe order: the file's old chunks go before any of its new ones is written.
        if old is not None:
            self.report.chunks_removed += self.index.delete_source(path, on_wait=self.waiting)
        changed = old is not None and old.content_hash != chunks[0].metadata["content_hash"]
        (self.report.updated if changed else self.report.added).append(path)
        self.pending.extend(chunks)
        self.queued += 1
        if len(self.pending) >= self.index.batch_size:
            self.flush()

    def flush(self) -> None:
        ids = [
            chunk_id(c.metadata["source"], c.metadata["content_hash"], c.metadata["chunk_index"])
            for c in self.pending
        ]
        self.index.add(self.pending, ids, on_wait=self.waiting)
        self.report.chunks_added += len(self.pending)
        self.pending.clear()
        self.done, self.queued = self.done + self.queued, 0


def _remove_missing(
    index: DocumentIndex, report: IngestReport, stored: dict[str, SourceInfo], roots: Sequence[str]
) -> None:
    """Delete the sources under ``roots`` whose file no longer exists."""
    for source in sorted(stored):
        if any(is_within(source, root) for root in roots) and not os.path.lexists(source):
            report.chunks_removed += index.delete_source(source)
            report.removed.append(source)
