"""The loader registry: which loader reads which file extension.

Filled once, here, at import: text, Markdown, reStructuredText, PDF, HTML, Word, CSV and
source code. :func:`register_loader` adds or replaces one; nothing else changes it.
"""

from __future__ import annotations

from toolkit.documents.base import Loader
from toolkit.documents.code import CODE_LANGUAGES, load_code
from toolkit.documents.markup import load_docx, load_html
from toolkit.documents.pdf import load_pdf
from toolkit.documents.tabular import load_csv
from toolkit.documents.text import text_loader
from toolkit.errors import UnsupportedDocumentError

__all__ = ["LOADERS", "loader_for", "normalize_ext", "register_loader", "supported_extensions"]

LOADERS: dict[str, Loader] = {
    ".txt": text_loader("text"),
    ".text": text_loader("text"),
    ".md": text_loader("markdown"),
    ".markdown": text_loader("markdown"),
    ".rst": text_loader("rst"),
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
    ".csv": load_csv,
    **dict.fromkeys(CODE_LANGUAGES, load_code),
}
"""Loaders by lower-case extension (with the dot). Add more with :func:`register_loader`."""


def normalize_ext(ext: str) -> str:
    """``ext`` as a registry key: lower case, with the dot (``"CSV"`` -> ``".csv"``)."""
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
    LOADERS[normalize_ext(ext)] = loader


def supported_extensions() -> list[str]:
    """Return the extensions :func:`load_document` reads, sorted (e.g. ``[".c", ".cfg", ...]``)."""
    return sorted(LOADERS)


def loader_for(ext: str, source: str) -> Loader:
    """The loader of a lower-case extension ("" for a file without one: plain text).

    Raises:
        UnsupportedDocumentError: No loader reads ``ext``; the message lists those that exist.
    """
    loader = LOADERS.get(ext or ".txt")  # no extension (README, LICENSE): plain text
    if loader is None:
        raise UnsupportedDocumentError(
            f"{source}: unsupported file type '{ext}' - supported: {', '.join(supported_extensions())} "
            "(convert it to one of these, or pipe its text on stdin)",
            source=source,
        )
    return loader
