"""The web app's pull panel under ``AppTest``, against the loopback hub (no model, no network)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from loopback_hub import LoopbackHub

from toolkit.settings import get_settings
from toolkit.ui.citations import escape_markdown
from toolkit.ui.pull_panel import pull_allowed

REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
FILE = "Llama-3.2-1B-Instruct-Q8_0.gguf"


def _panel() -> None:
    from toolkit.settings import get_settings
    from toolkit.ui.pull_panel import render_pull_panel

    render_pull_panel(get_settings())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_who_may_pull(tmp_path: Path) -> None:
    plain = get_settings()
    assert pull_allowed(plain, address="127.0.0.1", auth=False)
    assert not pull_allowed(plain, address="127.0.0.1", auth=True)  # signed-in users are not the operator
    assert not pull_allowed(plain, address="0.0.0.0", auth=False)  # --insecure on the network
    assert not pull_allowed(plain, address=None, auth=False)  # streamlit's default: every interface
    assert pull_allowed(get_settings(ui_allow_server_paths=[tmp_path]), address="0.0.0.0", auth=True)


def test_panel_is_not_offered_on_a_shared_app() -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_panel).run()
    assert not at.exception
    assert not at.button and "llama-toolkit pull llama3.2" in at.caption[0].value


def test_panel_pulls_from_the_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    data = bytes(range(256)) * 16
    with LoopbackHub() as hub:
        hub.add(REPO, FILE, data)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
        monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{_closed_port()}")
        monkeypatch.setenv("LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS", str(tmp_path))
        at = AppTest.from_function(_panel).run()
        at.selectbox(key="ui_pull_model").set_value("llama3.2:1b")
        at.selectbox(key="ui_pull_quant").set_value("Q8_0")
        at.button(key="ui_pull").click().run()
    assert not at.exception and not at.error
    dest = Path(get_settings().data_dir) / "models" / FILE
    assert dest.read_bytes() == data
    assert escape_markdown(str(dest)) in at.success[0].value
    assert len(hub.gets()) == 1
