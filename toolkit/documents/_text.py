"""Plain-text decoding (BOM, UTF-8, charset-normalizer), the binary check, and message helpers."""

from __future__ import annotations

import codecs
import contextlib
import re
from typing import TYPE_CHECKING

from langchain_core.documents import Document

from toolkit.errors import UnsupportedDocumentError

if TYPE_CHECKING:
    from toolkit.documents import Loader

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts with UTF-16-LE's
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Unicode category Cc (C0, DEL, C1) except \t \n \v \f \r and ESC (ANSI colours in logs).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.05


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            break
    return f"{n:.1f} {unit}"


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = len(_CONTROLS.findall(sample))
    return controls > _MAX_CONTROL_SHARE * max(len(sample), 1)


def _binary_error(source: str) -> UnsupportedDocumentError:
    return UnsupportedDocumentError(
        f"{source} looks like binary data, not text - pass a text, Markdown, PDF, HTML or DOCX file",
        source=source,
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
        raise _binary_error(source)
    # Ties are common for Western text (cp1250 == cp1252 on "é"); the Windows default wins them.
    tied = [m for m in results if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any("cp1252" in m.could_be_from_charset for m in tied):
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("cp1252"), "cp1252"
    return str(best), codecs.lookup(best.encoding).name


def _text_loader(file_type: str) -> Loader:
    def load(data: bytes, source: str) -> list[Document]:
        text, encoding = _decode(data, source)
        if _looks_binary(text):
            raise _binary_error(source)
        metadata = {"source": source, "file_type": file_type, "encoding": encoding}
        return [Document(page_content=_newlines(text), metadata=metadata)]

    return load
