"""Extra loaders for RAG ingestion: CSV tables and source code.

They join the shared registry of :mod:`toolkit.documents` (so ``load_document`` reads
these files too once :func:`register_rag_loaders` has run) and decode bytes with the same
text loader, so encodings (BOM, UTF-8, legacy code pages) and binary data are handled alike.
"""

from __future__ import annotations

import csv
import io
from pathlib import PurePath

from langchain_core.documents import Document

from toolkit.documents import LOADERS, Loader, load_bytes, register_loader
from toolkit.errors import DocumentError, EmptyDocumentError

__all__ = ["CODE_LANGUAGES", "CSV_BLOCK_CHARS", "load_code", "load_csv", "register_rag_loaders"]

CODE_LANGUAGES: dict[str, str] = {
    ".py": "python",
    ".js": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "typescript",
    ".java": "java",
    ".go": "go",
    ".rs": "rust",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".hpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".sh": "shell",
    ".sql": "sql",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".ini": "ini",
    ".cfg": "ini",
    ".xml": "xml",
    ".css": "css",
    ".scss": "scss",
    ".kt": "kotlin",
    ".swift": "swift",
    ".r": "r",
    ".m": "objective-c",
    ".lua": "lua",
    ".pl": "perl",
}
"""Source-code extensions read as text, with the ``language`` metadata they get."""

CSV_BLOCK_CHARS = 2000
"""Rows are grouped into documents of about this many characters (a row is never split)."""


def _decode(data: bytes, source: str) -> tuple[str, str]:
    doc = load_bytes(data, name=source, file_type="text")[0]
    return doc.page_content, str(doc.metadata.get("encoding", ""))


def load_code(data: bytes, source: str) -> list[Document]:
    """Load a source file as one text document with ``file_type="code"`` and ``language``."""
    text, encoding = _decode(data, source)
    ext = PurePath(source).suffix.lower()
    metadata = {
        "source": source,
        "file_type": "code",
        "language": CODE_LANGUAGES.get(ext, ext.lstrip(".") or "text"),
        "encoding": encoding,
    }
    return [Document(page_content=text, metadata=metadata)]


def _render(header: list[str], row: list[str]) -> str:
    lines = []
    for number, value in enumerate(row):
        name = header[number] if number < len(header) and header[number].strip() else f"column {number + 1}"
        if value.strip():
            lines.append(f"{name.strip()}: {value.strip()}")
    return "\n".join(lines)


def load_csv(data: bytes, source: str) -> list[Document]:
    """Load a CSV table: rows become ``column: value`` lines, grouped into blocks of rows.

    The first row is the header; every rendered row repeats the column names, so a chunk
    cut from any block can be understood alone. Each document has ``row`` (first data row,
    1-based) and ``last_row`` metadata.

    Raises:
        DocumentError: The text is not valid CSV.
        EmptyDocumentError: There is a header but no row with a value.
    """
    text, encoding = _decode(data, source)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise DocumentError(
            f"{source} is not valid CSV ({exc}) - check its quoting, or rename it to .txt", source=source
        ) from exc
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    common = {"source": source, "file_type": "csv", "encoding": encoding}
    docs: list[Document] = []
    block: list[str] = []
    first = last = 0
    for number, row in enumerate(body, 1):
        rendered = _render(header, row)
        if not rendered:
            continue
        if block and sum(len(r) + 2 for r in block) + len(rendered) > CSV_BLOCK_CHARS:
            docs.append(Document("\n\n".join(block), metadata={**common, "row": first, "last_row": last}))
            block = []
        if not block:
            first = number
        block.append(rendered)
        last = number
    if block:
        docs.append(Document("\n\n".join(block), metadata={**common, "row": first, "last_row": last}))
    if not docs:
        raise EmptyDocumentError(f"{source} has a header but no rows - check the file", source=source)
    return docs


_OURS: dict[str, Loader] = {".csv": load_csv, **dict.fromkeys(CODE_LANGUAGES, load_code)}


def register_rag_loaders() -> None:
    """Register the CSV and source-code loaders with :mod:`toolkit.documents` (idempotent).

    An extension that already has a loader of its own (not one of these) keeps it.
    """
    ours = set(_OURS.values())
    for ext, loader in _OURS.items():
        if LOADERS.get(ext, loader) in ours:
            register_loader(ext, loader)
