"""Token budgets: exact with our llama.cpp model, a conservative estimate elsewhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fakes import ScriptedChatModel, echo_markers
from langchain_core.messages import HumanMessage, SystemMessage

from toolkit import ChatLlama
from toolkit.backends.ollama import ToolkitChatOllama
from toolkit.text.budget import DEFAULT_WINDOW, estimate_tokens, token_budget, with_max_tokens

SAMPLES = {
    "english": "The committee approved the budget after a long debate about schools and roads. " * 20,
    "french": "Le comité a approuvé le budget après un long débat sur les écoles et les routes. " * 20,
    "german": "Der Ausschuss genehmigte den Haushalt nach einer langen Debatte über Schulen. " * 20,
    "russian": "Комитет утвердил бюджет после долгих дебатов о школах и дорогах. " * 20,
    "chinese": "委员会在关于学校和道路的长时间辩论后批准了预算。" * 20,
    "japanese": "委員会は学校と道路についての長い議論の後、予算を承認しました。" * 20,
    "code": "def f(x):\n    return {'a': [x**2, x // 3], 'b': x != 0}  # note\n" * 20,
    "numbers": "3.14159 2,718,281 0x1F4A 1e-9 42% 2026-11-23 12:45:07 " * 20,
    "emoji": "Great job 🎉🚀 see you soon 👋 " * 20,
    "urls": "https://example.com/a/b?c=d&e=f#g user@example.org C:\\Temp\\x.txt " * 20,
}


@pytest.fixture(scope="module")
def llama3(llama32_data: Path) -> ChatLlama:
    return ChatLlama(
        model_path=str(llama32_data / "ggml-vocab-llama-bpe.gguf"),
        chat_template=str(llama32_data / "llama-3.2-3b-instruct.jinja"),
        vocab_only=True,
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_estimate_never_undercounts_llama3(llama3: ChatLlama, name: str) -> None:
    text = SAMPLES[name]
    real = llama3.get_num_tokens(text)
    estimate = estimate_tokens(text)
    assert estimate >= real, (name, estimate, real)
    assert estimate <= 4 * real  # conservative, not useless


def test_estimated_prompt_never_undercounts_llama3(llama3: ChatLlama) -> None:
    from langchain_ollama import ChatOllama

    budget = token_budget(ChatOllama(model="llama3.2", num_ctx=8192))
    for text in SAMPLES.values():
        messages = [SystemMessage("Summarize the text."), HumanMessage(text)]
        assert budget.count_messages(messages) >= llama3.get_num_tokens_from_messages(messages)


def test_llamacpp_budget_is_exact(llama3: ChatLlama) -> None:
    budget = token_budget(llama3)
    assert budget.exact and budget.window == llama3.context_window
    assert budget.count("Hello world") == llama3.get_num_tokens("Hello world") == 2
    messages = [HumanMessage("Hi")]
    assert budget.count_messages(messages) == llama3.get_num_tokens_from_messages(messages)


def test_ollama_budget_uses_num_ctx_and_says_it_estimates(caplog: pytest.LogCaptureFixture) -> None:
    llm = ToolkitChatOllama(model="llama3.2", num_ctx=16384)
    with caplog.at_level(logging.INFO, logger="toolkit.text.budget"):
        budget = token_budget(llm)
    assert budget.window == 16384 and not budget.exact
    assert "conservative estimate" in caplog.text


def test_unknown_model_gets_the_default_window_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    from langchain_core.language_models import FakeListChatModel

    with caplog.at_level(logging.WARNING, logger="toolkit.text.budget"):
        budget = token_budget(FakeListChatModel(responses=["x"]))
    assert budget.window == DEFAULT_WINDOW and "context_window=" in caplog.text
    assert token_budget(FakeListChatModel(responses=["x"]), context_window=999).window == 999


def test_with_max_tokens_copies_and_leaves_the_original() -> None:
    llm = ScriptedChatModel(respond=echo_markers(), max_tokens=100)
    limited, n = with_max_tokens(llm, 7)
    assert n == 7 and limited.max_tokens == 7 and llm.max_tokens == 100
    ollama, n = with_max_tokens(ToolkitChatOllama(model="llama3.2", num_predict=50), 9)
    assert n == 9 and ollama.num_predict == 9
