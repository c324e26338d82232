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
from toolkit.documents.limits import (
    Deadline,
    check_ratios,
    check_zip,
    current_limits,
    read_entry,
    too_complex,
)
from toolkit.errors import DocumentError, DocumentTooComplexError, EncryptedDocumentError

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

    def __init__(self, depth: int = 0) -> None:
        self.blocks: list[_Block] = []
        self._inline: list[str] = []
        self.depth = depth  # elements open above the node being walked; bounded by the pre-scan

    def flush(self) -> None:
        text = " ".join("".join(self._inline).split())
        text = "\n".join(line.strip() for line in text.split(_BR)).strip()
        if text:
            self.blocks.append((text, False))
        self._inline = []

    def inner(self, tag: Any, separator: str) -> str:
        sub = _HtmlMarkdown(self.depth)
        sub.walk(tag)
        sub.flush()
        return separator.join(text for text, _ in sub.blocks)

    def walk(self, node: Any) -> None:
        from bs4.element import NavigableString, PreformattedString, Tag

        self.depth += 1
        for child in node.children:
            if isinstance(child, PreformattedString):  # comments, doctype, processing instructions
                continue
            if isinstance(child, NavigableString):
                self._inline.append(str(child))
            elif isinstance(child, Tag):
                self.tag(child)
        self.depth -= 1

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


# Tags as html.parser sees them (in lower-cased bytes). Comments, scripts and styles are skipped
# whole; "[^<>]" keeps every match local, so the scan stays linear whatever the input.
_TAG = re.compile(rb"<!--|<(script|style)\b[^<>]*>|<(/?)([a-z][^\s/<>]*)[^<>]*?(/?)>|<[a-z/]")
_VOID = frozenset(b"area base br col embed hr img input link meta param source track wbr".split())
# A tag whose quoted attribute values hold '<' or '>', matched only within a bounded window.
_QUOTED_TAG = re.compile(rb"<(/?)([a-z][^\s/<>]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>")
_QUOTED_WINDOW = 4096


def _push(stack: list[bytes], tag: Sequence[Any], source: str, limit: int) -> None:
    closing, name, empty = tag
    if closing:  # an end tag closes up to the nearest open tag of its name, if any
        if name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name) :]
    elif not empty and name not in _VOID:
        stack.append(name)
        if len(stack) > limit:
            raise too_complex(source, f"nests HTML elements more than {limit} deep (the limit)", "max_depth")


def _html_depth(data: bytes, source: str, limit: int) -> list[int]:
    """Refuse HTML nested deeper than ``limit`` before parsing it (html.parser nests unclosed tags).

    Returns:
        Where a tag starts that never closes ('<' with no '>' before the next '<'): html.parser
        rescans the rest of the input from each of them, quadratic time on hostile input.
    """
    data = data.lower()
    stack: list[bytes] = []
    broken: list[int] = []
    pos = 0
    while match := _TAG.search(data, pos):
        pos = match.end()
        if match.group(0) == b"<!--" or match.group(1):  # a comment or a script: skip to its end
            end = b"-->" if match.group(1) is None else b"</" + match.group(1)
            found = data.find(end, pos)
            pos = len(data) if found < 0 else found + len(end)
        elif match.group(3) is not None:
            _push(stack, match.group(2, 3, 4), source, limit)
        elif quoted := _QUOTED_TAG.match(data, match.start(), match.start() + _QUOTED_WINDOW):
            pos = quoted.end()
            _push(stack, quoted.group(1, 2, 3), source, limit)
        else:
            broken.append(match.start())
    return broken


def _escape_at(data: bytes, positions: list[int]) -> bytes:
    """``data`` with the '<' at each position written as '&lt;' (text, as html.parser ends up reading it)."""
    parts, last = [], 0
    for at in positions:
        parts += [data[last:at], b"&lt;"]
        last = at + 1
    return b"".join([*parts, data[last:]])


def load_html(data: bytes, source: str) -> list[Document]:
    """Load HTML as one Markdown-like document with ``title`` and ``encoding`` metadata.

    Raises:
        DocumentTooComplexError: Elements nested deeper than the ``max_depth`` limit.
    """
    from bs4 import BeautifulSoup

    limit = current_limits().max_depth
    broken = _html_depth(data, source, limit)
    if broken:
        data = _escape_at(data, broken)
    # Bytes, not str: BeautifulSoup honours a BOM and <meta charset> before guessing.
    soup = BeautifulSoup(data, "html.parser")
    converter = _HtmlMarkdown()
    try:
        converter.walk(soup.body or soup)
    except RecursionError as exc:  # the pre-scan's count and html.parser's tree may differ
        raise too_complex(
            source, f"nests HTML elements too deep to read (limit {limit})", "max_depth"
        ) from exc
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


_PARAGRAPH_TAGS = (b"<w:p>", b"<w:p ", b"<w:p/>", b"<w:p\n", b"<w:p\t", b"<w:p\r")


def _paragraphs(xml: bytes) -> int:
    return sum(xml.count(tag) for tag in _PARAGRAPH_TAGS)


def _check_docx(data: bytes, source: str) -> None:
    """Refuse a .docx past the limits from its zip directory and paragraph tags, before parsing."""
    import zipfile

    limits = current_limits()
    try:
        archive = check_zip(data, source, limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        if isinstance(exc, DocumentTooComplexError):
            raise
        raise DocumentError(
            f"{source} is damaged or not really a Word .docx file - re-save it from Word ({one_line(exc)})",
            source=source,
        ) from exc
    with archive:
        paragraphs = 0
        for name in archive.namelist():
            if name.startswith("word/") and name.endswith(".xml"):
                try:
                    paragraphs += _paragraphs(read_entry(archive, name, source, limits))
                except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError):
                    continue  # python-docx reports the damage, if the part matters
                if paragraphs > limits.max_paragraphs:
                    raise too_complex(
                        source,
                        f"has {paragraphs} paragraphs, more than the limit of {limits.max_paragraphs}",
                        "max_paragraphs",
                    )
        check_ratios(archive, source, limits)


def _docx_blocks(document: Any, source: str) -> list[_Block]:
    from docx.table import Table

    deadline = Deadline(source)
    styles: dict[str | None, str] = {}  # style id -> name: python-docx looks the default up slowly
    blocks: list[_Block] = []
    for number, item in enumerate(document.iter_inner_content(), 1):
        if number % 500 == 0:
            deadline.check(f"at paragraph {number}")
        if isinstance(item, Table):
            rows = [[cell.text for cell in row.cells] for row in item.rows]
            if any(any(cell.strip() for cell in row) for row in rows):
                blocks.append((_pipe_table(rows), False))
            continue
        text = normalize_newlines(item.text).strip()
        if not text:
            continue
        style_id = item._p.style
        if style_id not in styles:
            styles[style_id] = (item.style.name if item.style is not None else "") or ""
        style = styles[style_id]
        heading = re.fullmatch(r"Heading ([1-6])", style)
        if heading or style == "Title":
            blocks.append(
                ("#" * (int(heading.group(1)) if heading else 1) + " " + " ".join(text.split()), False)
            )
        elif style.startswith("List") or item._p.xpath("./w:pPr/w:numPr"):
            blocks.append(("- " + text.replace("\n", "\n  "), True))
        else:
            blocks.append((text, False))
    return blocks


def load_docx(data: bytes, source: str) -> list[Document]:
    """Load a Word .docx as one Markdown-like document (headings, lists, pipe tables).

    Raises:
        EncryptedDocumentError: The file is password-protected (or an old binary .doc).
        DocumentTooComplexError: Past a limit: entries, unpacked size, paragraphs, time.
        DocumentError: The file is damaged or not a .docx.
    """
    if data.startswith(_OLE_MAGIC):
        raise EncryptedDocumentError(
            f"{source} is password-protected (or an old binary .doc renamed .docx) - remove the password "
            "in Word (File > Info > Protect Document) or save it again as .docx",
            source=source,
        )
    _check_docx(data, source)
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = _docx_blocks(document, source)
        title = document.core_properties.title
    except DocumentTooComplexError:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, lxml errors...
        raise DocumentError(
            f"{source} is damaged or not really a Word .docx file - re-save it from Word ({one_line(exc)})",
            source=source,
        ) from exc
    metadata: dict[str, Any] = {"source": source, "file_type": "docx"}
    if title and title.strip():
        metadata["title"] = title.strip()
    return [Document(page_content=_join_blocks(blocks), metadata=metadata)]
