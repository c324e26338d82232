"""The Streamlit web app (``streamlit run streamlit_app.py`` or ``llama-toolkit ui``).

``toolkit.ui.app.run`` draws it; the page views (``chat``, ``documents``, ``ask``,
``summarize``, ``translate``, ``agent``) build on the public chains, retrievers and agents.
Importing this package imports nothing heavy; the modules under it import Streamlit.
"""

__all__: list[str] = []
