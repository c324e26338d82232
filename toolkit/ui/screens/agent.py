"""Page script: Streamlit runs it on every rerun of the page (see toolkit/ui/app.py)."""

from toolkit.ui.pages.agent import render

render()
