"""llama-toolkit: Llama 3.2 on your own machine, through LangChain.

Quick start::

    from toolkit import get_chat_model

    llm = get_chat_model()              # embedded SmolLM2-135M, in process, offline
    print(llm.invoke("Tell me a joke").content)

Nothing heavy happens at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit._lazy import lazy_exports

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailableError",
    "ChatLlama",
    "ChromaUnreachableError",
    "ConfigurationError",
    "ContextOverflowError",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentTooLongError",
    "EmbeddingMismatchError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "IndexNotFoundError",
    "InvalidModelFileError",
    "ModelError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelNotPulledError",
    "OllamaUnreachableError",
    "Settings",
    "ToolkitChatOllama",
    "ToolkitError",
    "UnknownLanguageError",
    "UnsupportedDocumentError",
    "UnsupportedInputError",
    "__version__",
    "embedded_model_path",
    "get_chat_model",
    "get_settings",
]

_LAZY = {
    "ChatLlama": "toolkit.backends.llamacpp",
    "ToolkitChatOllama": "toolkit.backends.ollama",
    "Settings": "toolkit.settings",
    "get_settings": "toolkit.settings",
    "get_chat_model": "toolkit.factory",
    "embedded_model_path": "toolkit.embedded",
    **{
        name: "toolkit.errors"
        for name in (
            "BackendUnavailableError",
            "ChromaUnreachableError",
            "ConfigurationError",
            "ContextOverflowError",
            "DocumentError",
            "DocumentNotFoundError",
            "DocumentTooLongError",
            "EmbeddingMismatchError",
            "EmptyDocumentError",
            "EncryptedDocumentError",
            "IndexNotFoundError",
            "InvalidModelFileError",
            "ModelError",
            "ModelLoadError",
            "ModelNotFoundError",
            "ModelNotPulledError",
            "OllamaUnreachableError",
            "ToolkitError",
            "UnknownLanguageError",
            "UnsupportedDocumentError",
            "UnsupportedInputError",
        )
    },
}

if TYPE_CHECKING:
    from toolkit.backends.llamacpp import ChatLlama
    from toolkit.backends.ollama import ToolkitChatOllama
    from toolkit.embedded import embedded_model_path
    from toolkit.errors import (
        BackendUnavailableError,
        ChromaUnreachableError,
        ConfigurationError,
        ContextOverflowError,
        DocumentError,
        DocumentNotFoundError,
        DocumentTooLongError,
        EmbeddingMismatchError,
        EmptyDocumentError,
        EncryptedDocumentError,
        IndexNotFoundError,
        InvalidModelFileError,
        ModelError,
        ModelLoadError,
        ModelNotFoundError,
        ModelNotPulledError,
        OllamaUnreachableError,
        ToolkitError,
        UnknownLanguageError,
        UnsupportedDocumentError,
        UnsupportedInputError,
    )
    from toolkit.factory import get_chat_model
    from toolkit.settings import Settings, get_settings


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
