"""``backend = "auto"`` with the real embedded model: a Llama 3.2 GGUF placed in the models
folder is the file ``get_chat_model()`` loads and generates with; without one, the embedded
model answers and the one-line hint goes to stderr."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolkit.backends.auto import clear_backend_cache
from toolkit.backends.factory import get_chat_model
from toolkit.backends.llamacpp import ChatLlama
from toolkit.embedded import embedded_model_path

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _no_ollama() -> Iterator[None]:
    with socket.socket() as sock:  # a port nobody listens on: Ollama is "not running"
        sock.bind(("127.0.0.1", 0))
        os.environ["OLLAMA_HOST"] = f"http://127.0.0.1:{sock.getsockname()[1]}"
    clear_backend_cache()
    yield
    clear_backend_cache()


def test_auto_loads_and_answers_with_the_llama32_gguf_in_the_models_folder(
    capfd: pytest.CaptureFixture[str],
) -> None:
    folder = Path(os.environ["LLAMA_TOOLKIT_DATA_DIR"]) / "models"
    folder.mkdir(parents=True)
    gguf = folder / "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
    gguf.symlink_to(embedded_model_path())  # no Llama 3.2 weights here: its name is what auto reads
    llm = get_chat_model(max_tokens=8, temperature=0)
    assert isinstance(llm, ChatLlama) and llm.model_path == str(gguf)
    assert llm.invoke("Say hi").content.strip()
    assert "llama-toolkit: " not in capfd.readouterr().err


def test_auto_falls_back_to_the_embedded_model_with_the_hint(capfd: pytest.CaptureFixture[str]) -> None:
    llm = get_chat_model(max_tokens=8, temperature=0)
    assert isinstance(llm, ChatLlama) and llm.model_path == str(embedded_model_path())
    assert llm.invoke("Say hi").content.strip()
    [line] = [x for x in capfd.readouterr().err.splitlines() if x.startswith("llama-toolkit: ")]
    assert line.endswith("using the embedded SmolLM2-135M. Get Llama 3.2: llama-toolkit pull llama3.2")
