"""The web app's "Get Llama 3.2" panel: ``llama-toolkit pull`` with a Streamlit progress bar.

Pulling writes into the server's data folder (or makes the server's Ollama download), so it
is a server action, offered only to someone the operator trusts with the server: when
``LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS`` is set, or when the app listens on a loopback address
without ``--auth`` (only people on this machine can reach it, as with ``llama-toolkit ui``'s
default ``--host 127.0.0.1``). A shared app (``--auth`` or ``--insecure`` on another address)
shows the command to run instead.
"""

from __future__ import annotations

from typing import Any, cast

import streamlit as st

from toolkit.backends.pull import DEFAULT_QUANT, HUB_QUANTS, Via, pull_model
from toolkit.settings import Settings
from toolkit.ui.access import is_loopback
from toolkit.ui.citations import escape_markdown
from toolkit.ui.components import show_errors
from toolkit.ui.gate import auth_required

__all__ = ["pull_allowed", "render_pull_panel"]

_DEFAULT = "default"
_VIA = {"auto": "Ollama if it answers, else the hub", "ollama": "Ollama", "hub": "Hugging Face hub"}


def pull_allowed(settings: Settings, *, address: str | None, auth: bool) -> bool:
    """Whether a browser user may start a pull (see the module docstring for the rule)."""
    if settings.ui_allow_server_paths:
        return True
    return not auth and bool(address) and is_loopback(address)


class _StreamlitProgress:
    """A ``progress(label, done, total)`` callback drawing one ``st.progress`` bar."""

    def __init__(self) -> None:
        self.bar: Any = st.progress(0.0, text="starting")
        self._shown: tuple[str, int] = ("", -1)

    def __call__(self, label: str, done: int, total: int) -> None:
        percent = min(100, done * 100 // total) if total else 0
        if (label, percent) != self._shown:  # Ollama sends many lines a second: redraw on change
            self._shown = (label, percent)
            self.bar.progress(percent / 100, text=f"{label} ({percent} %)" if total else label)


def render_pull_panel(settings: Settings) -> None:
    """Draw the panel: size, quantization, source and a Pull button, or why it is not offered."""
    address = st.get_option("server.address")
    if not pull_allowed(settings, address=str(address) if address else None, auth=auth_required()):
        st.caption(
            "Getting Llama 3.2 writes on the server: ask the operator to run `llama-toolkit pull llama3.2` "
            "(or to allow it here with LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS)."
        )
        return
    model = st.selectbox("Llama 3.2 model", ["llama3.2:3b", "llama3.2:1b"], key="ui_pull_model")
    quant = st.selectbox(
        "Quantization",
        [_DEFAULT, *HUB_QUANTS],
        key="ui_pull_quant",
        help=f"Default: Ollama's own tag, or {DEFAULT_QUANT} from the hub.",
    )
    via = st.radio("Source", list(_VIA), key="ui_pull_via", format_func=_VIA.__getitem__, horizontal=True)
    if not st.button("Pull", key="ui_pull", icon=":material/download:"):
        return
    progress = _StreamlitProgress()
    with show_errors("pull the model"):
        result = pull_model(
            str(model),
            settings,
            quant=None if quant == _DEFAULT else str(quant),
            via=cast(Via, via or "auto"),
            progress=progress,
        )
        progress.bar.progress(1.0, text="done")
        from toolkit.backends.auto import clear_backend_cache

        clear_backend_cache()  # backend=auto chooses again, now with the new model
        st.success(escape_markdown(result.summary), icon=":material/check_circle:")
