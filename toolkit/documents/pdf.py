"""PDF: one document per page with a text layer (pypdf, imported on first use)."""

from __future__ import annotations

import io
from typing import Any

from langchain_core.documents import Document

from toolkit.documents.base import normalize_newlines, one_line
from toolkit.documents.limits import Deadline, current_limits, too_complex
from toolkit.errors import DocumentError, DocumentTooComplexError, EmptyDocumentError, EncryptedDocumentError

__all__ = ["load_pdf"]


def _page_texts(reader: Any, source: str) -> list[str]:
    """Each page's text, refusing more pages than the limit and stopping when time runs out."""
    limits = current_limits()
    deadline = Deadline(source, limits)
    pages = reader.pages
    if len(pages) > limits.max_pages:
        raise too_complex(
            source, f"has {len(pages)} pages, more than the limit of {limits.max_pages}", "max_pages"
        )
    texts = []
    for number, page in enumerate(pages, 1):
        deadline.check(f"at page {number} of {len(pages)}")
        texts.append(normalize_newlines(page.extract_text() or ""))
    return texts


def load_pdf(data: bytes, source: str) -> list[Document]:
    """Load a PDF: one document per page with text (``page``, ``total_pages``, ``empty_pages``).

    Raises:
        EncryptedDocumentError: A password is needed to open it.
        EmptyDocumentError: No page has a text layer (a scan: run OCR first).
        DocumentTooComplexError: More pages than the limit, or slower than its time budget.
        DocumentError: The file is damaged or not a PDF.
    """
    from pypdf import PasswordType, PdfReader

    damaged = f"{source} is damaged or not really a PDF - re-export or re-download it"
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types (PdfReadError, ValueError, KeyError...)
        raise DocumentError(f"{damaged} ({one_line(exc)})", source=source) from exc
    if encrypted:
        locked = f"{source} is a password-protected PDF - remove the password first, e.g. `qpdf --decrypt --password=PASSWORD in.pdf out.pdf`"
        try:  # many PDFs are encrypted only to set permissions, with an empty user password
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception as exc:  # DependencyError: AES needs the `cryptography` package
            raise EncryptedDocumentError(
                f"{locked}, or `pip install cryptography` if it opens without one ({one_line(exc)})",
                source=source,
            ) from exc
        if not opened:
            raise EncryptedDocumentError(locked, source=source)
    try:
        texts = _page_texts(reader, source)
        title = reader.metadata.title if reader.metadata else None
    except DocumentTooComplexError:
        raise
    except Exception as exc:
        raise DocumentError(f"{damaged} ({one_line(exc)})", source=source) from exc
    total = len(texts)
    empty = [number for number, text in enumerate(texts, 1) if not text.strip()]
    if len(empty) == total:
        raise EmptyDocumentError(
            f"{source} has no text layer on any of its {total} page(s) (scanned?) - run OCR first, "
            "e.g. `ocrmypdf in.pdf out.pdf`",
            source=source,
        )
    common: dict[str, Any] = {"source": source, "file_type": "pdf", "total_pages": total}
    if isinstance(title, str) and title.strip():
        common["title"] = title.strip()
    docs = [
        Document(page_content=text, metadata={**common, "page": number})
        for number, text in enumerate(texts, 1)
        if number not in empty
    ]
    if empty:
        docs[0].metadata["empty_pages"] = empty
    return docs
