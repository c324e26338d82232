"""What the app loads once per process and shares between browser sessions.

The chat model, the document indexes and the conversation store are ``st.cache_resource``
objects: the first session that needs one builds it, every other session reuses it. The
llama.cpp model serialises generation behind its own lock, so two sessions asking at once
take turns and both get complete answers. A failed load is not cached: the next click retries.

What a browser user may choose is bounded here, whatever the session state holds: a GGUF path
only under ``Settings.ui_allow_server_paths`` (else the configured model), a context size only
up to :func:`context_cap`. :func:`owner` names whose saved chats the session sees.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import streamlit as st
from langchain_core.language_models import BaseChatModel

from toolkit.backends.auto import BackendChoice
from toolkit.settings import DEFAULT_OLLAMA_MODEL, Settings, get_settings

__all__ = [
    "ModelChoice",
    "allowed_roots",
    "chat_model",
    "context_cap",
    "conversation_store",
    "current_choice",
    "current_collection",
    "data_dir",
    "doctor_facts",
    "document_index",
    "forget_indexes",
    "get_llm",
    "owner",
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
OWNER_KEY = "ui_owner"  # set by the sign-in gate (toolkit.ui.gate) on every run
REFUSED_KEY = "ui_refused"  # why this run's sidebar choice was not used (one line), if it was not


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
        defaults = {
            "llamacpp": "embedded SmolLM2-135M",
            "ollama": DEFAULT_OLLAMA_MODEL,
            "openai": "the server's first model",
        }
        return f"{self.backend}: {defaults.get(self.backend, 'auto')}"


def settings() -> Settings:
    """The configuration from the environment and ``.env`` (read on every run: it is cheap)."""
    return get_settings()


def data_dir() -> Path:
    """The configured data folder, absolute (chat history, Chroma store, uploads)."""
    return Path(os.path.abspath(settings().data_dir.expanduser()))


def allowed_roots() -> list[Path]:
    """The server folders the operator lets browser users name (empty: none, uploads only)."""
    return list(settings().ui_allow_server_paths)


def owner() -> str:
    """Whose saved chats this session sees (see :func:`toolkit.ui.access.owner_of`)."""
    from toolkit.ui.history import LOCAL_OWNER

    return str(st.session_state.get(OWNER_KEY) or LOCAL_OWNER)


def _allowed_model(backend: str, typed: str | None, configured: str | None) -> str | None:
    """The typed GGUF path if the operator allows it, else the configured model (noting why)."""
    if backend != "llamacpp" or not typed or typed == configured:
        return typed
    if not allowed_roots():  # no GGUF box is shown: the value is left over (an Ollama model's name)
        return configured
    from toolkit.errors import AccessDeniedError
    from toolkit.ui.access import server_path

    try:
        return str(server_path(typed, allowed_roots(), "GGUF file"))
    except AccessDeniedError as exc:
        st.session_state[REFUSED_KEY] = f"Not loaded: {exc}."
        return configured


@st.cache_data(show_spinner=False, max_entries=16)
def _gguf_cap(model: str, budget_mb: int) -> int:
    from toolkit.backends.context import resolve_n_ctx
    from toolkit.errors import ToolkitError
    from toolkit.gguf import read_gguf_info
    from toolkit.ui.access import context_limit

    try:
        info = read_gguf_info(model)
    except ToolkitError:  # the load says why; keep the choice bounded meanwhile
        return context_limit(None, None)
    return context_limit(info.context_length, resolve_n_ctx(info, None, budget_mb))


def context_cap(backend: str, model: str | None) -> int:
    """The largest context a browser user may pick: the model's trained context within the KV budget.

    The configured ``n_ctx`` (the operator's choice) is always allowed.
    """
    from toolkit.ui.access import context_limit

    base = settings()
    if backend == "llamacpp":
        cap = _gguf_cap(model or base.resolved_model("llamacpp"), base.kv_cache_budget_mb)
    else:
        cap = context_limit(None, None)
    return max(cap, base.n_ctx or 0)


def auto_choice() -> BackendChoice:
    """What ``backend = auto`` picks for the configuration (cached per process)."""
    from toolkit.backends.auto import choose_backend

    return choose_backend(settings(), notice=False)


def current_choice() -> ModelChoice:
    """The model this session uses: its sidebar choice within what it may pick, else the configured one."""
    base = settings()
    state = st.session_state
    state.pop(REFUSED_KEY, None)
    backend = state.get(BACKEND_KEY, base.backend)
    model: str | None
    if backend == "auto":  # the process's choice (toolkit.backends.auto), shown with its reason
        picked = auto_choice()
        backend, model = picked.backend, picked.model
    else:
        model = _allowed_model(backend, (state.get(MODEL_KEY, base.model) or "").strip() or None, base.model)
    n_ctx = state.get(N_CTX_KEY, base.n_ctx) or None
    if n_ctx is not None:
        n_ctx = min(int(n_ctx), context_cap(backend, model))
    return ModelChoice(
        backend=backend, model=model, n_ctx=n_ctx, n_gpu_layers=state.get(GPU_KEY, base.n_gpu_layers)
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
def _document_index(name: str, data_dir: str, create: bool) -> Any:
    from retrievers import open_index

    return open_index(name, data_dir=Path(data_dir), create=create)


def current_collection() -> str:
    """This session's collection: the one picked on a page, else the ``collection`` setting."""
    return str(st.session_state.get(COLLECTION_KEY) or settings().collection)


def document_index(name: str | None = None, *, create: bool = True) -> Any:
    """The :class:`retrievers.DocumentIndex` named ``name`` (default: this session's collection).

    Args:
        name: The collection; empty: this session's.
        create: Create it when missing; False for pages that only read (a missing one raises
            ``IndexNotFoundError``).
    """
    return _document_index(name or current_collection(), str(settings().data_dir), create)


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
