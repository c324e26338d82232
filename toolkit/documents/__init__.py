"""Load documents (text, Markdown, PDF, HTML, Word) as LangChain ``Document`` objects.

One loader shared by every feature: the summarize and translate chains, the CLI's stdin,
Streamlit uploads and, later, RAG ingestion. Every failure is a
:class:`~toolkit.errors.DocumentError` whose message names the file and says what to do.
Parsers (pypdf, python-docx, BeautifulSoup, charset-normalizer) are imported only when a
file of their kind is read.

Layout: this module holds the public API and the loader registry; ``_text`` decodes plain
text and spots binary data, ``_pdf`` reads PDFs, ``_markup`` turns HTML and DOCX into
Markdown-like text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeAlias

from langchain_core.documents import Document

from toolkit.documents._markup import _load_docx, _load_html
from toolkit.documents._pdf import _load_pdf
from toolkit.documents._text import _newlines, _one_line, _size, _text_loader
from toolkit.errors import DocumentError, DocumentNotFoundError, EmptyDocumentError, UnsupportedDocumentError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "LOADERS",
    "Loader",
    "as_documents",
    "documents_text",
    "load_bytes",
    "load_document",
    "register_loader",
    "supported_extensions",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
"""Files larger than this (200 MiB) are refused unless ``max_bytes`` is raised."""

Loader: TypeAlias = Callable[[bytes, str], list[Document]]
"""A loader takes the raw bytes and the source name and returns the documents."""

# --- Registry and public API ----------------------------------------------------------------------

LOADERS: dict[str, Loader] = {
    ".txt": _text_loader("text"),
    ".text": _text_loader("text"),
    ".md": _text_loader("markdown"),
    ".markdown": _text_loader("markdown"),
    ".rst": _text_loader("rst"),
    ".pdf": _load_pdf,
    ".html": _load_html,
    ".htm": _load_html,
    ".docx": _load_docx,
}
"""Loaders by lower-case extension (with the dot). Add more with :func:`register_loader`."""


def _normalise_ext(ext: str) -> str:
    ext = ext.strip().lower()
    return ext if ext.startswith(".") else "." + ext


def register_loader(ext: str, loader: Loader) -> None:
    """Register (or replace) the loader for a file extension.

    The loader gets the file's bytes and its source name and returns documents; ``source``
    and ``file_type`` (the extension without the dot) are filled in when it leaves them out.

    Args:
        ext: The extension, with or without the dot (``".csv"`` or ``"csv"``), any case.
        loader: The function that turns bytes into documents.
    """
    LOADERS[_normalise_ext(ext)] = loader


def supported_extensions() -> list[str]:
    """Return the extensions :func:`load_document` reads, sorted (e.g. ``[".docx", ".htm", ...]``)."""
    return sorted(LOADERS)


def _loader_for(ext: str, source: str) -> Loader:
    loader = LOADERS.get(ext or ".txt")  # no extension (README, LICENSE): plain text
    if loader is None:
        raise UnsupportedDocumentError(
            f"{source}: unsupported file type '{ext}' - supported: {', '.join(supported_extensions())} "
            "(convert it to one of these, or pipe its text on stdin)",
            source=source,
        )
    return loader


def _load(data: bytes, source: str, ext: str) -> list[Document]:
    loader = _loader_for(ext, source)
    if not data:
        raise EmptyDocumentError(
            f"{source} is empty (0 bytes) - check the file or input you passed", source=source
        )
    docs = loader(data, source)
    if not any(doc.page_content.strip() for doc in docs):
        raise EmptyDocumentError(
            f"{source} has no text (empty or whitespace only) - check the file or input you passed",
            source=source,
        )
    for doc in docs:
        doc.metadata.setdefault("source", source)
        doc.metadata.setdefault("file_type", (ext or ".txt").lstrip("."))
    return docs


def load_document(path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Load a file as documents: one per PDF page with text, one for any other file.

    Args:
        path: The file to read; the loader is chosen by its extension (see :func:`supported_extensions`).
        max_bytes: Refuse files larger than this many bytes.

    Returns:
        The documents; every one has ``source`` (the absolute path) and ``file_type`` metadata.

    Raises:
        DocumentNotFoundError: The path does not exist (also a ``FileNotFoundError``).
        DocumentError: The path is a folder, too large, unreadable or damaged.
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
    _loader_for(ext, source)  # fail on the extension before reading anything
    try:
        size = file.stat().st_size
        if size <= max_bytes:
            with file.open("rb") as stream:
                data = stream.read(max_bytes + 1)  # bounded: the file may grow, or be a pipe
                size = max(size, len(data))
    except OSError as exc:
        raise DocumentError(
            f"{source} cannot be read ({_one_line(exc)}) - check its permissions", source=source
        ) from exc
    if size > max_bytes:
        raise DocumentError(
            f"{source} is {_size(size)}, over the {_size(max_bytes)} limit - split it, or pass a larger "
            f"max_bytes= to load_document (e.g. max_bytes={size})",
            source=source,
        )
    return _load(data, source, ext)


def load_bytes(data: bytes, *, name: str = "<stdin>", file_type: str | None = None) -> list[Document]:
    """Load documents from bytes (stdin, an upload) with the same loaders as :func:`load_document`.

    Args:
        data: The raw content.
        name: Where it came from; becomes ``source`` metadata and picks the loader by extension.
        file_type: Overrides the extension: ``"pdf"``, ``".docx"``, ``"markdown"``, ``"html"``, ``"text"``...
            Without it or an extension in ``name``, the data is read as plain text.

    Returns:
        The documents; errors are those of :func:`load_document`.
    """
    if file_type is not None:
        ext = _normalise_ext(file_type)
    else:
        ext = Path(name).suffix.lower() if not name.startswith("<") else ""
    return _load(bytes(data), name, ext)


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
            item = Document(page_content=_newlines(item), metadata={"source": "<text>", "file_type": "text"})
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
