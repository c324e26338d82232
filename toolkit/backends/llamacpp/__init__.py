"""llama.cpp backend: :class:`ChatLlama`, a LangChain chat model over an in-process GGUF.

- :mod:`~toolkit.backends.llamacpp.model`: :class:`ChatLlama` (fields, tools, structured output).
- :mod:`~toolkit.backends.llamacpp.decoding`: the token loop, prompt evaluation with KV reuse,
  stop sequences.
- :mod:`~toolkit.backends.llamacpp.native`: the per-token loop, llama.cpp's own sampler chain.
- :mod:`~toolkit.backends.llamacpp.messages`: LangChain messages to chat-template messages.
- :mod:`~toolkit.backends.llamacpp.grammar`: grammars, applied one token at a time.
- :mod:`~toolkit.backends.llamacpp.runtime`: the process's one registry of loaded models
  (chat and embedding), :func:`~toolkit.backends.llamacpp.runtime.unload_all`.

Names are imported on first use, so importing this package (or its ``runtime``) loads no
llama.cpp and no LangChain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = ["ChatLlama"]

_LAZY = {"ChatLlama": "toolkit.backends.llamacpp.model"}

if TYPE_CHECKING:
    from toolkit.backends.llamacpp.model import ChatLlama

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
