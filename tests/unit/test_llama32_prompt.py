"""The real Llama 3.2 prompt format: Llama 3.2's reference chat template and Llama 3's
tokenizer (vocab-only GGUF), both from the llama-cpp-python sdist (see fetch_test_data.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from toolkit import ChatLlama
from toolkit.errors import ConfigurationError

BOT, START, END, EOT = 128000, 128006, 128007, 128009


@pytest.fixture(scope="module")
def llama32(llama32_data: Path) -> ChatLlama:
    return ChatLlama(
        model_path=str(llama32_data / "ggml-vocab-llama-bpe.gguf"),
        chat_template=str(llama32_data / "llama-3.2-3b-instruct.jinja"),
        vocab_only=True,
    )


def test_renders_the_llama32_header_format(llama32: ChatLlama) -> None:
    prompt = llama32.render_prompt([SystemMessage("You are terse."), HumanMessage("Hi")])
    assert re.fullmatch(
        r"<\|begin_of_text\|><\|start_header_id\|>system<\|end_header_id\|>\n\n"
        r"Cutting Knowledge Date: December 2023\nToday Date: \d\d \w{3} \d{4}\n\n"
        r"You are terse\.<\|eot_id\|>"
        r"<\|start_header_id\|>user<\|end_header_id\|>\n\nHi<\|eot_id\|>"
        r"<\|start_header_id\|>assistant<\|end_header_id\|>\n\n",
        prompt,
    ), prompt


def test_special_tokens_are_single_tokens(llama32: ChatLlama) -> None:
    prompt = llama32.render_prompt([HumanMessage("Hi")])
    tokens = llama32.tokenize_prompt(prompt)
    assert tokens[0] == BOT
    assert tokens.count(BOT) == 1  # the template adds BOS; we must not add a second one
    assert tokens[-4:] == [START, 78191, END, 271]  # "assistant" header, then "\n\n"
    assert tokens.count(EOT) == 2  # system turn + user turn
    assert llama32.get_num_tokens_from_messages([HumanMessage("Hi")]) == len(tokens)


def test_multi_turn_and_tool_results(llama32: ChatLlama) -> None:
    prompt = llama32.render_prompt(
        [
            HumanMessage("What is 2+2?"),
            AIMessage("4"),
            ToolMessage('{"result": 4}', tool_call_id="call_1"),
            HumanMessage("Thanks"),
        ]
    )
    assert "<|start_header_id|>assistant<|end_header_id|>\n\n4<|eot_id|>" in prompt
    # Llama 3.2 presents tool results in the "ipython" role.
    assert "<|start_header_id|>ipython<|end_header_id|>\n\n" in prompt
    assert prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_tools_reach_the_template(llama32: ChatLlama) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "calculator",
            "description": "Evaluate arithmetic",
            "parameters": {"type": "object", "properties": {"expression": {"type": "string"}}},
        },
    }
    prompt = llama32.render_prompt([HumanMessage("What is 17*3?")], tools=[tool])
    assert '"name": "calculator"' in prompt
    assert "Given the following functions, please respond with a JSON for a function call" in prompt


def test_vocab_only_model_refuses_to_generate(llama32: ChatLlama) -> None:
    with pytest.raises(ConfigurationError, match="vocab_only=True: it can count tokens, not generate"):
        llama32.invoke("Hi")


def test_gguf_without_template_needs_one(llama32_data: Path) -> None:
    bare = ChatLlama(model_path=str(llama32_data / "ggml-vocab-llama-bpe.gguf"), vocab_only=True)
    with pytest.raises(
        ConfigurationError, match="has no chat template in its GGUF - set LLAMA_TOOLKIT_CHAT_TEMPLATE"
    ):
        bare.render_prompt([HumanMessage("Hi")])
