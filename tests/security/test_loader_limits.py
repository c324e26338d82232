"""Loader bombs built in the test: each is refused quickly, in one line, naming the file and the limit."""

from __future__ import annotations

import io
import sys
import time
import tracemalloc
import zipfile

import pytest

from toolkit.documents import DocumentLimits, load_bytes, register_loader
from toolkit.documents.registry import LOADERS
from toolkit.errors import DocumentError, DocumentTooComplexError


def docx_with(body: bytes, extra: dict[str, bytes] | None = None) -> bytes:
    """A real python-docx file whose body is ``body`` (raw WordprocessingML), plus ``extra`` entries."""
    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(blank.getvalue())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                start = data.index(b"<w:body>") + len(b"<w:body>")
                data = data[:start] + body + data[start:]
            z.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return out.getvalue()


def refused(data: bytes, name: str, limits: DocumentLimits | None = None) -> tuple[str, float, int]:
    """The one-line message, the seconds and the peak bytes of refusing ``data``.

    Timed without tracemalloc (which slows Python down several times), then measured under it.
    """
    import bs4  # noqa: F401 - imported before the clock starts

    started = time.perf_counter()
    with pytest.raises(DocumentTooComplexError) as caught:
        load_bytes(data, name=name, limits=limits)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    with pytest.raises(DocumentTooComplexError):
        load_bytes(data, name=name, limits=limits)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = str(caught.value)
    assert "\n" not in message and message.startswith(name)
    return message, elapsed, peak


def test_a_docx_with_300000_empty_paragraphs_is_refused_fast() -> None:
    bomb = docx_with(b"<w:p/>" * 300_000)
    assert len(bomb) < 60_000  # ~40 KB compressed
    message, elapsed, peak = refused(bomb, "report.docx")
    assert message.startswith("report.docx has 300000 paragraphs, more than the limit of 50000 - split")
    assert elapsed < 1 and peak < 20_000_000, (elapsed, peak)


def test_a_zip_bomb_docx_is_refused_before_unpacking() -> None:
    bomb = docx_with(b"<w:p><w:r><w:t>hi</w:t></w:r></w:p>", {"word/media/image1.png": bytes(50_000_000)})
    assert len(bomb) < 200_000
    message, elapsed, peak = refused(bomb, "bomb.docx")
    assert (
        "has word/media/image1.png compressed" in message
        and "more than the limit of 500 (a zip bomb?)" in message
    )
    assert elapsed < 1 and peak < 20_000_000, (elapsed, peak)
    small = DocumentLimits(max_decompressed_bytes=10_000_000)
    message, _, _ = refused(bomb, "bomb.docx", small)
    assert "unpacks to" in message and "more than the limit of 10000000" in message
    message, _, _ = refused(bomb, "bomb.docx", DocumentLimits(max_entries=5))
    assert "files inside, more than the limit of 5" in message


def test_a_docx_within_the_limits_still_loads() -> None:
    doc = docx_with(b"<w:p><w:r><w:t>A real paragraph.</w:t></w:r></w:p>" * 2000)
    started = time.perf_counter()
    (loaded,) = load_bytes(doc, name="fine.docx")
    assert time.perf_counter() - started < 2
    assert loaded.page_content.count("A real paragraph.") == 2000


def _pdf(pages: int) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=8)
    for number in range(pages):
        pdf.add_page()
        pdf.cell(0, 10, f"page {number + 1}")
    return bytes(pdf.output())


def test_a_pdf_over_the_page_limit_is_refused() -> None:
    message, elapsed, _ = refused(_pdf(2001), "book.pdf")
    assert message.startswith("book.pdf has 2001 pages, more than the limit of 2000 - split the document")
    assert elapsed < 1, elapsed


def test_a_pdf_past_its_time_budget_stops_between_pages() -> None:
    message, _, _ = refused(_pdf(3), "slow.pdf", DocumentLimits(max_seconds=0))
    assert message.startswith("slow.pdf took more than the limit of 0 s to read (at page 1 of 3)")
    assert len(load_bytes(_pdf(3), name="ok.pdf")) == 3


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_html_is_one_line_not_a_recursion_error(depth: int) -> None:
    html = b"<div>" * depth + b"deep" + b"</div>" * depth
    message, elapsed, _ = refused(html, "deep.html")
    assert message.startswith("deep.html nests HTML elements more than 256 deep (the limit) - split")
    assert elapsed < 1, elapsed


def test_quoted_angle_brackets_do_not_hide_nesting_from_the_pre_scan() -> None:
    message, elapsed, _ = refused(b'<div title="<">' * 3000 + b"deep", "tricky.html")
    assert message.startswith("tricky.html nests HTML elements more than 256 deep (the limit)")
    assert elapsed < 1, elapsed
    (fine,) = load_bytes(b"<div>" * 250 + b'<a title="a<b">ok</a>' + b"</div>" * 250, name="fine.html")
    assert fine.page_content == "ok"


def test_a_recursion_error_in_the_walk_is_one_line() -> None:
    html = b"<div>" * 250 + b"ok" + b"</div>" * 250  # under the depth limit, over a low stack limit
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        with pytest.raises(DocumentTooComplexError) as caught:
            load_bytes(html, name="stack.html")
    finally:
        sys.setrecursionlimit(old)
    assert str(caught.value).startswith("stack.html nests HTML elements too deep to read (limit 256) - split")


def test_unclosed_tags_do_not_make_html_parser_quadratic() -> None:
    html = (b'<a "' + b"x" * 1000) * 2000  # 2 MB: html.parser alone rescans the rest from every '<a'
    started = time.perf_counter()
    (doc,) = load_bytes(html, name="broken.html")
    assert time.perf_counter() - started < 2
    assert doc.page_content.startswith('<a "xxx')


def test_no_other_exception_escapes_a_loader() -> None:
    def broken(data: bytes, source: str) -> list:
        raise KeyError("internal parser state")

    register_loader(".brk", broken)
    try:
        with pytest.raises(DocumentError) as caught:
            load_bytes(b"x", name="file.brk")
    finally:
        LOADERS.pop(".brk")
    assert str(caught.value) == (
        "file.brk could not be read as brk (KeyError: 'internal parser state') - check that the file is not "
        "damaged, or convert it to another format"
    )
