"""The ids an index records for an embedder, known from its spec without building it.

Kept free of heavy imports: commands that only compare ids (a no-op re-ingest) use it
before deciding whether to load anything.
"""

from __future__ import annotations

__all__ = ["MINILM_ID", "spec_model_id"]

MINILM_ID = "all-MiniLM-L6-v2-onnx-int8"


def spec_model_id(spec: str) -> str | None:
    """The ``model_id`` of the embedder ``spec`` names (``minilm``, ``ollama:<model>``), or None
    when only the built embedder can tell (a GGUF file) or the spec is not valid."""
    value = spec.strip()
    if value.lower() == "minilm":
        return MINILM_ID
    model = value[len("ollama:") :].strip() if value.startswith("ollama:") else ""
    return f"ollama:{model}" if model else None
