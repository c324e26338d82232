"""Model backends: llama.cpp in process (:class:`ChatLlama`) and Ollama (:class:`ToolkitChatOllama`).

Import the classes from their modules or from :mod:`toolkit`; importing this package
loads neither llama.cpp nor an HTTP client.
"""

from __future__ import annotations

__all__: list[str] = []
