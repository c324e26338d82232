"""The context window to allocate for a model, shared by both backends.

llama.cpp and Ollama both size the KV cache from it; the rule is the same for each: the
model's trained context, unless a budget of KV-cache memory holds less.
"""

from __future__ import annotations

from toolkit.errors import ConfigurationError
from toolkit.gguf import GGUFInfo

__all__ = ["MIN_AUTO_CTX", "resolve_n_ctx"]

MIN_AUTO_CTX = 512
"""The smallest window the automatic choice picks, however small the KV budget."""


def resolve_n_ctx(info: GGUFInfo, requested: int | None, budget_mb: int) -> int:
    """The context window to allocate.

    An explicit request is honoured up to the model's trained context. Otherwise the
    trained context is used, capped by what ``budget_mb`` of f16 KV cache holds.

    Args:
        info: The model's GGUF facts (trained context, KV bytes per token).
        requested: The window asked for (``n_ctx``), or None for the automatic choice.
        budget_mb: KV-cache memory the automatic choice may use, in MiB.

    Raises:
        ConfigurationError: ``requested`` is larger than the trained context.
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
    return max(MIN_AUTO_CTX, fit // 256 * 256)
