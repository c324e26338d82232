"""Plain text: decoding (BOM, UTF-8, charset-normalizer) and the text loaders."""

from __future__ import annotations

import codecs
import contextlib

from langchain_core.documents import Document

from toolkit.documents.base import Loader, binary_error, looks_binary, no_text_error, normalize_newlines

__all__ = ["read_text", "text_loader"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode(data: bytes, source: str) -> tuple[str, str]:
    """Decode text bytes: BOM first, then strict UTF-8, then charset-normalizer's best guess."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break  # a BOM-like prefix on something else: let detection decide
    if b"\x00" not in data:  # UTF-16 without a BOM is valid UTF-8 full of NULs
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-8"), "utf-8"
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is None:
        raise binary_error(source)
    # Ties are common for Western text (cp1250 == cp1252 on "é"); the Windows default wins them.
    tied = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("cp1252"), "cp1252"
    return str(best), codecs.lookup(best.encoding).name


def read_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode the bytes of a text file, as every text-based loader does.

    Args:
        data: The raw bytes.
        source: Where they came from, for error messages.

    Returns:
        The text with ``\\n`` line ends, and the encoding it was decoded from.

    Raises:
        UnsupportedDocumentError: The bytes are binary data, not text.
        EmptyDocumentError: There is no text (no bytes, or whitespace only).
    """
    text, encoding = _decode(data, source)
    if looks_binary(text):
        raise binary_error(source)
    text = normalize_newlines(text)
    if not text.strip():
        raise no_text_error(source, data)
    return text, encoding


def text_loader(file_type: str) -> Loader:
    """A loader of text files whose documents have ``file_type`` and ``encoding`` metadata."""

    def load(data: bytes, source: str) -> list[Document]:
        text, encoding = read_text(data, source)
        metadata = {"source": source, "file_type": file_type, "encoding": encoding}
        return [Document(page_content=text, metadata=metadata)]

    return load
