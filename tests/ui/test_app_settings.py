"""The settings sidebar under ``AppTest``: doctor facts, a wrong model path, one model per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def test_doctor_shows_the_facts_of_the_chosen_model(open_page: Callable[[str], Any]) -> None:
    at = open_page("chat")
    at.sidebar.button(key="ui_doctor").click().run()
    assert not at.exception
    assert [s.value for s in at.sidebar.success] == ["ready"]
    facts = at.sidebar.table[0].value
    column = facts[facts.columns[0]]
    assert column["backend"] == "llamacpp"
    assert "SmolLM2-135M" in column["model"] and column["chat template"] == "from GGUF"
    assert column["context in effect"]


def test_a_missing_gguf_is_a_readable_message(
    open_page: Callable[[str], Any], tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS", str(tmp_path))  # GGUF paths are opt-in
    at = open_page("chat")
    assert "Auto chose llamacpp" in at.sidebar.caption[0].value  # no Ollama, no Llama 3.2 GGUF here
    at.sidebar.radio(key="ui_backend").set_value("llamacpp").run()
    missing = tmp_path / "Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    at.sidebar.text_input(key="ui_model").set_value(str(missing)).run()
    assert "Llama-3.2-3B-Instruct-Q4_K_M.gguf" in at.sidebar.caption[0].value
    at.chat_input[0].set_value("Hello?").run()
    assert not at.exception
    [error] = at.error
    assert error.value.startswith("Could not answer: GGUF model file not found")
    assert str(missing) in error.value
    at.sidebar.button(key="ui_doctor").click().run()
    assert [e.value for e in at.sidebar.error] == ["not ready - see below"]


def test_sessions_share_one_loaded_model(
    open_page: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import streamlit as st

    import toolkit.backends.factory

    builds: list[Any] = []
    real = toolkit.backends.factory.chat_model_from_settings

    def counting(settings: Any, **kwargs: Any) -> Any:
        builds.append(settings.resolved_model())
        return real(settings, **kwargs)

    monkeypatch.setattr(toolkit.backends.factory, "chat_model_from_settings", counting)
    st.cache_resource.clear()
    for _ in range(2):  # two browser sessions, two answers each
        at = open_page("chat")
        for question in ("Hi", "How are you?"):
            at.chat_input[0].set_value(question).run()
            assert not at.exception and at.chat_message[-1].markdown[0].value.strip()
    assert len(builds) == 1, builds  # built once for the process, not per session or per click
