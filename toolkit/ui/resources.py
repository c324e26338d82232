"""What the app loads once per process and shares between browser sessions.

The chat model, the document indexes and the conversation store are ``st.cache_resource``
objects: the first session that needs one builds it, every other session reuses it. The
llama.cpp model serialises generation behind its own lock, so two sessions asking at once
take turns and both get complete answers. A failed load is not cached: the next click retries.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from langchain_core.language_models import BaseChatModel

from toolkit.settings import DEFAULT_OLLAMA_MODEL, Settings, get_settings

__all__ = [
    "ModelChoice",
    "chat_model",
    "conversation_store",
    "current_choice",
    "current_collection",
    "data_dir",
    "doctor_facts",
    "document_index",
    "forget_indexes",
    "get_llm",
    "pulled_models",
    "settings",
    "stored_collections",
]

# Session-state keys the settings sidebar writes (see toolkit.ui.sidebar).
BACKEND_KEY = "ui_backend"
MODEL_KEY = "ui_model"
N_CTX_KEY = "ui_n_ctx"
GPU_KEY = "ui_n_gpu_layers"
TEMPERATURE_KEY = "ui_temperature"
COLLECTION_KEY = "ui_collection"


@dataclass(frozen=True)
class ModelChoice:
    """The model a session asked for in the sidebar; equal choices share one loaded model."""

    backend: str
    model: str | None
    n_ctx: int | None
    n_gpu_layers: int | None

    def overrides(self) -> dict[str, Any]:
        """The choice as ``get_settings`` overrides (unset fields keep the configuration's)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def label(self) -> str:
        if self.model:
            return f"{self.backend}: {Path(self.model).name if self.backend == 'llamacpp' else self.model}"
        return (
            "llamacpp: embedded SmolLM2-135M"
            if self.backend == "llamacpp"
            else f"ollama: {DEFAULT_OLLAMA_MODEL}"
        )


def settings() -> Settings:
    """The configuration from the environment and ``.env`` (read on every run: it is cheap)."""
    return get_settings()


def data_dir() -> Path:
    """The configured data folder, absolute (chat history, Chroma store, uploads)."""
    return Path(os.path.abspath(settings().data_dir.expanduser()))


def current_choice() -> ModelChoice:
    """The model this session uses: its sidebar choice, else the configured one."""
    base = settings()
    state = st.session_state
    model = state.get(MODEL_KEY, base.model)
    return ModelChoice(
        backend=state.get(BACKEND_KEY, base.backend),
        model=(model or "").strip() or None,
        n_ctx=state.get(N_CTX_KEY, base.n_ctx) or None,
        n_gpu_layers=state.get(GPU_KEY, base.n_gpu_layers),
    )


@st.cache_resource(show_spinner="Loading the model…", max_entries=2)
def chat_model(choice: ModelChoice) -> BaseChatModel:
    """The chat model for ``choice``, built once per process (at most two kept loaded)."""
    from toolkit.backends.factory import chat_model_from_settings

    return chat_model_from_settings(get_settings(**choice.overrides()))


def get_llm(temperature: float | None = None) -> BaseChatModel:
    """This session's chat model at its sidebar temperature (a cheap copy; the weights are shared)."""
    llm = chat_model(current_choice())
    if temperature is None:
        temperature = st.session_state.get(TEMPERATURE_KEY)
    if temperature is None or getattr(llm, "temperature", None) == temperature:
        return llm
    return llm.model_copy(update={"temperature": temperature})


@st.cache_resource(show_spinner=False)
def _conversation_store(path: str) -> Any:
    from toolkit.ui.history import ConversationStore

    return ConversationStore(path)


def conversation_store() -> Any:
    """The saved conversations, in ``<data_dir>/chats.sqlite3``."""
    return _conversation_store(str(settings().data_dir / "chats.sqlite3"))


@st.cache_resource(show_spinner="Opening the document index…")
def _document_index(name: str, data_dir: str) -> Any:
    from retrievers import open_index

    return open_index(name, data_dir=Path(data_dir))


def current_collection() -> str:
    """This session's collection: the one picked on a page, else the ``collection`` setting."""
    return str(st.session_state.get(COLLECTION_KEY) or settings().collection)


def document_index(name: str | None = None) -> Any:
    """The :class:`retrievers.DocumentIndex` named ``name`` (default: this session's collection)."""
    return _document_index(name or current_collection(), str(settings().data_dir))


def stored_collections() -> list[str]:
    """Names of the collections in the configured Chroma store, sorted."""
    from retrievers import list_indexes

    return list_indexes(data_dir=data_dir())


def forget_indexes() -> None:
    """Drop the cached index handles (after a collection was deleted); they reopen cheaply."""
    _document_index.clear()  # st.cache_resource clears a whole function, not one entry


@st.cache_data(ttl=30, show_spinner=False)
def pulled_models(host: str) -> list[str] | str:
    """The models pulled on the Ollama server, or the reason they cannot be listed."""
    from toolkit.backends.ollama import list_ollama_models
    from toolkit.errors import ToolkitError

    try:
        return list_ollama_models(host, timeout=3.0)
    except ToolkitError as exc:
        return str(exc)


@st.cache_data(ttl=60, show_spinner="Checking the setup…")
def doctor_facts(choice: ModelChoice) -> dict[str, Any]:
    """``llama-toolkit doctor`` for ``choice`` (cached for a minute)."""
    from toolkit.backends.doctor import collect_facts

    return collect_facts(get_settings(**choice.overrides()))
