"""The chat page under ``AppTest``: the real embedded model, a real SQLite history, a loopback Ollama."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from pytest_httpserver import HTTPServer
from unit.test_ollama_wire import PNG_B64, FakeOllama

from ui.conftest import APP, RUN_TIMEOUT

pytestmark = pytest.mark.integration


def messages(at: Any) -> list[tuple[str, str]]:
    return [(m.name, " ".join(x.value for x in m.markdown)) for m in at.chat_message]


def ask(at: Any, text: str) -> Any:
    at.chat_input[0].set_value(text).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_answer_streams_in_and_is_saved(open_page: Callable[[str], Any], data_dir: Path) -> None:
    at = ask(open_page("chat"), "Tell me a joke about llamas.")
    (user, question), (assistant, answer) = messages(at)
    assert (user, assistant) == ("user", "assistant")
    assert question == "Tell me a joke about llamas."
    assert answer.strip()
    caption = at.chat_message[1].caption[-1].value
    assert "SmolLM2" in caption and "first token" in caption and "tokens/s" in caption
    with sqlite3.connect(data_dir / "chats.sqlite3") as db:
        rows = db.execute("SELECT role, content FROM messages ORDER BY id").fetchall()
        (title,) = db.execute("SELECT title FROM conversations").fetchone()
    assert rows == [("user", question), ("assistant", answer)]
    assert title == question


def saved_ids(data_dir: Path) -> list[str]:
    from toolkit.ui.history import ConversationStore

    return [c.id for c in ConversationStore(data_dir / "chats.sqlite3").conversations()]


def test_conversation_reopens_after_a_restart(open_page: Callable[[str], Any], data_dir: Path) -> None:
    at = ask(open_page("chat"), "My name is Ada. Say hello to me.")
    first_answer = messages(at)[1][1]
    st.cache_resource.clear()  # a restarted server: nothing loaded, only the data folder remains
    st.cache_data.clear()
    again = open_page("chat")
    assert messages(again) == []  # a new browser session starts a new chat
    picker = again.sidebar.selectbox(key="chat_pick")
    assert picker.options[1] == "My name is Ada. Say hello to me."
    assert picker.options[0] == "(new chat)"
    [saved] = saved_ids(data_dir)
    picker.set_value(saved).run()
    assert messages(again) == [("user", "My name is Ada. Say hello to me."), ("assistant", first_answer)]
    ask(again, "What is my name?")
    assert len(messages(again)) == 4
    third = open_page("chat")
    assert len(third.sidebar.selectbox(key="chat_pick").options) == 2  # still one saved conversation
    third.sidebar.selectbox(key="chat_pick").set_value(saved).run()
    assert [m[0] for m in messages(third)] == ["user", "assistant", "user", "assistant"]


def test_temperature_and_system_prompt_reach_the_model(
    open_page: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_TEMPERATURE", "1.5")  # the configured default; the slider wins
    at = open_page("chat")
    assert at.sidebar.slider(key="ui_temperature").value == 1.5
    at.sidebar.slider(key="ui_temperature").set_value(0.0).run()
    at.sidebar.text_area(key="chat_system_box").set_value(
        "You are a pirate. Always talk like a pirate."
    ).run()
    ask(at, "Describe the sea in one sentence.")
    greedy = messages(at)[1][1]
    at.sidebar.button(key="chat_new").click().run()
    assert messages(at) == []
    ask(at, "Describe the sea in one sentence.")
    assert messages(at)[1][1] == greedy  # temperature 0: the same answer twice
    # The system prompt outlives a visit to another page (Streamlit drops unrendered widgets' state).
    at.switch_page("toolkit/ui/screens/summarize.py").run()
    at.switch_page("toolkit/ui/screens/chat.py").run()
    assert at.sidebar.text_area(key="chat_system_box").value == "You are a pirate. Always talk like a pirate."


def test_an_image_for_a_text_model_gets_a_note(open_page: Callable[[str], Any]) -> None:
    at = open_page("chat")
    at.chat_input[0].upload("dot.png", base64.b64decode(PNG_B64), "image/png")
    ask(at, "What is in this picture?")
    notes = " ".join(i.value for i in at.info)
    assert "cannot read images" in notes and "llama3.2-vision" in notes
    assert messages(at)[1][1].strip()  # the text was still answered
    assert "image: dot.png" in at.chat_message[0].caption[0].value


def test_ollama_down_is_a_readable_message(
    open_page: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch, dead_host: str
) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_BACKEND", "ollama")
    monkeypatch.setenv("OLLAMA_HOST", dead_host)
    st.cache_data.clear()
    at = ask(open_page("chat"), "Hello?")
    errors = " ".join(e.value for e in at.error)
    assert "Could not answer" in errors and "not reachable" in errors and "ollama serve" in errors
    assert any("not reachable" in w.value for w in at.sidebar.warning)
    assert not at.exception


def test_images_go_to_an_ollama_vision_model(
    httpserver: HTTPServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    fake = FakeOllama(httpserver)
    monkeypatch.setenv("LLAMA_TOOLKIT_BACKEND", "ollama")
    monkeypatch.setenv("LLAMA_TOOLKIT_MODEL", "llama3.2-vision")
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT).run()
    assert at.sidebar.selectbox(key="ui_model").value == "llama3.2-vision:latest"
    at.chat_input[0].upload("dot.png", base64.b64decode(PNG_B64), "image/png")
    ask(at, "What is in this picture?")
    assert not at.info  # no "cannot read images" note
    assert messages(at)[1][1] == "Hello, world!"
    (body,) = fake.bodies("/api/chat")
    user = body["messages"][-1]
    assert user["content"].strip() == "What is in this picture?"  # langchain-ollama joins blocks with \n
    assert user["images"] == [PNG_B64]


@pytest.fixture
def dead_host() -> str:
    from ui.browser import free_port

    return f"http://127.0.0.1:{free_port()}"


def test_an_answer_stopped_by_the_next_message_is_kept(
    open_page: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    """Sending while an answer streams reruns the page: the part already written is kept."""
    from langchain_core.messages import AIMessageChunk
    from streamlit.runtime.scriptrunner import RerunException
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData

    from toolkit.ui import resources

    class Interrupted:
        """Streams two pieces, then the page is rerun as a new message would rerun it."""

        def stream(self, messages: Any) -> Any:
            yield AIMessageChunk(content="Llamas are ")
            yield AIMessageChunk(content="camelids")
            raise RerunException(RerunData())

    at = open_page("chat")
    monkeypatch.setattr(resources, "get_llm", lambda temperature=None: Interrupted())
    ask(at, "Tell me about llamas.")
    assert messages(at) == [("user", "Tell me about llamas."), ("assistant", "Llamas are camelids")]
    assert at.chat_message[1].caption[0].value.startswith("stopped by your next message")
    [saved] = saved_ids(data_dir)
    from toolkit.ui.history import ConversationStore

    [_, reply] = ConversationStore(data_dir / "chats.sqlite3").turns(saved)
    assert reply.content == "Llamas are camelids" and reply.meta["stopped"] is True
