"""The settings sidebar: backend, model, context size, GPU offload, temperature, doctor facts.

Choices live in this browser session's state; the model they name is loaded once per process
(:func:`toolkit.ui.resources.chat_model`) and shared by every session that picks the same one.
The GGUF path box is shown only when the operator allows server paths
(``LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS``); the context size is bounded by the model's trained
context and the KV-cache budget (:func:`toolkit.ui.resources.context_cap`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from toolkit.ui import resources as res
from toolkit.ui.citations import escape_markdown

__all__ = ["render_settings"]

_BACKENDS = {
    "auto": "Auto (Llama 3.2 when here)",
    "llamacpp": "llama.cpp (in process)",
    "ollama": "Ollama server",
    "openai": "OpenAI-compatible server",
}


def _init_state() -> None:
    """Seed the widgets from the configuration on a session's first run."""
    base = res.settings()
    state = st.session_state
    state.setdefault(res.BACKEND_KEY, base.backend)
    state.setdefault(res.MODEL_KEY, base.model or "")
    state.setdefault(res.N_CTX_KEY, base.n_ctx)
    state.setdefault(res.GPU_KEY, base.n_gpu_layers)
    state.setdefault(res.TEMPERATURE_KEY, base.temperature)
    state.setdefault(res.COLLECTION_KEY, base.collection)


def _model_input(backend: str) -> None:
    if backend == "auto":
        picked = res.auto_choice()
        name = Path(picked.model).name if picked.backend == "llamacpp" else picked.model
        st.caption(escape_markdown(f"Auto chose {picked.backend}: {name}. Why: {picked.reason}."))
        return
    if backend == "openai":
        if not res.settings().base_url:
            st.warning("Set LLAMA_TOOLKIT_BASE_URL to the server's URL first.", icon=":material/link_off:")
        st.text_input("Model name", key=res.MODEL_KEY, placeholder="empty: the server's first model")
        return
    if backend == "llamacpp":
        if not res.allowed_roots():
            st.caption("GGUF model: the one this server is configured with (server paths are off).")
            return
        st.text_input(
            "GGUF model file",
            key=res.MODEL_KEY,
            placeholder="empty: embedded SmolLM2-135M",
            help="Path to a GGUF file inside "
            + ", ".join(str(r) for r in res.allowed_roots())
            + " (the folders this server allows)",
        )
        return
    host = res.settings().ollama_host
    pulled = res.pulled_models(host)
    if isinstance(pulled, str):
        st.warning(pulled, icon=":material/cloud_off:")
        st.text_input("Ollama model", key=res.MODEL_KEY, placeholder="llama3.2")
        return
    if not pulled:
        st.warning(f"No models pulled at {host}: run `ollama pull llama3.2`.", icon=":material/download:")
        st.text_input("Ollama model", key=res.MODEL_KEY, placeholder="llama3.2")
        return
    current = st.session_state.get(res.MODEL_KEY) or ""
    if current not in pulled:
        match = next((p for p in pulled if p.split(":")[0] == (current or "llama3.2")), pulled[0])
        st.session_state[res.MODEL_KEY] = match
    st.selectbox("Ollama model", pulled, key=res.MODEL_KEY, help=f"Models pulled at {host}")


def render_settings() -> None:
    """Draw the settings in the sidebar."""
    _init_state()
    with st.sidebar.expander("Model settings", icon=":material/tune:"):
        backend = st.radio(
            "Backend",
            list(_BACKENDS),
            key=res.BACKEND_KEY,
            format_func=_BACKENDS.__getitem__,
        )
        _model_input(str(backend))
        state = st.session_state
        choice = res.current_choice()
        cap = res.context_cap(choice.backend, choice.model)
        if state.get(res.N_CTX_KEY) is not None and state[res.N_CTX_KEY] > cap:
            state[res.N_CTX_KEY] = cap
        st.number_input(
            "Context size (tokens)",
            min_value=256,
            max_value=cap,
            step=1024,
            key=res.N_CTX_KEY,
            placeholder="auto: the model's own",
            help=f"At most {cap} (the model's trained context within the KV-cache budget). "
            "Empty: the model's trained context, capped by the KV-cache budget.",
        )
        st.number_input(
            "GPU offload layers",
            min_value=-1,
            max_value=1000,
            key=res.GPU_KEY,
            placeholder="auto",
            help="-1 all, 0 none (CPU). Empty: all when llama.cpp was built with a GPU backend.",
        )
        st.slider("Temperature", 0.0, 2.0, step=0.05, key=res.TEMPERATURE_KEY)
    with st.sidebar.expander("Get Llama 3.2", icon=":material/download:"):
        from toolkit.ui.pull_panel import render_pull_panel

        render_pull_panel(res.settings())
    choice = res.current_choice()
    refused = st.session_state.get(res.REFUSED_KEY)
    if refused:
        st.sidebar.error(escape_markdown(refused), icon=":material/block:")
    st.sidebar.caption(f"Model: {choice.label()}")
    with st.sidebar.expander("Doctor", icon=":material/stethoscope:"):
        if st.button("Check the setup", key="ui_doctor"):
            facts = dict(res.doctor_facts(choice))
            ok = facts.pop("ok", False)
            (st.success if ok else st.error)("ready" if ok else "not ready - see below")
            st.table({"": {k: str(v) for k, v in facts.items()}})
