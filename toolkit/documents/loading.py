"""Load files, bytes or text as LangChain documents, with the registered loaders."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from langchain_core.documents import Document

from toolkit.documents.base import (
    DEFAULT_MAX_BYTES,
    format_size,
    no_text_error,
    normalize_newlines,
    one_line,
    special_file_kind,
)
from toolkit.documents.limits import DocumentLimits, too_complex, using_limits
from toolkit.documents.registry import loader_for, normalize_ext
from toolkit.errors import DocumentError, DocumentNotFoundError, EmptyDocumentError, ToolkitError

__all__ = ["as_documents", "documents_text", "load_bytes", "load_document"]


def _run(data: bytes, source: str, ext: str, limits: DocumentLimits | None) -> list[Document]:
    """The loader's documents; any error that is not the toolkit's becomes a DocumentError."""
    loader = loader_for(ext, source)
    try:
        with using_limits(limits):
            return list(loader(data, source))
    except ToolkitError:
        raise
    except RecursionError as exc:
        raise too_complex(source, "is nested too deeply to read", "max_depth") from exc
    except MemoryError as exc:
        raise too_complex(
            source, "needs more memory to read than there is", "max_decompressed_bytes"
        ) from exc
    except Exception as exc:  # a parser's own error type: the file is damaged, or the parser failed
        kind = (ext or ".txt").lstrip(".")
        raise DocumentError(
            f"{source} could not be read as {kind} ({one_line(exc)}) - check that the file is not damaged, "
            "or convert it to another format",
            source=source,
        ) from exc


def _load(data: bytes, source: str, ext: str, limits: DocumentLimits | None = None) -> list[Document]:
    loader_for(ext, source)
    if not data:
        raise no_text_error(source, data)
    docs = _run(data, source, ext, limits)
    if not any(doc.page_content.strip() for doc in docs):
        raise no_text_error(source, data)
    for doc in docs:
        doc.metadata.setdefault("source", source)
        doc.metadata.setdefault("file_type", (ext or ".txt").lstrip("."))
    return docs


def _special(source: str, mode: int) -> DocumentError:
    return DocumentError(
        f"{source} is {special_file_kind(mode)}, not a regular file - only regular files are read",
        source=source,
    )


def _read(file: Path, source: str, max_bytes: int) -> bytes:
    try:
        info = os.stat(file)
        if not stat.S_ISREG(info.st_mode):  # a FIFO blocks, a device never ends: never open them
            raise _special(source, info.st_mode)
        size, data = info.st_size, b""
        if size <= max_bytes:
            flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
            with os.fdopen(os.open(file, flags), "rb") as stream:
                opened = os.fstat(stream.fileno())  # swapped for a FIFO since the stat?
                if not stat.S_ISREG(opened.st_mode):
                    raise _special(source, opened.st_mode)
                data = stream.read(max_bytes + 1)  # bounded: the file may grow
                size = max(size, len(data))
    except OSError as exc:
        raise DocumentError(
            f"{source} cannot be read ({one_line(exc)}) - check its permissions", source=source
        ) from exc
    if size > max_bytes:
        raise DocumentError(
            f"{source} is {format_size(size)}, over the {format_size(max_bytes)} limit - split it, or pass "
            f"a larger max_bytes= to load_document (e.g. max_bytes={size})",
            source=source,
        )
    return data


def load_document(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES, limits: DocumentLimits | None = None
) -> list[Document]:
    """Load a file as documents: one per PDF page with text or CSV block of rows, one otherwise.

    Args:
        path: The file to read; the loader is chosen by its extension (see
            :func:`~toolkit.documents.registry.supported_extensions`).
        max_bytes: Refuse files larger than this many bytes.
        limits: The limits on the work of parsing it (default:
            :data:`~toolkit.documents.limits.DEFAULT_LIMITS`).

    Returns:
        The documents; every one has ``source`` (the absolute path) and ``file_type`` metadata.

    Raises:
        DocumentNotFoundError: The path does not exist (also a ``FileNotFoundError``).
        DocumentError: The path is a folder, a FIFO, device or socket, too large, unreadable or
            damaged; any parser failure is reported as one (no other exception escapes).
        DocumentTooComplexError: Past one of ``limits`` (pages, paragraphs, depth, time...).
        EmptyDocumentError: The file has no text (empty, whitespace only, or a scanned PDF).
        UnsupportedDocumentError: Unknown extension, or binary data in a text file.
        EncryptedDocumentError: A password-protected PDF or DOCX.
    """
    file = Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
    source = str(file)
    if not file.exists():
        raise DocumentNotFoundError(f"{source} not found - check the path and its spelling", source=source)
    if file.is_dir():
        raise DocumentError(
            f"{source} is a folder - pass the files inside it, or use `llama-toolkit ingest` for folders",
            source=source,
        )
    ext = file.suffix.lower()
    loader_for(ext, source)  # fail on the extension before reading anything
    return _load(_read(file, source, max_bytes), source, ext, limits)


def load_bytes(
    data: bytes, *, name: str = "<stdin>", file_type: str | None = None, limits: DocumentLimits | None = None
) -> list[Document]:
    """Load documents from bytes (stdin, an upload) with the same loaders as :func:`load_document`.

    Args:
        data: The raw content.
        name: Where it came from; becomes ``source`` metadata and picks the loader by extension.
        file_type: Overrides the extension: ``"pdf"``, ``".docx"``, ``"markdown"``, ``"html"``, ``"text"``...
            Without it or an extension in ``name``, the data is read as plain text.
        limits: The limits on the work of parsing it (default: the current ones).

    Returns:
        The documents; errors are those of :func:`load_document`.
    """
    if file_type is not None:
        ext = normalize_ext(file_type)
    else:
        ext = Path(name).suffix.lower() if not name.startswith("<") else ""
    return _load(bytes(data), name, ext, limits)


def as_documents(value: str | Document | Sequence[Document | str]) -> list[Document]:
    """Normalise chain input to a list of documents.

    A ``str`` is always the text itself, never a path (use :func:`load_document` for files).
    Documents pass through unchanged; in a sequence, empty items are skipped.

    Args:
        value: Text, a document, or a sequence of both.

    Returns:
        The documents, in order; strings get ``source`` metadata ``"<text>"``.

    Raises:
        EmptyDocumentError: There is no text at all.
        TypeError: An item is neither ``str`` nor ``Document``.
    """
    items: Sequence[Document | str] = [value] if isinstance(value, (str, Document)) else value
    docs: list[Document] = []
    for item in items:
        if isinstance(item, str):
            item = Document(
                page_content=normalize_newlines(item), metadata={"source": "<text>", "file_type": "text"}
            )
        elif not isinstance(item, Document):
            hint = " - decode it, or use load_bytes()" if isinstance(item, (bytes, bytearray)) else ""
            raise TypeError(f"expected str or Document, got {type(item).__name__}{hint}")
        if item.page_content.strip():
            docs.append(item)
    if not docs:
        raise EmptyDocumentError(
            "the input text is empty - pass some text or a file with text in it", source="<text>"
        )
    return docs


def documents_text(docs: Sequence[Document]) -> str:
    """Join the documents' texts in order, separated by blank lines (empty ones are skipped)."""
    return "\n\n".join(text for doc in docs if (text := doc.page_content.strip("\n")).strip())
