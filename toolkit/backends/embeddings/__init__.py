"""Embedding models for RAG, chosen by the ``embeddings`` setting (:func:`get_embeddings`).

- ``minilm`` (:mod:`~toolkit.backends.embeddings.minilm`): all-MiniLM-L6-v2 as an int8 ONNX
  file on onnxruntime (offline, 384 dimensions), from pinned, checksummed wheels.
- ``ollama:<model>`` (:mod:`~toolkit.backends.embeddings.ollama`): an Ollama embedding model
  such as ``nomic-embed-text``.
- a path to a ``.gguf`` file (:mod:`~toolkit.backends.embeddings.llamacpp`): any GGUF through
  llama.cpp, mean-pooled unless the file says otherwise.

Every embedder returns L2-normalised vectors and carries a stable ``model_id`` that the
document index records (:func:`embedding_model_id`), so an index is never queried with
another model than it was built with (:func:`spec_model_id` knows it from the spec alone for
MiniLM and Ollama). MiniLM batches texts in length buckets (:mod:`.batching`:
:func:`plan_batches`, and :func:`padding_fraction` for benchmarks). Names are imported on first use: importing this
package loads no onnxruntime, llama.cpp or HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

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

_LAZY = {
    "MINILM_ID": "toolkit.backends.embeddings.ids",
    "spec_model_id": "toolkit.backends.embeddings.ids",
    "MiniLMEmbeddings": "toolkit.backends.embeddings.minilm",
    "OnnxTuning": "toolkit.backends.embeddings.minilm",
    "padding_fraction": "toolkit.backends.embeddings.batching",
    "plan_batches": "toolkit.backends.embeddings.batching",
    "LlamaCppEmbeddings": "toolkit.backends.embeddings.llamacpp",
    "ToolkitOllamaEmbeddings": "toolkit.backends.embeddings.ollama",
    "embedding_dimension": "toolkit.backends.embeddings.factory",
    "embedding_model_id": "toolkit.backends.embeddings.factory",
    "get_embeddings": "toolkit.backends.embeddings.factory",
}

if TYPE_CHECKING:
    from toolkit.backends.embeddings.batching import padding_fraction, plan_batches
    from toolkit.backends.embeddings.factory import embedding_dimension, embedding_model_id, get_embeddings
    from toolkit.backends.embeddings.ids import MINILM_ID, spec_model_id
    from toolkit.backends.embeddings.llamacpp import LlamaCppEmbeddings
    from toolkit.backends.embeddings.minilm import MiniLMEmbeddings, OnnxTuning
    from toolkit.backends.embeddings.ollama import ToolkitOllamaEmbeddings

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
