"""The Streamlit web app (``streamlit run streamlit_app.py`` or ``llama-toolkit ui``).

``toolkit.ui.app.run`` draws it; the pages in ``toolkit.ui.pages`` (``chat``, ``documents``,
``ask``, ``summarize``, ``translate``, ``agent``) build on the public chains, retrievers and
agents and on the app infrastructure here (``resources``, ``sidebar``, ``components``,
``text_input``). ``history``, ``uploads`` and ``citations`` are plain Python, tested without
Streamlit. Importing this package imports nothing heavy; the Streamlit modules under it do.
"""

__all__: list[str] = []
