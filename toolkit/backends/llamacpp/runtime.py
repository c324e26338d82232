"""The one registry of loaded llama.cpp models in a process.

One :class:`LoadedModel` exists per (file, load settings): every chat model and every
GGUF embedder pointing at the same file and settings shares it, and its gate (a
:class:`~toolkit.backends.llamacpp.gate.ModelGate`, a lock that cannot deadlock) keeps
concurrent threads (Streamlit sessions, ``batch``) from interleaving on its single
context. :func:`unload_all` frees them all, chat and embedding models alike.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit import profiling
from toolkit.backends.llamacpp.gate import ModelGate
from toolkit.errors import ModelLoadError
from toolkit.gguf import GGUFInfo, read_gguf_info

if TYPE_CHECKING:
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

__all__ = [
    "POOLING_UNSPECIFIED",
    "LoadKey",
    "LoadedModel",
    "get_loaded_model",
    "loaded_models",
    "quiet_stderr",
    "unload_all",
]

POOLING_UNSPECIFIED = -1
"""llama.cpp's ``LLAMA_POOLING_TYPE_UNSPECIFIED``: the pooling the GGUF declares."""


@dataclass(frozen=True)
class LoadKey:
    """The settings that make two loaded models different.

    ``embedding`` loads the file as an embedder: llama.cpp then pools hidden states
    (``pooling``, one of its ``LLAMA_POOLING_TYPE_*``) instead of producing logits.
    """

    path: str
    n_ctx: int
    n_gpu_layers: int
    n_threads: int
    n_batch: int
    vocab_only: bool = False
    embedding: bool = False
    pooling: int = POOLING_UNSPECIFIED


@dataclass
class LoadedModel:
    """A ``llama_cpp.Llama`` with the facts and the lock that go with it.

    ``batch_evaluated`` and ``n_tokens_mark`` are the decoder's notes on the KV cache:
    how many leading positions a prompt evaluation (not a one-token decode) computed,
    and ``llama.n_tokens`` when that was noted (another value means someone else has
    used the context since, and the note no longer holds). Read and written under ``lock``,
    the model's :class:`ModelGate`; when the gate takes the model from a paused stream,
    :meth:`forget_state` drops the notes, so the next caller reuses nothing it did not make.
    """

    key: LoadKey
    llama: Llama
    info: GGUFInfo
    lock: ModelGate = field(default_factory=ModelGate)
    closed: bool = False
    batch_evaluated: int = 0
    n_tokens_mark: int = 0
    _formatters: dict[str, Jinja2ChatFormatter] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.lock.name = Path(self.key.path).name
        self.lock.on_revoke = self.forget_state

    def forget_state(self) -> None:
        """Drop the KV-cache notes and any sampler a revoked stream left on the model."""
        self.batch_evaluated = 0
        self.n_tokens_mark = -1
        vars(self.llama).pop("sample", None)

    @property
    def n_ctx(self) -> int:
        """The context window in tokens."""
        return int(self.llama.n_ctx())

    def token_text(self, token_id: int) -> str:
        """The text of one token (empty for a negative id: the model has no such token)."""
        if token_id < 0:
            return ""
        # The call llama-cpp-python makes for its own chat handler.
        return str(self.llama._model.token_get_text(token_id))

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


def get_loaded_model(key: LoadKey, *, verbose: bool = False) -> LoadedModel:
    """Return the shared model for ``key``, loading it on first use.

    Args:
        key: File and load settings.
        verbose: Show llama.cpp's load log on stderr.

    Raises:
        ModelLoadError: llama.cpp could not load the file.
    """
    with _registry_lock:
        loaded = _registry.get(key)
        if loaded is not None:
            return loaded
        with profiling.phase("load", models=1):
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
        "embedding": key.embedding,
        "pooling_type": key.pooling,
        # RoPE base/scale stay 0 = "from the GGUF": overriding them changes the model's outputs.
        "verbose": verbose,
    }
    try:
        # llama.cpp prints load diagnostics on fd 2 even when not verbose; keep them
        # out of the user's terminal unless they asked for them.
        with contextlib.nullcontext() if verbose else quiet_stderr():
            return Llama(model_path=key.path, **kwargs)
    except (ValueError, RuntimeError, OSError) as exc:
        name = Path(key.path).name
        if key.embedding:
            raise ModelLoadError(f"llama.cpp could not load {name} as an embedding model: {exc}") from exc
        raise ModelLoadError(
            f"llama.cpp could not load {name}: {exc}. The file may be truncated, "
            "of an architecture this llama-cpp-python does not know (upgrade it), or too large "
            "for free memory (lower LLAMA_TOOLKIT_N_CTX or LLAMA_TOOLKIT_N_GPU_LAYERS)"
        ) from exc


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` for the block (C libraries write there directly)."""
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
