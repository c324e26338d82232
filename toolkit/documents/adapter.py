"""A LangChain ``BaseLoader`` over :func:`~toolkit.documents.loading.load_document`."""

from __future__ import annotations

import os
from collections.abc import Iterator

from langchain_core.document_loaders import BaseLoader
from langchain_core.documents import Document

from toolkit.documents.base import DEFAULT_MAX_BYTES
from toolkit.documents.limits import DocumentLimits
from toolkit.documents.loading import load_document

__all__ = ["DocumentLoader"]


class DocumentLoader(BaseLoader):
    """Load one file of any supported type as LangChain documents, for LangChain pipelines.

    It yields what :func:`~toolkit.documents.loading.load_document` returns (one document per
    PDF page or CSV block, one for any other file), with the same metadata and errors.

    Example:
        .. code-block:: python

            from toolkit.documents import DocumentLoader

            docs = DocumentLoader("report.pdf").load()
            for page in DocumentLoader("report.pdf").lazy_load():
                print(page.metadata["page"], page.page_content[:80])

    Args:
        path: The file to read; the loader is chosen by its extension.
        max_bytes: Refuse files larger than this many bytes.
        limits: The limits on parsing work (default: :data:`~toolkit.documents.limits.DEFAULT_LIMITS`).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        limits: DocumentLimits | None = None,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.limits = limits

    def lazy_load(self) -> Iterator[Document]:
        """Yield the file's documents (the file is read and parsed on the first ``next``)."""
        yield from load_document(self.path, max_bytes=self.max_bytes, limits=self.limits)
