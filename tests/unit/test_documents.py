"""toolkit.documents: real files (fpdf2 PDFs, python-docx DOCX, HTML, odd encodings) and every error."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.documents import Document

from toolkit import documents
from toolkit.documents import (
    as_documents,
    documents_text,
    load_bytes,
    load_document,
    register_loader,
    supported_extensions,
)
from toolkit.errors import (
    DocumentError,
    DocumentNotFoundError,
    EmptyDocumentError,
    EncryptedDocumentError,
    UnsupportedDocumentError,
)

PNG_HEADER = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00\x1f\xf3\xffa"
)
LATIN1_TEXT = (
    "Le café de la gare sert une crème brûlée très appréciée.\n"
    "À l'été, la façade est décorée; les élèves y goûtent des gâteaux.\n"
    "Müller aß Würstchen in der Straße, während Søren smørrebrød bestilte.\n"
)


def make_pdf(path: Path, pages: list[str]) -> Path:
    """Write a PDF with one page per string; an empty string makes a page with no text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 10, text)
    pdf.output(str(path))
    return path


def encrypt_pdf(source: Path, target: Path, *, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    # RC4 needs no crypto library, so the test runs wherever pypdf does
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="RC4-128")
    with target.open("wb") as stream:
        writer.write(stream)
    return target


def make_docx(path: Path, *, title: str = "") -> Path:
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_heading("Acme", level=0)  # the "Title" style
    document.add_heading("Quarterly report", level=1)
    document.add_paragraph("Sales grew in every region.")
    document.add_heading("Details", level=2)
    document.add_paragraph("North", style="List Bullet")
    document.add_paragraph("South", style="List Bullet")
    numbered = document.add_paragraph("East")  # Normal style, but in a list through its numbering
    num_pr = numbered._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_numId().val, num_pr.get_or_add_ilvl().val = 1, 0
    table = document.add_table(rows=3, cols=2)
    for row, (region, total) in zip(
        table.rows, [("Region", "Total"), ("North", "10"), ("South", "2|3")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = region, total
    document.add_paragraph("Closing remarks.")
    document.save(str(path))
    return path


# --- text ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "file_type"),
    [
        ("a.txt", "text"),
        ("a.text", "text"),
        ("a.md", "markdown"),
        ("a.MARKDOWN", "markdown"),
        ("a.rst", "rst"),
    ],
)
def test_text_files_load_with_metadata(tmp_path: Path, name: str, file_type: str) -> None:
    path = tmp_path / name
    path.write_bytes("# Title\r\n\r\nline one\rline two — ok\n".encode())

    [doc] = load_document(name)  # relative to the cwd (tmp_path): source is made absolute

    assert doc.page_content == "# Title\n\nline one\nline two — ok\n"
    assert doc.metadata == {"source": str(path), "file_type": file_type, "encoding": "utf-8"}


def test_file_without_extension_is_plain_text(tmp_path: Path) -> None:
    (tmp_path / "README").write_text("plain words")
    [doc] = load_document(tmp_path / "README")
    assert (doc.page_content, doc.metadata["file_type"]) == ("plain words", "text")


def test_utf8_bom_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfhello")
    [doc] = load_document(path)
    assert (doc.page_content, doc.metadata["encoding"]) == ("hello", "utf-8-sig")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-16-le"])
def test_utf16_and_utf32_load(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes(LATIN1_TEXT.encode(encoding))  # utf-16/32 write a BOM; utf-16-le has none
    [doc] = load_document(path)
    assert doc.page_content == LATIN1_TEXT
    assert doc.metadata["encoding"].startswith(encoding[:6])


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_ascii_utf16_without_bom_is_not_mistaken_for_binary(encoding: str) -> None:
    text = "Plain ASCII words.\nSecond line.\n"  # as UTF-16 this is valid UTF-8 full of NUL bytes
    [doc] = load_bytes(text.encode(encoding), name="wide.txt")
    assert (doc.page_content, doc.metadata["encoding"]) == (text, encoding)


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252"])
def test_legacy_8bit_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    text = LATIN1_TEXT + ("Prix : 5 € – « très » bon.\n" if encoding == "cp1252" else "")
    path = tmp_path / "old.txt"
    path.write_bytes(text.encode(encoding))
    [doc] = load_document(path)
    assert doc.page_content == text
    assert doc.metadata["encoding"] == "cp1252"  # a superset of Latin-1's printable range


def test_png_renamed_txt_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(PNG_HEADER + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedDocumentError, match=r"image\.txt looks like binary data, not text"):
        load_document(path)


def test_control_characters_make_text_binary(tmp_path: Path) -> None:
    path = tmp_path / "ctrl.txt"
    path.write_bytes(b"ab\x01\x02\x03\x04cd" * 50)  # valid UTF-8, no NUL, but half control characters
    with pytest.raises(UnsupportedDocumentError, match="binary data"):
        load_document(path)


def test_a_few_escape_sequences_are_still_text(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_bytes(b"\x1b[32mok\x1b[0m build passed\tin 3s\f\n" * 20)
    [doc] = load_document(path)
    assert doc.page_content.count("build passed") == 20


@pytest.mark.parametrize(
    ("content", "message"), [(b"", r"is empty \(0 bytes\)"), (b" \r\n\t \n", "empty or whitespace only")]
)
def test_empty_and_whitespace_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "blank.md"
    path.write_bytes(content)
    with pytest.raises(EmptyDocumentError, match=message) as info:
        load_document(path)
    assert info.value.source == str(path)


# --- paths and limits ------------------------------------------------------------------------------


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DocumentNotFoundError, match=r"nope\.txt not found - check the path") as info:
        load_document("nope.txt")
    assert isinstance(info.value, DocumentError)
    assert isinstance(info.value, FileNotFoundError)
    assert info.value.source == str(tmp_path / "nope.txt")


def test_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    with pytest.raises(DocumentError, match=r"docs is a folder - .*`llama-toolkit ingest`"):
        load_document(tmp_path / "docs")


def test_unknown_extension_lists_supported(tmp_path: Path) -> None:
    path = tmp_path / "sheet.XLSX"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(
        UnsupportedDocumentError, match=r"unsupported file type '\.xlsx' - supported: .*\.docx.*\.pdf"
    ):
        load_document(path)


def test_unsupported_extension_is_reported_before_size(tmp_path: Path) -> None:
    path = tmp_path / "video.mp4"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(UnsupportedDocumentError, match="unsupported file type"):
        load_document(path, max_bytes=10)


def test_too_large_file_names_size_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 2048)
    with pytest.raises(
        DocumentError, match=r"big\.txt is 2\.0 KiB, over the 1\.0 KiB limit .*max_bytes=2048"
    ):
        load_document(path, max_bytes=1024)
    assert load_document(path, max_bytes=2048)[0].page_content == "x" * 2048


def test_default_limit_is_200_mib() -> None:
    assert documents.DEFAULT_MAX_BYTES == 200 * 1024 * 1024


# --- PDF -------------------------------------------------------------------------------------------


def test_pdf_one_document_per_page_and_empty_pages_recorded(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", ["First page text.", "", "Third page text."])

    docs = load_document(path)

    assert [doc.page_content.strip() for doc in docs] == ["First page text.", "Third page text."]
    assert [doc.metadata["page"] for doc in docs] == [1, 3]
    assert all(doc.metadata["total_pages"] == 3 for doc in docs)
    assert all(doc.metadata["file_type"] == "pdf" and doc.metadata["source"] == str(path) for doc in docs)
    assert docs[0].metadata["empty_pages"] == [2]
    assert "empty_pages" not in docs[1].metadata


def test_pdf_without_empty_pages_has_no_empty_pages_key(tmp_path: Path) -> None:
    docs = load_document(make_pdf(tmp_path / "full.PDF", ["one", "two"]))
    assert [doc.metadata["page"] for doc in docs] == [1, 2]
    assert "empty_pages" not in docs[0].metadata


def test_pdf_without_any_text_layer_suggests_ocr(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(
        EmptyDocumentError, match=r"scan\.pdf has no text layer on any of its 2 page.*ocrmypdf"
    ):
        load_document(path)


def test_pdf_with_user_password_is_encrypted_error(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["secret text"])
    locked = encrypt_pdf(plain, tmp_path / "locked.pdf", user_password="s3cret")
    with pytest.raises(EncryptedDocumentError, match=r"locked\.pdf is a password-protected PDF - remove"):
        load_document(locked)


def test_pdf_with_empty_user_password_opens(tmp_path: Path) -> None:
    plain = make_pdf(tmp_path / "plain.pdf", ["permissions only"])
    locked = encrypt_pdf(plain, tmp_path / "perm.pdf", user_password="")
    [doc] = load_document(locked)
    assert doc.page_content.strip() == "permissions only"


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.7\n" + b"this is not a pdf body\n" * 20, b"just some text in a .pdf", "truncated"],
)
def test_corrupt_pdf(tmp_path: Path, content: bytes | str) -> None:
    if content == "truncated":
        data = make_pdf(tmp_path / "ok.pdf", ["a page of text"]).read_bytes()
        content = data[: len(data) // 3]
    path = tmp_path / "broken.pdf"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(
        DocumentError, match=r"broken\.pdf is damaged or not really a PDF - re-export"
    ) as info:
        load_document(path)
    assert info.value.__cause__ is not None


# --- DOCX ------------------------------------------------------------------------------------------


def test_docx_headings_lists_tables_and_title(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "report.docx", title="Q3 Report")

    [doc] = load_document(path)

    assert doc.page_content == (
        "# Acme\n\n"
        "# Quarterly report\n\n"
        "Sales grew in every region.\n\n"
        "## Details\n\n"
        "- North\n"
        "- South\n"
        "- East\n\n"
        "| Region | Total |\n"
        "|---|---|\n"
        "| North | 10 |\n"
        "| South | 2\\|3 |\n\n"
        "Closing remarks."
    )
    assert doc.metadata == {"source": str(path), "file_type": "docx", "title": "Q3 Report"}


def test_docx_without_title_has_no_title_metadata(tmp_path: Path) -> None:
    [doc] = load_document(make_docx(tmp_path / "untitled.docx"))
    assert "title" not in doc.metadata


def test_docx_with_no_text_is_empty(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    with pytest.raises(EmptyDocumentError, match=r"blank\.docx has no text"):
        load_document(path)


def test_password_protected_docx(tmp_path: Path) -> None:
    path = tmp_path / "locked.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)  # OLE compound file header
    with pytest.raises(
        EncryptedDocumentError, match=r"locked\.docx is password-protected .* remove the password"
    ):
        load_document(path)


@pytest.mark.parametrize("content", [b"definitely not a zip", b"PK\x03\x04 truncated zip"])
def test_corrupt_docx(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(content)
    with pytest.raises(
        DocumentError, match=r"broken\.docx is damaged or not really a Word \.docx file"
    ) as info:
        load_document(path)
    assert info.value.__cause__ is not None


# --- HTML ------------------------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head><title> My   Page </title><style>body { color: red }</style>
<script>var hidden = "script text";</script></head>
<body>
<!-- a comment -->
<noscript>enable javascript</noscript>
<template><p>template text</p></template>
<h1>Main  title</h1>
<p>First <b>bold</b> paragraph
   spread over lines.</p>
<div>A div with <code>x = 1</code> and a<br>line break.</div>
<h3>Items</h3>
<ul><li>one</li><li>two <a href="#">link</a><ul><li>nested</li></ul></li></ul>
<pre class="language-python">def f():
    return 1</pre>
<table><tr><th>Name</th><th>Qty</th></tr><tr><td>apple</td><td>3</td></tr></table>
<blockquote>quoted</blockquote>
<script>alert("late script")</script>
</body></html>
"""


def test_html_becomes_markdown_like_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML, encoding="utf-8")

    [doc] = load_document(path)

    assert doc.page_content == (
        "# Main title\n\n"
        "First bold paragraph spread over lines.\n\n"
        "A div with `x = 1` and a\nline break.\n\n"
        "### Items\n\n"
        "- one\n"
        "- two link\n"
        "  - nested\n\n"
        "```python\ndef f():\n    return 1\n```\n\n"
        "| Name | Qty |\n|---|---|\n| apple | 3 |\n\n"
        "quoted"
    )
    assert doc.metadata["title"] == "My Page"
    assert doc.metadata["file_type"] == "html"


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    html = f'<html><head><meta charset="windows-1252"></head><body><p>{LATIN1_TEXT}</p></body></html>'
    path.write_bytes(html.encode("cp1252"))
    [doc] = load_document(path)
    assert doc.page_content == " ".join(LATIN1_TEXT.split())
    assert doc.metadata["encoding"] == "cp1252"
    assert "title" not in doc.metadata


@pytest.mark.filterwarnings("ignore:Some characters could not be decoded")
def test_binary_renamed_html_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.html"
    path.write_bytes(PNG_HEADER + bytes(range(256)) * 4)
    with pytest.raises(UnsupportedDocumentError, match=r"image\.html looks like binary data"):
        load_document(path)


def test_html_with_only_scripts_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "app.html"
    path.write_text("<html><head><title>App</title></head><body><script>run()</script></body></html>")
    with pytest.raises(EmptyDocumentError, match=r"app\.html has no text"):
        load_document(path)


# --- bytes, chain input, registry ------------------------------------------------------------------


def test_load_bytes_from_stdin_is_plain_text() -> None:
    [doc] = load_bytes("héllo\r\nwörld".encode("cp1252") * 30)
    assert doc.page_content.startswith("héllo\nwörld")
    assert doc.metadata["source"] == "<stdin>"
    assert doc.metadata["file_type"] == "text"


def test_load_bytes_picks_loader_from_name_or_file_type(tmp_path: Path) -> None:
    pdf = make_pdf(tmp_path / "x.pdf", ["from bytes"]).read_bytes()

    by_name = load_bytes(pdf, name="upload.PDF")
    by_type = load_bytes(pdf, file_type="pdf")
    by_dot = load_bytes(pdf, name="blob", file_type=".PDF")
    markdown = load_bytes(b"# hi", file_type="markdown")

    assert by_name[0].metadata == {"source": "upload.PDF", "file_type": "pdf", "page": 1, "total_pages": 1}
    assert by_type[0].page_content.strip() == by_dot[0].page_content.strip() == "from bytes"
    assert markdown[0].metadata["file_type"] == "markdown"


def test_load_bytes_errors_name_the_input() -> None:
    with pytest.raises(EmptyDocumentError, match=r"<stdin> is empty"):
        load_bytes(b"")
    with pytest.raises(UnsupportedDocumentError, match=r"upload\.exe: unsupported file type '\.exe'"):
        load_bytes(b"MZ", name="upload.exe")
    with pytest.raises(UnsupportedDocumentError, match=r"<stdin> looks like binary data"):
        load_bytes(PNG_HEADER)


def test_as_documents_treats_str_as_text_never_a_path(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("file content")
    [doc] = as_documents("notes.txt")
    assert doc.page_content == "notes.txt"
    assert as_documents("a\r\nb\rc")[0].page_content == "a\nb\nc"
    assert doc.metadata == {"source": "<text>", "file_type": "text"}


def test_as_documents_passes_documents_and_flattens_lists() -> None:
    original = Document(page_content="page one", metadata={"page": 1})

    assert as_documents(original)[0] is original
    docs = as_documents([original, "loose text", "   ", Document(page_content="")])
    assert [doc.page_content for doc in docs] == ["page one", "loose text"]
    assert docs[0] is original


@pytest.mark.parametrize(
    "value", ["", "  \n\t", [], ["", Document(page_content=" ")], Document(page_content="")]
)
def test_as_documents_rejects_empty_input(value: str | Document | list[Document | str]) -> None:
    with pytest.raises(EmptyDocumentError, match="the input text is empty"):
        as_documents(value)


def test_as_documents_rejects_bytes_with_a_hint() -> None:
    with pytest.raises(TypeError, match=r"got bytes - decode it, or use load_bytes\(\)"):
        as_documents([b"raw"])  # type: ignore[list-item]


def test_documents_text_joins_with_blank_lines_in_order() -> None:
    docs = [Document(page_content="one\n"), Document(page_content=""), Document(page_content="two")]
    assert documents_text(docs) == "one\n\ntwo"
    assert documents_text([]) == ""


def test_register_loader_adds_an_extension(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ".tsv" not in documents.LOADERS
    monkeypatch.delitem(documents.LOADERS, ".tsv", raising=False)  # removed again after the test
    register_loader("TSV", lambda data, source: [Document(page_content=data.decode().replace("\t", " | "))])
    (tmp_path / "t.tsv").write_text("a\tb")

    [doc] = load_document(tmp_path / "t.tsv")

    assert doc.page_content == "a | b"
    assert doc.metadata == {"source": str(tmp_path / "t.tsv"), "file_type": "tsv"}
    assert ".tsv" in supported_extensions()


def test_register_loader_replaces_a_loader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(documents.LOADERS, ".csv", documents.LOADERS[".csv"])  # restored after the test
    register_loader(".csv", lambda data, source: [Document(page_content=data.decode().replace(",", " | "))])
    (tmp_path / "t.csv").write_text("a,b")

    [doc] = load_document(tmp_path / "t.csv")

    assert doc.page_content == "a | b"
    assert doc.metadata == {"source": str(tmp_path / "t.csv"), "file_type": "csv"}


def test_supported_extensions() -> None:
    # Registered once, at import: text, markup, PDF, Word, CSV and source code. A test may
    # register more in the same process: every listed extension must have a loader.
    built_in = {".docx", ".htm", ".html", ".markdown", ".md", ".pdf", ".rst", ".text", ".txt", ".csv"}
    listed = supported_extensions()
    assert built_in | set(documents.CODE_LANGUAGES) <= set(listed) and listed == sorted(listed)
    assert set(listed) == set(documents.LOADERS)


def test_csv_and_code_load_with_nothing_run_before(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_text("name,city\nAda,London\n")
    (tmp_path / "t.py").write_text("print('hi')\n")
    code = (
        "import json, sys; from toolkit.documents import load_document; "
        "print(json.dumps([d.metadata | {'text': d.page_content} for p in sys.argv[1:] for d in load_document(p)]))"
    )
    repo = Path(documents.__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "t.csv"), str(tmp_path / "t.py")],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    table, script = json.loads(result.stdout)
    assert table["file_type"] == "csv" and table["text"] == "name: Ada\ncity: London"
    assert (table["row"], table["last_row"]) == (1, 1)
    assert script["file_type"] == "code" and script["language"] == "python"
    assert script["text"] == "print('hi')\n"


def test_register_rag_loaders_is_a_deprecated_no_op() -> None:
    from retrievers.loaders import load_csv, register_rag_loaders

    before = dict(documents.LOADERS)
    with pytest.warns(DeprecationWarning, match="no longer needed"):
        register_rag_loaders()
    assert before == documents.LOADERS
    assert load_csv is documents.load_csv


def test_document_loader_is_a_langchain_base_loader(tmp_path: Path) -> None:
    from langchain_core.document_loaders import BaseLoader

    from toolkit.documents import DocumentLoader

    path = make_pdf(tmp_path / "report.pdf", ["First page text.", "", "Third page text."])
    loader = DocumentLoader(path)
    assert isinstance(loader, BaseLoader)
    expected = load_document(path)
    assert [d.metadata for d in expected] == [d.metadata for d in loader.load()]
    assert loader.load() == expected
    pages = loader.lazy_load()
    assert next(pages) == expected[0]
    assert list(pages) == expected[1:]


def test_document_loader_is_lazy_and_raises_like_load_document(tmp_path: Path) -> None:
    from toolkit.documents import DocumentLoader

    big = tmp_path / "big.txt"
    big.write_text("x" * 100)
    pages = DocumentLoader(tmp_path / "later.md").lazy_load()  # nothing is read yet
    (tmp_path / "later.md").write_text("# Title\n\nWritten after the loader was made.\n")
    [doc] = list(pages)
    assert doc.metadata["file_type"] == "markdown" and "Written after" in doc.page_content
    with pytest.raises(DocumentError, match="over the 10 bytes limit"):
        DocumentLoader(big, max_bytes=10).load()
    with pytest.raises(DocumentNotFoundError, match="not found"):
        DocumentLoader(tmp_path / "missing.pdf").load()


async def test_document_loader_loads_asynchronously(tmp_path: Path) -> None:
    from toolkit.documents import DocumentLoader

    (tmp_path / "a.txt").write_text("async text")
    docs = [doc async for doc in DocumentLoader(tmp_path / "a.txt").alazy_load()]
    assert docs == load_document(tmp_path / "a.txt")
    assert await DocumentLoader(tmp_path / "a.txt").aload() == docs


def test_errors_are_one_line_and_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n garbage \n" * 5)
    (tmp_path / "dir").mkdir()
    for target in [bad, tmp_path / "dir", tmp_path / "missing.md", tmp_path / "x.bin"]:
        if target.suffix == ".bin":
            target.write_bytes(b"data")
        with pytest.raises(DocumentError) as info:
            load_document(target)
        assert "\n" not in str(info.value)
        assert str(target) in str(info.value)


def test_parsers_are_imported_lazily() -> None:
    code = (
        "import sys, json, toolkit.documents; "
        "print(json.dumps([m for m in ('pypdf', 'docx', 'bs4', 'charset_normalizer') if m in sys.modules]))"
    )
    repo = Path(documents.__file__).parents[2]  # toolkit/documents/__init__.py: import this checkout
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == []
