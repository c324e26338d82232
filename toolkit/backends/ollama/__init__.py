"""Ollama backend: a chat model for a local Ollama server, and the server's facts.

- :mod:`~toolkit.backends.ollama.model`: :class:`ToolkitChatOllama` and :func:`build_chat_ollama`.
- :mod:`~toolkit.backends.ollama.client`: the server's errors in the toolkit's terms
  (:func:`translated_errors`), ``/api/show``, ``/api/tags`` and the context size to send.
- :mod:`~toolkit.backends.ollama.limits`: the overall deadline and token cap every request
  obeys (httpx transports).
- :mod:`~toolkit.backends.ollama.tool_text`: tool calls a model wrote as text, read back.

Names are imported on first use, so importing this package loads no HTTP client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "DEFAULT_DEADLINE",
    "AsyncLimitedTransport",
    "LimitedTransport",
    "ToolkitChatOllama",
    "build_chat_ollama",
    "list_ollama_models",
    "ollama_context_size",
    "show_ollama_model",
    "translate_ollama_error",
    "translated_errors",
]

_LAZY = {
    "DEFAULT_DEADLINE": "toolkit.backends.ollama.client",
    "AsyncLimitedTransport": "toolkit.backends.ollama.limits",
    "LimitedTransport": "toolkit.backends.ollama.limits",
    "ToolkitChatOllama": "toolkit.backends.ollama.model",
    "build_chat_ollama": "toolkit.backends.ollama.model",
    "list_ollama_models": "toolkit.backends.ollama.client",
    "ollama_context_size": "toolkit.backends.ollama.client",
    "show_ollama_model": "toolkit.backends.ollama.client",
    "translate_ollama_error": "toolkit.backends.ollama.client",
    "translated_errors": "toolkit.backends.ollama.client",
}

if TYPE_CHECKING:
    from toolkit.backends.ollama.client import (
        DEFAULT_DEADLINE,
        list_ollama_models,
        ollama_context_size,
        show_ollama_model,
        translate_ollama_error,
        translated_errors,
    )
    from toolkit.backends.ollama.limits import AsyncLimitedTransport, LimitedTransport
    from toolkit.backends.ollama.model import ToolkitChatOllama, build_chat_ollama

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
