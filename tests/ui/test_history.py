"""The SQLite conversation store and the ``llama-toolkit ui`` launcher."""

from __future__ import annotations

import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from toolkit import cli
from toolkit.errors import ConfigurationError
from toolkit.ui.history import ChatTurn, ConversationStore
from ui.browser import free_port, serving


def test_conversations_round_trip_in_order(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "sub" / "chats.sqlite3")
    first = store.create("  What is   a llama?\n", "Be brief.")
    second = store.create("x" * 200)
    store.add(first, ChatTurn("user", "What is a llama?"))
    store.add(first, ChatTurn("assistant", "A camelid.", {"time_to_first_token": 0.1}))
    assert [c.id for c in store.conversations()] == [first, second]  # most recently used first
    assert store.get(first).title == "What is a llama?"  # type: ignore[union-attr]
    assert store.get(first).system_prompt == "Be brief."  # type: ignore[union-attr]
    assert len(store.get(second).title) == 60 and store.get(second).title.endswith("…")  # type: ignore[union-attr]
    assert store.turns(first) == [
        ChatTurn("user", "What is a llama?"),
        ChatTurn("assistant", "A camelid.", {"time_to_first_token": 0.1}),
    ]
    # A second store on the same file (another session, a restarted app) sees the same.
    assert ConversationStore(tmp_path / "sub" / "chats.sqlite3").turns(first) == store.turns(first)
    store.delete(first)
    assert store.get(first) is None and store.turns(first) == []
    with pytest.raises(KeyError):
        store.add(first, ChatTurn("user", "gone"))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    ids = [store.create(f"chat {i}") for i in range(4)]

    def write(cid: str) -> None:
        for n in range(25):
            store.add(cid, ChatTurn("user" if n % 2 == 0 else "assistant", f"{cid}:{n}"))

    threads = [threading.Thread(target=write, args=(cid,)) for cid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for cid in ids:
        assert [t.content for t in store.turns(cid)] == [f"{cid}:{n}" for n in range(25)]


def test_a_file_that_is_not_a_history_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    path.write_bytes(b"not a database, but someone's data" * 100)
    before = path.read_bytes()
    with pytest.raises(ConfigurationError, match=r"not a readable chat history.*left as it is"):
        ConversationStore(path)
    assert path.read_bytes() == before


def test_ui_command_line() -> None:
    from toolkit.cli_ui import streamlit_command

    args = cli.build_parser().parse_args(["ui", "--port", "9999", "--model", "m.gguf"])
    cmd = streamlit_command(args)
    assert cmd[:4] == [sys.executable, "-m", "streamlit", "run"]
    assert cmd[4].endswith("toolkit/ui/launch.py") and Path(cmd[4]).is_file()
    assert "--server.port=9999" in cmd and "--server.address=127.0.0.1" in cmd
    assert "--browser.gatherUsageStats=false" in cmd and "--server.maxUploadSize=50" in cmd


@pytest.mark.integration
def test_ui_command_serves_the_app(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "toolkit", "ui", "--port", str(port), "--temperature", "0.3"]
    with serving(cmd, port, tmp_path / "ui.log") as url, urllib.request.urlopen(url + "/", timeout=5) as r:
        assert r.status == 200 and b"<html" in r.read().lower()
