"""The SQLite conversation store, its LangChain message-history adapter, and the ``llama-toolkit ui``
launcher."""

from __future__ import annotations

import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from toolkit import cli
from toolkit.errors import ConfigurationError
from toolkit.ui.history import ChatTurn, ConversationStore, SQLiteChatMessageHistory
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


def test_message_history_adapter_reads_and_writes_the_store(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    cid = store.create("What is a llama?", "Be brief.")
    store.add(cid, ChatTurn("user", "What is a llama?"))
    store.add(cid, ChatTurn("assistant", "A camelid.", {"model_name": "smollm2"}))
    history = SQLiteChatMessageHistory(store, cid)
    assert isinstance(history, BaseChatMessageHistory)

    messages = history.messages
    assert [(m.type, m.text) for m in messages] == [
        ("system", "Be brief."),
        ("human", "What is a llama?"),
        ("ai", "A camelid."),
    ]
    assert messages[2].response_metadata == {"model_name": "smollm2"}

    usage = {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}
    history.add_messages(
        [HumanMessage("And an alpaca?"), AIMessage("A smaller camelid.", usage_metadata=usage)]
    )
    history.add_user_message("Thanks")
    assert store.turns(cid)[2:] == [
        ChatTurn("user", "And an alpaca?"),
        ChatTurn("assistant", "A smaller camelid.", {"usage": usage}),
        ChatTurn("user", "Thanks"),
    ]
    # Another adapter on the same file (another session) sees the same messages.
    again = SQLiteChatMessageHistory(ConversationStore(tmp_path / "chats.sqlite3"), cid).messages
    assert again == history.messages and len(again) == 6

    history.add_messages([SystemMessage("Answer in French.")])
    assert store.get(cid).system_prompt == "Answer in French."  # type: ignore[union-attr]
    assert history.messages[0] == SystemMessage("Answer in French.")

    history.clear()
    assert history.messages == [] and store.turns(cid) == []
    assert [c.id for c in store.conversations()] == [cid]  # the conversation itself stays listed


def test_message_history_adapter_refuses_what_the_store_cannot_keep(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    cid = store.create("hi")
    history = SQLiteChatMessageHistory(store, cid)
    with pytest.raises(ValueError, match="not 'tool' ones"):
        history.add_messages([HumanMessage("first"), ToolMessage("42", tool_call_id="c1")])
    assert store.turns(cid) == []  # all or nothing
    with pytest.raises(KeyError, match="no conversation 'gone'"):
        SQLiteChatMessageHistory(store, "gone").add_messages([SystemMessage("x")])
    with pytest.raises(KeyError, match="no conversation 'gone'"):
        SQLiteChatMessageHistory(store, "gone").add_ai_message("x")
    assert SQLiteChatMessageHistory(store, "gone").messages == []


def test_ui_command_line() -> None:
    from toolkit.cli.ui import streamlit_command

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
    # Stopping the launcher (SIGTERM) stops the Streamlit server it started: nothing is left listening.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=1).close()
        except OSError:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the app still answers after `llama-toolkit ui` was terminated")
