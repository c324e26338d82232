"""The Streamlit web app (``streamlit run streamlit_app.py`` or ``llama-toolkit ui``).

``toolkit.ui.app.run`` draws it; the pages in ``toolkit.ui.pages`` (``chat``, ``documents``,
``ask``, ``summarize``, ``translate``, ``agent``) build on the public chains, retrievers and
agents and on the app infrastructure here (``resources``, ``sidebar``, ``components``,
``text_input``, and ``gate``, the sign-in of ``--auth``). ``history``, ``uploads``,
``citations``, ``access`` (who may start, sign in and name which server paths) and
``safe_markdown`` (model text rendered without images, HTML or links) are plain Python, tested
without Streamlit. Importing this package imports nothing heavy; the Streamlit modules under it do.
"""

__all__: list[str] = []
