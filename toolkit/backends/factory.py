"""Backend selection: the configured chat model in one call."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel

from toolkit.settings import Settings, get_settings

__all__ = ["chat_model_from_settings", "get_chat_model"]


def chat_model_from_settings(settings: Settings, *, check: bool = True) -> BaseChatModel:
    """Build the chat model ``settings`` describe.

    ``backend = "auto"`` is resolved first (:mod:`toolkit.backends.auto`).

    Args:
        settings: The configuration.
        check: For Ollama and OpenAI-compatible servers, verify now that the server answers
            and has the model.

    Raises:
        ModelNotFoundError, InvalidModelFileError: the GGUF path is wrong.
        OllamaUnreachableError, ModelNotPulledError: ``check`` and the Ollama server or
            model is missing.
        OpenAIUnreachableError: ``check`` and no server answers at ``base_url``.
    """
    from toolkit.backends.auto import resolve_settings

    settings = resolve_settings(settings)
    if settings.backend == "openai":
        from toolkit.backends.openai import ToolkitChatOpenAI

        return ToolkitChatOpenAI.from_settings(settings, check=check)
    if settings.backend == "ollama":
        from toolkit.backends.ollama import ToolkitChatOllama

        return ToolkitChatOllama.from_settings(settings, check=check)
    from toolkit.backends.llamacpp import ChatLlama
    from toolkit.gguf import validate_gguf_path

    validate_gguf_path(settings.resolved_model())
    return ChatLlama.from_settings(settings)


def get_chat_model(**overrides: Any) -> BaseChatModel:
    """The configured backend's chat model, as a LangChain ``BaseChatModel``.

    Keyword overrides take precedence over the environment and ``.env``::

        from toolkit import get_chat_model

        llm = get_chat_model()                                      # auto: Llama 3.2 if here, else embedded
        llm = get_chat_model(backend="ollama", model="llama3.2")    # a local Ollama server
        llm = get_chat_model(model="Llama-3.2-3B-Instruct-Q4_K_M.gguf", n_ctx=16384)

    Raises:
        ConfigurationError: an override or environment value is invalid or unknown.
        ModelNotFoundError, InvalidModelFileError: the GGUF path is wrong.
        OllamaUnreachableError, ModelNotPulledError: the Ollama server or model is missing.
    """
    return chat_model_from_settings(get_settings(**overrides))
