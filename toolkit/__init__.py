"""llama-toolkit: Llama 3.2 on your own machine, through LangChain.

Quick start::

    from toolkit import get_chat_model, get_embeddings, summarize_chain, translate_chain

    llm = get_chat_model()              # embedded SmolLM2-135M, in process, offline
    print(llm.invoke("Tell me a joke").content)
    print(summarize_chain(llm, length="short").invoke(long_text))
    print(translate_chain(llm, to="fr").invoke("I love programming."))
    vectors = get_embeddings().embed_documents(["some text"])  # offline MiniLM: 384 floats

``get_chat_model()`` returns a plain LangChain ``BaseChatModel``, and every chain factory
takes any ``BaseChatModel`` (yours, or another provider's) and returns a ``Runnable`` with
typed input and output schemas, ready for LCEL (``|``, ``RunnableParallel``...). Pass
``ProgressBar()`` as a callback to draw a long chain's progress, in a terminal or a notebook.

The rest of the public API lives in three sibling packages, each with an explicit ``__all__``:

- ``retrievers``: RAG over your documents (``open_index``, ``ingest``, ``HybridRetriever``,
  ``rag_chain``).
- ``agents``: tool-calling agents (``create_assistant``, ``create_research_agent``,
  ``stream_steps``).
- ``tools``: the agents' LangChain tools (``default_tools``, ``calculator``...).

Nothing heavy happens at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__version__ = "0.1.0"

__all__ = [
    "AccessDeniedError",
    "BackendUnavailableError",
    "ChatLlama",
    "ChromaUnreachableError",
    "ConfigurationError",
    "ContextOverflowError",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentTooComplexError",
    "DocumentTooLongError",
    "EmbeddingMismatchError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "GenerationLimitError",
    "GenerationTimeoutError",
    "IndexNotFoundError",
    "InvalidModelFileError",
    "LimitExceededError",
    "ModelBusyError",
    "ModelError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelNotPulledError",
    "ModelReentryError",
    "OllamaResponseError",
    "OllamaUnreachableError",
    "ProgressBar",
    "Settings",
    "StoreLockedError",
    "ToolkitChatOllama",
    "ToolkitError",
    "UnknownLanguageError",
    "UnsupportedDocumentError",
    "UnsupportedInputError",
    "__version__",
    "embedded_model_path",
    "get_chat_model",
    "get_embeddings",
    "get_settings",
    "summarize_chain",
    "translate_chain",
]

_LAZY = {
    "ChatLlama": "toolkit.backends.llamacpp",
    "ToolkitChatOllama": "toolkit.backends.ollama",
    "Settings": "toolkit.settings",
    "get_settings": "toolkit.settings",
    "get_chat_model": "toolkit.backends.factory",
    "embedded_model_path": "toolkit.embedded",
    "get_embeddings": "toolkit.backends.embeddings",
    "summarize_chain": "toolkit.chains.summarize",
    "translate_chain": "toolkit.chains.translate",
    "ProgressBar": "toolkit.progress",
    **{
        name: "toolkit.errors"
        for name in (
            "AccessDeniedError",
            "BackendUnavailableError",
            "ChromaUnreachableError",
            "ConfigurationError",
            "ContextOverflowError",
            "DocumentError",
            "DocumentNotFoundError",
            "DocumentTooComplexError",
            "DocumentTooLongError",
            "EmbeddingMismatchError",
            "EmptyDocumentError",
            "EncryptedDocumentError",
            "GenerationLimitError",
            "GenerationTimeoutError",
            "IndexNotFoundError",
            "InvalidModelFileError",
            "LimitExceededError",
            "ModelBusyError",
            "ModelError",
            "ModelLoadError",
            "ModelNotFoundError",
            "ModelNotPulledError",
            "ModelReentryError",
            "OllamaResponseError",
            "OllamaUnreachableError",
            "StoreLockedError",
            "ToolkitError",
            "UnknownLanguageError",
            "UnsupportedDocumentError",
            "UnsupportedInputError",
        )
    },
}

if TYPE_CHECKING:
    from toolkit.backends.embeddings import get_embeddings
    from toolkit.backends.factory import get_chat_model
    from toolkit.backends.llamacpp import ChatLlama
    from toolkit.backends.ollama import ToolkitChatOllama
    from toolkit.chains.summarize import summarize_chain
    from toolkit.chains.translate import translate_chain
    from toolkit.embedded import embedded_model_path
    from toolkit.errors import (
        AccessDeniedError,
        BackendUnavailableError,
        ChromaUnreachableError,
        ConfigurationError,
        ContextOverflowError,
        DocumentError,
        DocumentNotFoundError,
        DocumentTooComplexError,
        DocumentTooLongError,
        EmbeddingMismatchError,
        EmptyDocumentError,
        EncryptedDocumentError,
        GenerationLimitError,
        GenerationTimeoutError,
        IndexNotFoundError,
        InvalidModelFileError,
        LimitExceededError,
        ModelBusyError,
        ModelError,
        ModelLoadError,
        ModelNotFoundError,
        ModelNotPulledError,
        ModelReentryError,
        OllamaResponseError,
        OllamaUnreachableError,
        StoreLockedError,
        ToolkitError,
        UnknownLanguageError,
        UnsupportedDocumentError,
        UnsupportedInputError,
    )
    from toolkit.progress import ProgressBar
    from toolkit.settings import Settings, get_settings


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
