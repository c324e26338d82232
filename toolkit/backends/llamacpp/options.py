"""The options of a :class:`~toolkit.backends.llamacpp.ChatLlama` call, and the defaults it shares
with :class:`~toolkit.settings.Settings`."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from toolkit.backends.llamacpp.grammar import grammar_for
from toolkit.errors import ConfigurationError
from toolkit.settings import Settings

__all__ = ["CALL_OPTIONS", "SAMPLING_OPTIONS", "SETTINGS_FIELDS", "call_params", "setting_default"]

SETTINGS_FIELDS = (
    "n_ctx",
    "kv_cache_budget_mb",
    "n_gpu_layers",
    "n_threads",
    "n_batch",
    "temperature",
    "top_p",
    "repeat_penalty",
    "max_tokens",
    "seed",
    "chat_template",
    "model_wait_timeout",
    "model_idle_timeout",
)
"""ChatLlama fields that are also settings: their defaults are the settings' defaults."""

SAMPLING_OPTIONS = ("temperature", "top_p", "top_k", "min_p", "repeat_penalty", "max_tokens", "seed")
"""Call options that default to the ChatLlama field of the same name."""

CALL_OPTIONS = frozenset(
    {
        *SAMPLING_OPTIONS,
        "response_format",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "tool_examples",
        "tool_call_examples",
    }
)
"""Every option a call (``invoke(..., **options)``, ``bind(**options)``) accepts."""


def setting_default(name: str) -> Any:
    """The default of setting ``name``: the one source of the fields' defaults."""
    return Settings.model_fields[name].default


def call_params(
    fields: Mapping[str, Any], stop: list[str] | None, kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """One call's options: ``kwargs`` over the model's ``fields`` (its sampling fields and ``stop``).

    The seed is drawn at random when neither gives one; ``repeatable`` says whether the
    caller expects the same answer to the same request (a seed, or temperature 0).

    Raises:
        ConfigurationError: An option is unknown, or ``response_format`` is invalid.
    """
    unknown = set(kwargs) - CALL_OPTIONS
    if unknown:
        raise ConfigurationError(
            f"unknown generation option(s) {sorted(unknown)} for ChatLlama; known: {sorted(CALL_OPTIONS)}"
        )
    params = {name: kwargs.get(name, fields[name]) for name in SAMPLING_OPTIONS}
    seed = params["seed"]
    # Greedy decoding is expected to repeat itself as much as a seeded call.
    params["repeatable"] = seed is not None or params["temperature"] == 0
    if seed is None:
        params["seed"] = random.randrange(2**31)
    return {
        **params,
        "stop": [*(fields.get("stop") or []), *(stop or [])],
        "grammar": grammar_for(kwargs.get("response_format")),
        "tools": kwargs.get("tools") or None,
        "tool_choice": kwargs.get("tool_choice"),
        "parallel_tool_calls": bool(kwargs.get("parallel_tool_calls")),
        "tool_examples": kwargs.get("tool_examples") or {},
        "tool_call_examples": kwargs.get("tool_call_examples") or {},
    }
