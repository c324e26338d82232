"""Choosing the embedder a spec or the ``embeddings`` setting names, and the facts an index records."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from langchain_core.embeddings import Embeddings

from toolkit.backends.embeddings.llamacpp import LlamaCppEmbeddings
from toolkit.backends.embeddings.minilm import MiniLMEmbeddings, minilm_files
from toolkit.backends.embeddings.ollama import ToolkitOllamaEmbeddings
from toolkit.errors import ConfigurationError

__all__ = ["embedding_dimension", "embedding_model_id", "get_embeddings"]


def embedding_model_id(embeddings: Embeddings) -> str:
    """The stable id an index records: ``model_id`` if the embedder has one, else its class path."""
    model_id = getattr(embeddings, "model_id", None)
    if isinstance(model_id, str) and model_id:
        return model_id
    return f"{type(embeddings).__module__}.{type(embeddings).__qualname__}"


def embedding_dimension(embeddings: Embeddings) -> int:
    """Length of the embedder's vectors: its ``dimension``, else that of a probe embedding."""
    dimension = getattr(embeddings, "dimension", None)
    if isinstance(dimension, int) and dimension > 0:
        return dimension
    return len(embeddings.embed_query("dimension probe"))


@lru_cache(maxsize=1)
def _shared_minilm() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


def get_embeddings(spec: str | None = None, **overrides: Any) -> Embeddings:
    """The embedder named by ``spec``, or by the ``embeddings`` setting when ``spec`` is None.

    Args:
        spec: ``minilm``, ``ollama:<model>`` or a path to a ``.gguf`` file.
        **overrides: Settings overrides (``embeddings=``, ``ollama_host=``, ``n_threads=``...).

    Raises:
        ConfigurationError: ``spec`` (or LLAMA_TOOLKIT_EMBEDDINGS) is none of the accepted forms.
        ModelNotFoundError: The GGUF file, or the MiniLM wheels, are missing.
    """
    from toolkit.settings import get_settings

    settings = get_settings(**overrides)
    value = (settings.embeddings if spec is None else spec).strip()
    if value.lower() == "minilm":
        minilm_files()  # fail now, not at the first embedding, if the wheels are missing
        return _shared_minilm()
    if value.startswith("ollama:") and value[len("ollama:") :].strip():
        return ToolkitOllamaEmbeddings(
            value[len("ollama:") :].strip(),
            base_url=settings.ollama_host,
            timeout=settings.request_timeout,
            deadline=settings.request_deadline,
        )
    if value.lower().endswith(".gguf"):
        return LlamaCppEmbeddings(
            model_path=value, n_threads=settings.n_threads, n_gpu_layers=settings.n_gpu_layers
        )
    raise ConfigurationError(
        f"embeddings (LLAMA_TOOLKIT_EMBEDDINGS) = {value!r} is not an embedding model - use `minilm` "
        "(offline all-MiniLM-L6-v2), `ollama:<model>` such as `ollama:nomic-embed-text`, or the path "
        "of a .gguf embedding model"
    )
