"""AppTest fixtures: the real app script, the real embedded model, a private data folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
RUN_TIMEOUT = 300  # seconds per script run: the 135M model on 2 busy cores


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder (chat history, Chroma, uploads) for the app under test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("LLAMA_TOOLKIT_DATA_DIR", str(folder))
    monkeypatch.setenv("LLAMA_TOOLKIT_TEMPERATURE", "0")  # greedy: the same answers on every run
    for name in ("LLAMA_TOOLKIT_BACKEND", "LLAMA_TOOLKIT_MODEL", "LLAMA_TOOLKIT_COLLECTION"):
        monkeypatch.delenv(name, raising=False)
    return folder


@pytest.fixture
def open_page(data_dir: Path) -> Callable[[str], object]:
    """``open_page("ask")``: an ``AppTest`` of the whole app, run once and switched to that page."""
    from streamlit.testing.v1 import AppTest

    def open_(page: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
        assert not at.exception, [e.value for e in at.exception]
        if page != "chat":
            at.switch_page(f"toolkit/ui/screens/{page}.py").run()
            assert not at.exception, [e.value for e in at.exception]
        return at

    return open_
