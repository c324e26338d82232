"""The Streamlit app: page navigation and the settings sidebar.

``streamlit_app.py`` (and ``llama-toolkit ui``) call :func:`run`. Each page is a module of
``toolkit/ui/pages/`` with a ``render()``, run by a two-line script in ``toolkit/ui/screens/``
(``st.Page`` takes a callable too, but ``AppTest.switch_page`` reaches only file pages). The
pages build on the public chains, retrievers and agents and hold no model logic of their own.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

__all__ = ["PAGES", "run"]

_SCREENS = Path(__file__).parent / "screens"

PAGES = {
    # file: (title, icon)
    "chat.py": ("Chat", ":material/chat:"),
    "documents.py": ("Documents", ":material/folder_open:"),
    "ask.py": ("Ask your documents", ":material/quick_reference:"),
    "summarize.py": ("Summarize", ":material/summarize:"),
    "translate.py": ("Translate", ":material/translate:"),
    "agent.py": ("Agent", ":material/smart_toy:"),
}


def run() -> None:
    """Draw the app for this run of the script."""
    st.set_page_config(page_title="llama-toolkit", page_icon=":material/pets:", layout="wide")
    from toolkit.ui.gate import sign_in

    if not sign_in():  # --auth and not signed in yet: only the sign-in form is drawn
        return
    pages = [
        st.Page(_SCREENS / file, title=title, icon=icon, default=file == "chat.py")
        for file, (title, icon) in PAGES.items()
    ]
    page = st.navigation(pages)
    from toolkit.ui.sidebar import render_settings

    render_settings()
    page.run()
