"""OpenAI-compatible backend: a chat model for any server that answers OpenAI's chat API.

vLLM, llama.cpp's ``llama-server``, llama-cpp-python's ``llama_cpp.server``, LM Studio and
``llama-toolkit serve`` all do (``backend = "openai"``, ``LLAMA_TOOLKIT_BASE_URL``).

- :mod:`~toolkit.backends.openai.client`: ``GET /models`` and the server's errors in the
  toolkit's terms (:func:`translated_errors`).
- :mod:`~toolkit.backends.openai.model`: :class:`ToolkitChatOpenAI` and :func:`build_chat_openai`.

Names are imported on first use, so importing this package loads neither openai nor httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "NO_API_KEY",
    "ToolkitChatOpenAI",
    "build_chat_openai",
    "list_openai_models",
    "served_models",
    "translate_openai_error",
    "translated_errors",
]

_LAZY = {
    "NO_API_KEY": "toolkit.backends.openai.client",
    "ToolkitChatOpenAI": "toolkit.backends.openai.model",
    "build_chat_openai": "toolkit.backends.openai.model",
    "list_openai_models": "toolkit.backends.openai.client",
    "served_models": "toolkit.backends.openai.client",
    "translate_openai_error": "toolkit.backends.openai.client",
    "translated_errors": "toolkit.backends.openai.client",
}

if TYPE_CHECKING:
    from toolkit.backends.openai.client import (
        NO_API_KEY,
        list_openai_models,
        served_models,
        translate_openai_error,
        translated_errors,
    )
    from toolkit.backends.openai.model import ToolkitChatOpenAI, build_chat_openai

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
