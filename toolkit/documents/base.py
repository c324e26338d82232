"""What every loader shares: the loader type, the size limit, the binary check and messages.

The bottom of :mod:`toolkit.documents`: it imports no other module of the package, and every
other module may import it.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable
from typing import TypeAlias

from langchain_core.documents import Document

from toolkit.errors import EmptyDocumentError, UnsupportedDocumentError

__all__ = [
    "DEFAULT_MAX_BYTES",
    "Loader",
    "binary_error",
    "format_size",
    "looks_binary",
    "no_text_error",
    "normalize_newlines",
    "one_line",
    "special_file_kind",
]

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
"""Files larger than this (200 MiB) are refused unless ``max_bytes`` is raised."""

Loader: TypeAlias = Callable[[bytes, str], list[Document]]
"""A loader takes the raw bytes and the source name and returns the documents."""

# Unicode category Cc (C0, DEL, C1) except \t \n \v \f \r and ESC (ANSI colours in logs).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.05


def one_line(exc: BaseException) -> str:
    """``"TypeName: message"`` of an exception, on one line (for error messages)."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def special_file_kind(mode: int) -> str | None:
    """What a non-regular file is, from its ``st_mode`` (``"a FIFO (named pipe)"``...), or None.

    Reading a FIFO blocks until someone writes, a device may never end (``/dev/zero``), so
    loaders and file tools refuse all of them; a folder is reported as ``"a folder"``.
    """
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def format_size(n: float) -> str:
    """A byte count for people: ``"512 bytes"``, ``"3.2 KiB"``, ``"1.5 MiB"``, ``"2.0 GiB"``."""
    if n < 1024:
        return f"{int(n)} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024 or unit == "GiB":
            break
    return f"{n:.1f} {unit}"


def normalize_newlines(text: str) -> str:
    """``text`` with ``\\r\\n`` and ``\\r`` line ends turned into ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def looks_binary(text: str) -> bool:
    """Whether decoded text is really binary data (a NUL, or over 5% control characters)."""
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = len(_CONTROLS.findall(sample))
    return controls > _MAX_CONTROL_SHARE * max(len(sample), 1)


def binary_error(source: str) -> UnsupportedDocumentError:
    """The error for binary data where text was expected."""
    return UnsupportedDocumentError(
        f"{source} looks like binary data, not text - pass a text, Markdown, PDF, HTML or DOCX file",
        source=source,
    )


def no_text_error(source: str, data: bytes) -> EmptyDocumentError:
    """The error for input without text: ``data`` empty, or text that is only whitespace."""
    if not data:
        return EmptyDocumentError(
            f"{source} is empty (0 bytes) - check the file or input you passed", source=source
        )
    return EmptyDocumentError(
        f"{source} has no text (empty or whitespace only) - check the file or input you passed",
        source=source,
    )
