"""The loaders' limits on work: decompressed size, archive entries, paragraphs, pages, depth, time.

All in one place, :class:`DocumentLimits`, with its defaults documented on each field. Each
limit is checked where the work happens, before parsing when the file tells enough (a .docx's
zip directory and its paragraph tags), during it otherwise (PDF pages, the HTML walk), and
fails with :class:`~toolkit.errors.DocumentTooComplexError`, whose one-line message names the
file and the limit::

    from toolkit.documents import DocumentLimits, load_document

    load_document("huge.pdf", limits=DocumentLimits(max_pages=10_000, max_seconds=600))

The loaders read the limits of the current call with :func:`current_limits` (a context
variable set by ``load_document``/``load_bytes``, so threads never see each other's).
"""

from __future__ import annotations

import contextvars
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from toolkit.errors import DocumentTooComplexError

__all__ = [
    "DEFAULT_LIMITS",
    "Deadline",
    "DocumentLimits",
    "check_ratios",
    "check_zip",
    "current_limits",
    "read_entry",
    "too_complex",
    "using_limits",
]

_MiB = 1024 * 1024


@dataclass(frozen=True)
class DocumentLimits:
    """How much work one document may cost. Raise a field to read a bigger file on purpose.

    Attributes:
        max_decompressed_bytes: Largest total a zip container (.docx) may unpack to: the sum
            of the sizes its directory declares (256 MiB).
        max_compression_ratio: Largest ratio of unpacked to packed size for a zip entry over
            1 MiB unpacked (500; real XML is well under 100, deflate peaks near 1030).
        max_entries: Most files in a zip container (10,000).
        max_paragraphs: Most paragraphs in a Word document (50,000, about 1,500 pages).
        max_pages: Most pages in a PDF (2,000).
        max_depth: Deepest nesting of HTML elements (256; real pages stay under 50, but
            html.parser nests every unclosed <p> and <li> in the one before).
        max_seconds: Time one document may take to parse, checked between pages and
            paragraphs (120 s).
    """

    max_decompressed_bytes: int = 256 * _MiB
    max_compression_ratio: float = 500.0
    max_entries: int = 10_000
    max_paragraphs: int = 50_000
    max_pages: int = 2_000
    max_depth: int = 256
    max_seconds: float = 120.0


DEFAULT_LIMITS = DocumentLimits()
"""The limits every load uses unless ``limits=`` is passed."""

_CURRENT: contextvars.ContextVar[DocumentLimits] = contextvars.ContextVar(
    "toolkit_document_limits", default=DEFAULT_LIMITS
)

_HINT = "split the document, or pass a larger limit to load_document (limits=DocumentLimits({field}=...))"


def current_limits() -> DocumentLimits:
    """The limits of the load in progress (:data:`DEFAULT_LIMITS` outside one)."""
    return _CURRENT.get()


@contextmanager
def using_limits(limits: DocumentLimits | None) -> Iterator[DocumentLimits]:
    """Make ``limits`` (default: the current ones) what :func:`current_limits` returns inside."""
    token = _CURRENT.set(limits or _CURRENT.get())
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def too_complex(source: str, what: str, field: str) -> DocumentTooComplexError:
    """The error for ``source`` past the limit ``field``: ``"{source} {what} - split the document..."``."""
    return DocumentTooComplexError(f"{source} {what} - {_HINT.format(field=field)}", source=source)


class Deadline:
    """The time budget of one document, checked between units of work (pages, paragraphs)."""

    def __init__(self, source: str, limits: DocumentLimits | None = None) -> None:
        self.source = source
        self.seconds = (limits or current_limits()).max_seconds
        self.started = time.monotonic()

    def check(self, done: str = "") -> None:
        """Raise when the budget is spent; ``done`` says how far it got (e.g. ``"at page 40"``)."""
        spent = time.monotonic() - self.started
        if spent > self.seconds:
            where = f" ({done})" if done else ""
            raise too_complex(
                self.source,
                f"took more than the limit of {self.seconds:g} s to read{where}",
                "max_seconds",
            )


def check_zip(data: bytes, source: str, limits: DocumentLimits | None = None) -> zipfile.ZipFile:
    """Open a zip container and check its directory against the limits before anything unpacks.

    Returns:
        The open archive (its entries are read with :func:`read_entry`).

    Raises:
        DocumentTooComplexError: Too many entries, or too large unpacked.
        zipfile.BadZipFile: Not a zip archive (the caller reports it as damaged).
    """
    import io

    limits = limits or current_limits()
    archive = zipfile.ZipFile(io.BytesIO(data))
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise too_complex(
            source,
            f"has {len(entries)} files inside, more than the limit of {limits.max_entries}",
            "max_entries",
        )
    total = sum(info.file_size for info in entries)
    if total > limits.max_decompressed_bytes:
        raise too_complex(
            source,
            f"unpacks to {total} bytes, more than the limit of {limits.max_decompressed_bytes}",
            "max_decompressed_bytes",
        )
    return archive


def check_ratios(archive: zipfile.ZipFile, source: str, limits: DocumentLimits | None = None) -> None:
    """Refuse an entry over 1 MiB unpacked whose compression ratio is past the limit.

    Raises:
        DocumentTooComplexError: The entry, its ratio and the limit.
    """
    limits = limits or current_limits()
    for info in archive.infolist():
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > _MiB and ratio > limits.max_compression_ratio:
            raise too_complex(
                source,
                f"has {info.filename} compressed {ratio:.0f} to 1, more than the limit of "
                f"{limits.max_compression_ratio:g} (a zip bomb?)",
                "max_compression_ratio",
            )


def read_entry(
    archive: zipfile.ZipFile, name: str, source: str, limits: DocumentLimits | None = None
) -> bytes:
    """One entry's bytes, reading no more than its declared size allows (a lying header is refused).

    Raises:
        DocumentTooComplexError: The entry unpacks to more than it declared or than the limit.
        KeyError: No such entry.
    """
    limits = limits or current_limits()
    info = archive.getinfo(name)
    cap = min(info.file_size, limits.max_decompressed_bytes)
    with archive.open(info) as stream:
        data = stream.read(cap + 1)
    if len(data) > cap:
        raise too_complex(
            source,
            f"has {name} unpacking past {cap} bytes (its declared size, or the limit)",
            "max_decompressed_bytes",
        )
    return data
