"""The script ``llama-toolkit ui`` hands to ``streamlit run`` (installed with the package)."""

from toolkit.ui.app import run

run()
