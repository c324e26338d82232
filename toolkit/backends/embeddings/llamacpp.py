"""Any GGUF model as an embedder through llama.cpp.

It loads through the llama.cpp backend's one model registry
(:mod:`toolkit.backends.llamacpp.runtime`), as an embedding model: one context per file
and settings, shared by every embedder, under the registry's lock, freed by ``unload_all``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from toolkit import profiling
from toolkit.backends.llamacpp.runtime import LoadedModel, LoadKey, get_loaded_model
from toolkit.errors import ConfigurationError, ContextOverflowError
from toolkit.gguf import read_gguf_info, validate_gguf_path
from toolkit.hardware import gpu_offload_supported, physical_cores
from toolkit.settings import Settings

__all__ = ["DEFAULT_GGUF_CTX", "LlamaCppEmbeddings"]

DEFAULT_GGUF_CTX = 2048
"""The automatic window: one chunk per sequence; larger windows cost memory for nothing."""

_MEAN, _POOLINGS = 1, (1, 2, 3)  # llama.cpp's MEAN, CLS, LAST


class LlamaCppEmbeddings(BaseModel, Embeddings):
    """A GGUF model as an embedder through llama.cpp, loaded once per file and settings.

    The pooling stored in the GGUF (mean, CLS or last token) is used, mean pooling when the
    file has none (a chat model such as the embedded SmolLM2: a weak embedder, but a real
    one). A text longer than ``n_ctx`` tokens raises :class:`ContextOverflowError`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: str = Field(description="Path of the .gguf file.")
    n_ctx: int | None = Field(
        default=None, ge=8, description="Most tokens in one text. Empty: the trained context, at most 2048."
    )
    n_threads: int | None = Field(
        default=None, ge=1, le=512, description="CPU threads. Empty: physical cores."
    )
    n_gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        description="Layers on the GPU: -1 all, 0 none. Empty: all if llama.cpp has a GPU.",
    )

    model_wait_timeout: float = Field(
        default=Settings.model_fields["model_wait_timeout"].default,
        ge=0,
        description="Seconds to wait for the shared model while another caller uses it; then ModelBusyError.",
    )

    _loaded: LoadedModel = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Not in a pydantic validator: it would wrap ConfigurationError (a ValueError).
        self._loaded = get_loaded_model(self.load_key())

    def load_key(self) -> LoadKey:
        """The (file, load settings) this embedder shares a loaded model under.

        Raises:
            ConfigurationError: ``n_ctx`` is larger than the model's trained context.
        """
        info = read_gguf_info(validate_gguf_path(self.model_path))
        trained = info.context_length or 512
        if self.n_ctx is not None and self.n_ctx > trained:
            raise ConfigurationError(
                f"n_ctx = {self.n_ctx} is larger than the trained context of {info.path.name}, "
                f"{trained} tokens"
            )
        pooling = info.metadata.get(f"{info.architecture}.pooling_type")
        gpu_layers = self.n_gpu_layers
        if gpu_layers is None:
            gpu_layers = -1 if gpu_offload_supported() else 0
        n_ctx = self.n_ctx or min(trained, DEFAULT_GGUF_CTX)
        return LoadKey(
            path=str(info.path.resolve()),
            n_ctx=n_ctx,
            n_gpu_layers=gpu_layers,
            n_threads=self.n_threads or physical_cores(),
            # A non-causal encoder must see a whole text in one micro-batch.
            n_batch=n_ctx,
            embedding=True,
            pooling=int(pooling) if pooling in _POOLINGS else _MEAN,
        )

    @property
    def loaded(self) -> LoadedModel:
        """The shared loaded model (loaded again if ``unload_all`` freed it)."""
        if self._loaded.closed:
            self._loaded = get_loaded_model(self._loaded.key)
        return self._loaded

    @property
    def model_id(self) -> str:
        """``gguf:<file name>``."""
        return "gguf:" + Path(self.model_path).name

    @property
    def dimension(self) -> int:
        """Length of the vectors (the model's ``n_embd``)."""
        return int(self.loaded.llama.n_embd())

    @property
    def max_tokens(self) -> int:
        """Most tokens in one text, special tokens included (the context window)."""
        return int(self.loaded.llama.n_batch)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer, without BOS/EOS or [CLS]/[SEP]."""
        return len(self.loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``; the result is in the order of ``texts``."""
        return self._embed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self._embed([text])[0]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        loaded = self.loaded
        llama = loaded.llama
        limit = int(llama.n_batch)
        for i, text in enumerate(texts):
            n = len(llama.tokenize(text.encode("utf-8")))  # as Llama.embed counts, specials included
            if n == 0:  # no BOS and no text: llama.cpp cannot decode zero tokens
                texts[i] = " "
            elif n > limit:
                raise ContextOverflowError(
                    f"text {i} has {n} tokens but {self.model_id} embeds at most {limit} - split it "
                    "into smaller chunks (count them with count_tokens), or raise n_ctx",
                    prompt_tokens=n,
                    n_ctx=limit,
                )
        lease = loaded.lock.acquire(wait_timeout=self.model_wait_timeout)
        try:
            with profiling.phase("embed", texts=len(texts)):
                vectors = llama.embed(texts, normalize=True, truncate=False)
        finally:
            lease.release()
        return [[float(x) for x in v] for v in vectors]
