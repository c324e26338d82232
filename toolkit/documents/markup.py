"""HTML and Word (.docx) as Markdown-like text: headings, lists, code blocks and pipe tables.

BeautifulSoup and python-docx are imported on first use.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Sequence
from typing import Any, TypeAlias

from langchain_core.documents import Document

from toolkit.documents.base import binary_error, looks_binary, normalize_newlines, one_line
from toolkit.errors import DocumentError, EncryptedDocumentError

__all__ = ["load_docx", "load_html"]

# --- Markdown-like blocks shared by HTML and DOCX: (text, is_list_item) -------------------------

_Block: TypeAlias = tuple[str, bool]


def _join_blocks(blocks: Sequence[_Block]) -> str:
    parts: list[str] = []
    previous_item = False
    for text, item in blocks:
        if parts:
            parts.append("\n" if item and previous_item else "\n\n")
        parts.append(text)
        previous_item = item
    return "".join(parts)


def _pipe_table(rows: Sequence[Sequence[str]]) -> str:
    width = max(len(row) for row in rows)
    cells = [
        [" ".join(c.split()).replace("|", "\\|") for c in row] + [""] * (width - len(row)) for row in rows
    ]
    lines = ["| " + " | ".join(cells[0]) + " |", "|" + "|".join(["---"] * width) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells[1:]]
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------------------------

_DROP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "title", "meta", "link", "svg"})
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "header", "footer", "nav", "aside"}) | {
    *("ul", "ol", "dl", "dt", "dd", "blockquote", "form", "figure", "figcaption", "hr", "body", "html")
}
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BR = "\ue000"  # private-use placeholder for <br>, survives whitespace collapsing


class _HtmlMarkdown:
    """Walks a BeautifulSoup tree and collects Markdown-like blocks."""

    def __init__(self) -> None:
        self.blocks: list[_Block] = []
        self._inline: list[str] = []

    def flush(self) -> None:
        text = " ".join("".join(self._inline).split())
        text = "\n".join(line.strip() for line in text.split(_BR)).strip()
        if text:
            self.blocks.append((text, False))
        self._inline = []

    def inner(self, tag: Any, separator: str) -> str:
        sub = _HtmlMarkdown()
        sub.walk(tag)
        sub.flush()
        return separator.join(text for text, _ in sub.blocks)

    def walk(self, node: Any) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, processing instructions
                continue
            if isinstance(child, NavigableString):
                self._inline.append(str(child))
            elif isinstance(child, Tag):
                self.tag(child)

    def tag(self, tag: Any) -> None:
        name = tag.name
        if name in _DROP_TAGS:
            return
        if name == "br":
            self._inline.append(_BR)
        elif name == "code":
            self._inline.append(f"`{tag.get_text()}`")
        elif name in _HEADINGS or name in ("li", "pre", "table"):
            self.flush()
            self.block(tag)
        elif name in _BLOCK_TAGS:
            self.flush()
            self.walk(tag)
            self.flush()
        else:  # inline: a, span, b, em, ...
            self.walk(tag)

    def block(self, tag: Any) -> None:
        name = tag.name
        if name in _HEADINGS:
            text = " ".join(self.inner(tag, " ").split())
            if text:
                self.blocks.append(("#" * _HEADINGS[name] + " " + text, False))
        elif name == "li":
            lines = self.inner(tag, "\n").split("\n")
            if any(lines):
                self.blocks.append(("- " + "\n".join([lines[0], *("  " + line for line in lines[1:])]), True))
        elif name == "pre":
            code = tag.get_text().strip("\n")
            classes = [*tag.get("class", []), *(tag.code.get("class", []) if tag.code else [])]
            language = next((c.removeprefix("language-") for c in classes if c.startswith("language-")), "")
            if code.strip():
                self.blocks.append((f"```{language}\n{code}\n```", False))
        else:  # table
            rows = [
                [cell.get_text(" ", strip=True) for cell in tr.find_all(["td", "th"], recursive=False)]
                for tr in tag.find_all("tr")
                if tr.find_parent("table") is tag
            ]
            rows = [row for row in rows if row]
            if rows:
                self.blocks.append((_pipe_table(rows), False))


def load_html(data: bytes, source: str) -> list[Document]:
    """Load HTML as one Markdown-like document with ``title`` and ``encoding`` metadata."""
    from bs4 import BeautifulSoup

    # Bytes, not str: BeautifulSoup honours a BOM and <meta charset> before guessing.
    soup = BeautifulSoup(data, "html.parser")
    converter = _HtmlMarkdown()
    converter.walk(soup.body or soup)
    converter.flush()
    text = _join_blocks(converter.blocks)
    if looks_binary(text):
        raise binary_error(source)
    metadata: dict[str, Any] = {"source": source, "file_type": "html"}
    if soup.original_encoding:
        metadata["encoding"] = codecs.lookup(soup.original_encoding).name
    if soup.title and soup.title.get_text(strip=True):
        metadata["title"] = " ".join(soup.title.get_text().split())
    return [Document(page_content=normalize_newlines(text), metadata=metadata)]


# --- DOCX -----------------------------------------------------------------------------------------

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # compound file: what Word writes for an encrypted .docx


def load_docx(data: bytes, source: str) -> list[Document]:
    """Load a Word .docx as one Markdown-like document (headings, lists, pipe tables).

    Raises:
        EncryptedDocumentError: The file is password-protected (or an old binary .doc).
        DocumentError: The file is damaged or not a .docx.
    """
    if data.startswith(_OLE_MAGIC):
        raise EncryptedDocumentError(
            f"{source} is password-protected (or an old binary .doc renamed .docx) - remove the password "
            "in Word (File > Info > Protect Document) or save it again as .docx",
            source=source,
        )
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[_Block] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                rows = [[cell.text for cell in row.cells] for row in item.rows]
                if any(any(cell.strip() for cell in row) for row in rows):
                    blocks.append((_pipe_table(rows), False))
                continue
            text = normalize_newlines(item.text).strip()
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            heading = re.fullmatch(r"Heading ([1-6])", style)
            if heading or style == "Title":
                blocks.append(
                    ("#" * (int(heading.group(1)) if heading else 1) + " " + " ".join(text.split()), False)
                )
            elif style.startswith("List") or item._p.xpath("./w:pPr/w:numPr"):
                blocks.append(("- " + text.replace("\n", "\n  "), True))
            else:
                blocks.append((text, False))
        title = document.core_properties.title
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors...
        raise DocumentError(
            f"{source} is damaged or not really a Word .docx file - re-save it from Word ({one_line(exc)})",
            source=source,
        ) from exc
    metadata: dict[str, Any] = {"source": source, "file_type": "docx"}
    if title and title.strip():
        metadata["title"] = title.strip()
    return [Document(page_content=_join_blocks(blocks), metadata=metadata)]
