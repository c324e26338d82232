"""Retrieval-augmented generation over your own documents, on Chroma.

Offline embeddings (int8 all-MiniLM-L6-v2 by default; Ollama or a GGUF by setting), an
idempotent ingester that never loses what is stored, dense/BM25/hybrid retrieval, and a
RAG chain that answers with numbered citations::

    from retrievers import HybridRetriever, ingest, open_index, rag_chain

    index = open_index()                       # <data_dir>/chroma, collection "documents"
    print(ingest(["~/notes"], index).summary())
    result = rag_chain(retriever=HybridRetriever(index=index)).invoke("When is the meeting?")
    print(result["answer"], result["sources"])

Nothing heavy happens at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "DocumentIndex",
    "HybridRetriever",
    "IngestReport",
    "LlamaCppEmbeddings",
    "MiniLMEmbeddings",
    "RagSource",
    "chunk_documents",
    "delete_index",
    "format_sources",
    "get_embeddings",
    "ingest",
    "list_indexes",
    "open_index",
    "rag_chain",
]

_LAZY = {
    "DocumentIndex": "retrievers.store",
    "delete_index": "retrievers.store",
    "list_indexes": "retrievers.store",
    "open_index": "retrievers.store",
    "IngestReport": "retrievers.ingestion",
    "chunk_documents": "retrievers.ingestion",
    "ingest": "retrievers.ingestion",
    "HybridRetriever": "retrievers.search",
    "RagSource": "retrievers.rag",
    "format_sources": "retrievers.rag",
    "rag_chain": "retrievers.rag",
    "LlamaCppEmbeddings": "toolkit.backends.embeddings",
    "MiniLMEmbeddings": "toolkit.backends.embeddings",
    "get_embeddings": "toolkit.backends.embeddings",
}

if TYPE_CHECKING:
    from retrievers.ingestion import IngestReport, chunk_documents, ingest
    from retrievers.rag import RagSource, format_sources, rag_chain
    from retrievers.search import HybridRetriever
    from retrievers.store import DocumentIndex, delete_index, list_indexes, open_index
    from toolkit.backends.embeddings import LlamaCppEmbeddings, MiniLMEmbeddings, get_embeddings


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
