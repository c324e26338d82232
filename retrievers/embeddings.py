"""The embedders, under their first-release import path.

They live in :mod:`toolkit.backends.embeddings` (backends: chat models and embedders); this
module re-exports the same objects, so ``from retrievers.embeddings import get_embeddings``
keeps working.
"""

from __future__ import annotations

from toolkit.backends.embeddings import (
    MINILM_ID,
    LlamaCppEmbeddings,
    MiniLMEmbeddings,
    OnnxTuning,
    ToolkitOllamaEmbeddings,
    embedding_dimension,
    embedding_model_id,
    get_embeddings,
    padding_fraction,
    plan_batches,
    spec_model_id,
)

__all__ = [
    "MINILM_ID",
    "LlamaCppEmbeddings",
    "MiniLMEmbeddings",
    "OnnxTuning",
    "ToolkitOllamaEmbeddings",
    "embedding_dimension",
    "embedding_model_id",
    "get_embeddings",
    "padding_fraction",
    "plan_batches",
    "spec_model_id",
]
