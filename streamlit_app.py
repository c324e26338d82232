"""llama-toolkit's web app: ``streamlit run streamlit_app.py`` (or ``llama-toolkit ui``).

The pages live in ``toolkit/ui/pages/``; this file only starts them.
"""

from toolkit.ui.app import run

run()
