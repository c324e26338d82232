"""CSV tables: rows rendered as ``column: value`` lines, grouped into blocks of rows."""

from __future__ import annotations

import csv
import io

from langchain_core.documents import Document

from toolkit.documents.text import read_text
from toolkit.errors import DocumentError, EmptyDocumentError

__all__ = ["CSV_BLOCK_CHARS", "load_csv"]

CSV_BLOCK_CHARS = 2000
"""Rows are grouped into documents of about this many characters (a row is never split)."""


def _render(header: list[str], row: list[str]) -> str:
    lines = []
    for number, value in enumerate(row):
        name = header[number] if number < len(header) and header[number].strip() else f"column {number + 1}"
        if value.strip():
            lines.append(f"{name.strip()}: {value.strip()}")
    return "\n".join(lines)


def _rows(text: str, source: str) -> list[list[str]]:
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return list(csv.reader(io.StringIO(text), dialect))
    except csv.Error as exc:
        raise DocumentError(
            f"{source} is not valid CSV ({exc}) - check its quoting, or rename it to .txt", source=source
        ) from exc


def load_csv(data: bytes, source: str) -> list[Document]:
    """Load a CSV table: rows become ``column: value`` lines, grouped into blocks of rows.

    The first row is the header; every rendered row repeats the column names, so a chunk
    cut from any block can be understood alone. Each document has ``row`` (first data row,
    1-based) and ``last_row`` metadata.

    Raises:
        DocumentError: The text is not valid CSV.
        EmptyDocumentError: There is a header but no row with a value.
    """
    text, encoding = read_text(data, source)
    rows = _rows(text, source)
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
