"""Document ingestion, embeddings and retrieval over Chroma (dense, BM25 and hybrid), and
the RAG chain that answers with citations.

Empty until the RAG issue lands; nothing is exported yet.
"""

from __future__ import annotations

__all__: list[str] = []
