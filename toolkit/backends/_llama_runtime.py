"""Loaded llama.cpp models, shared per process.

One :class:`LoadedModel` exists per (file, load settings) in a process. Every chat model
instance pointing at the same file and settings shares it, and a lock keeps concurrent
threads (Streamlit sessions, ``batch``) from interleaving on its single context.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import ConfigurationError, ModelLoadError
from toolkit.gguf import GGUFInfo, read_gguf_info

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

__all__ = ["LoadKey", "LoadedModel", "get_loaded_model", "loaded_models", "resolve_n_ctx", "unload_all"]

_MIN_AUTO_CTX = 512


@dataclass(frozen=True)
class LoadKey:
    """The settings that make two loaded models different."""

    path: str
    n_ctx: int
    n_gpu_layers: int
    n_threads: int
    n_batch: int
    vocab_only: bool = False


@dataclass
class LoadedModel:
    """A ``llama_cpp.Llama`` with the facts and the lock that go with it."""

    key: LoadKey
    llama: Llama
    info: GGUFInfo
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False
    _formatters: dict[str, Jinja2ChatFormatter] = field(default_factory=dict)

    @property
    def n_ctx(self) -> int:
        return int(self.llama.n_ctx())

    def token_text(self, token_id: int) -> str:
        if token_id < 0:
            return ""
        return self.llama._model.token_get_text(
            token_id
        )  # the call llama-cpp-python makes for its chat handler

    def formatter(self, template: str) -> Jinja2ChatFormatter:
        """A compiled chat template, cached per template text."""
        cached = self._formatters.get(template)
        if cached is None:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            cached = Jinja2ChatFormatter(
                template=template,
                eos_token=self.token_text(self.llama.token_eos()),
                bos_token=self.token_text(self.llama.token_bos()),
            )
            self._formatters[template] = cached
        return cached


_registry: dict[LoadKey, LoadedModel] = {}
_registry_lock = threading.Lock()


def resolve_n_ctx(info: GGUFInfo, requested: int | None, budget_mb: int) -> int:
    """The context window to allocate.

    An explicit request is honoured up to the model's trained context. Otherwise the
    trained context is used, capped by what ``budget_mb`` of f16 KV cache holds.
    """
    trained = info.context_length
    if requested is not None:
        if trained is not None and requested > trained:
            raise ConfigurationError(
                f"n_ctx (LLAMA_TOOLKIT_N_CTX) = {requested} is larger than {info.name}'s trained "
                f"context of {trained} tokens - set it to {trained} or less"
            )
        return requested
    trained = trained or 4096
    per_token = info.kv_bytes_per_token()
    if not per_token:
        return trained
    fit = budget_mb * 1024 * 1024 // per_token
    if fit >= trained:
        return trained
    return max(_MIN_AUTO_CTX, fit // 256 * 256)


def get_loaded_model(key: LoadKey, *, verbose: bool = False) -> LoadedModel:
    """Return the shared model for ``key``, loading it on first use.

    Args:
        key: File and load settings.
        verbose: Show llama.cpp's load log on stderr.
    """
    with _registry_lock:
        loaded = _registry.get(key)
        if loaded is not None:
            return loaded
        info = read_gguf_info(key.path)
        llama = _load(key, verbose)
        loaded = LoadedModel(key=key, llama=llama, info=info)
        _registry[key] = loaded
        return loaded


def _load(key: LoadKey, verbose: bool) -> Llama:
    from llama_cpp import Llama

    kwargs: dict[str, Any] = {
        "n_ctx": key.n_ctx,
        "n_batch": min(key.n_batch, key.n_ctx),
        "n_ubatch": min(key.n_batch, key.n_ctx),
        "n_gpu_layers": key.n_gpu_layers,
        "n_threads": key.n_threads,
        "n_threads_batch": key.n_threads,
        "vocab_only": key.vocab_only,
        # RoPE base/scale stay 0 = "from the GGUF": overriding them changes the model's outputs.
        "verbose": verbose,
    }
    try:
        # llama.cpp prints load diagnostics on fd 2 even when not verbose; keep them
        # out of the user's terminal unless they asked for them.
        with contextlib.nullcontext() if verbose else _quiet_stderr():
            return Llama(model_path=key.path, **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(
            f"llama.cpp could not load {Path(key.path).name}: {exc}. The file may be truncated, "
            "of an architecture this llama-cpp-python does not know (upgrade it), or too large "
            "for free memory (lower LLAMA_TOOLKIT_N_CTX or LLAMA_TOOLKIT_N_GPU_LAYERS)"
        ) from exc


@contextlib.contextmanager
def _quiet_stderr() -> Any:
    try:
        fd = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            try:
                yield
            finally:
                os.dup2(fd, 2)
    finally:
        os.close(fd)


def loaded_models() -> list[LoadedModel]:
    """The models loaded in this process."""
    with _registry_lock:
        return list(_registry.values())


def unload_all() -> None:
    """Free every loaded model (tests and long-running apps switching models)."""
    with _registry_lock:
        models = list(_registry.values())
        _registry.clear()
    for loaded in models:
        with loaded.lock:
            loaded.closed = True
            loaded.llama.close()
