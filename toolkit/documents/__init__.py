"""Load documents (text, Markdown, PDF, HTML, Word, CSV, source code) as LangChain ``Document`` objects.

One loader shared by every feature: the summarize and translate chains, the CLI's stdin,
Streamlit uploads and RAG ingestion. Every failure is a
:class:`~toolkit.errors.DocumentError` whose message names the file and says what to do.
Parsers (pypdf, python-docx, BeautifulSoup, charset-normalizer) are imported only when a
file of their kind is read::

    from toolkit.documents import DocumentLoader, load_bytes, load_document

    pages = load_document("report.pdf")            # one Document per page with text
    notes = load_bytes(upload, name="notes.md")    # the same loaders, from bytes
    docs = DocumentLoader("table.csv").load()      # a LangChain BaseLoader

Layout (each module imports only those above it; this ``__init__`` only re-exports):
``base`` (the loader type, size limit, shared checks and messages), ``limits`` (the limits
on parsing work: :class:`DocumentLimits`), ``text``, ``markup``
(HTML and DOCX), ``pdf``, ``tabular`` (CSV), ``code`` (the loaders), ``registry`` (the
extension -> loader table, filled once at import), ``loading`` (the public functions) and
``adapter`` (:class:`DocumentLoader`, loaded on first use: LangChain's loader base class
brings its runnables and HTTP client along).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.documents.base import DEFAULT_MAX_BYTES, Loader, format_size
from toolkit.documents.code import CODE_LANGUAGES, load_code
from toolkit.documents.limits import DEFAULT_LIMITS, DocumentLimits
from toolkit.documents.loading import as_documents, documents_text, load_bytes, load_document
from toolkit.documents.registry import LOADERS, register_loader, supported_extensions
from toolkit.documents.tabular import CSV_BLOCK_CHARS, load_csv
from toolkit.lazy import lazy_exports

__all__ = [
    "CODE_LANGUAGES",
    "CSV_BLOCK_CHARS",
    "DEFAULT_LIMITS",
    "DEFAULT_MAX_BYTES",
    "LOADERS",
    "DocumentLimits",
    "DocumentLoader",
    "Loader",
    "as_documents",
    "documents_text",
    "format_size",
    "load_bytes",
    "load_code",
    "load_csv",
    "load_document",
    "register_loader",
    "supported_extensions",
]

if TYPE_CHECKING:
    from toolkit.documents.adapter import DocumentLoader

__getattr__, __dir__ = lazy_exports(__name__, {"DocumentLoader": "toolkit.documents.adapter"}, __all__)
