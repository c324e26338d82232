"""Tool calling pieces that need no generation: parsing, tool_choice, prompts, routing."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool

from toolkit import ChatLlama
from toolkit.backends.tool_calling import (
    normalize_tool_choice,
    parse_tool_calls,
    template_supports_tools,
    tool_call_gbnf,
    tool_schemas,
)
from toolkit.backends.tool_router import ToolRouter, tool_examples
from toolkit.embedded import embedded_model_path
from toolkit.errors import ConfigurationError

NAMES = {"calculator", "convert_units"}


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as 2 * (3 + 4)."""
    return expression


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity from one unit to another."""
    return f"{value} {from_unit} {to_unit}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"name": "calculator", "parameters": {"expression": "2+2"}}',
            [("calculator", {"expression": "2+2"})],
        ),
        (
            '<|python_tag|>{"name": "calculator", "arguments": "{\\"expression\\": \\"3\\"}"}',
            [("calculator", {"expression": "3"})],
        ),
        (
            '{"type": "function", "function": {"name": "calculator", "arguments": {"expression": "1"}}}',
            [("calculator", {"expression": "1"})],
        ),
        (
            '{"name": "calculator", "parameters": {"expression": "1"}}\n'
            '{"name": "convert_units", "parameters": {"value": 2, "from_unit": "kg", "to_unit": "lb"}}',
            [
                ("calculator", {"expression": "1"}),
                ("convert_units", {"value": 2, "from_unit": "kg", "to_unit": "lb"}),
            ],
        ),
        (
            '[{"name": "calculator", "parameters": {"expression": "1"}}]',
            [("calculator", {"expression": "1"})],
        ),
        (
            '[calculator(expression="2^10"), convert_units(value=1.5, from_unit="mi", to_unit="km")]',
            [
                ("calculator", {"expression": "2^10"}),
                ("convert_units", {"value": 1.5, "from_unit": "mi", "to_unit": "km"}),
            ],
        ),
        (
            '```json\n{"name": "calculator", "parameters": {"expression": "5"}}\n```',
            [("calculator", {"expression": "5"})],
        ),
    ],
)
def test_parses_the_call_formats_small_models_emit(text: str, expected: list[tuple[str, dict]]) -> None:
    content, calls = parse_tool_calls(text, NAMES)
    assert content == ""
    assert [(c["name"], c["args"]) for c in calls] == expected
    assert all(re.fullmatch(r"call_[0-9a-f]{24}", c["id"] or "") for c in calls)
    assert len({c["id"] for c in calls}) == len(calls)


@pytest.mark.parametrize(
    "text",
    [
        "The answer is 4.",
        '{"name": "delete_everything", "parameters": {}}',  # not an offered tool
        '{"name": "calculator", "parameters": {"expression": "1"}',  # cut short
        '{"name": "calculator", "parameters": {"expression": "1"}} and then I would say more',
        "print(calculator(expression='1'))",  # code, not a call list
        "calculator(1 + 2)",  # positional arguments cannot be named
        '{"answer": 42}',
        "",
    ],
)
def test_text_answers_stay_text(text: str) -> None:
    assert parse_tool_calls(text, NAMES) == (text, [])


def test_tool_choice_forms() -> None:
    assert normalize_tool_choice(None, NAMES) == "auto"
    assert normalize_tool_choice("any", NAMES) == "required"
    assert normalize_tool_choice(True, NAMES) == "required"
    assert normalize_tool_choice("none", NAMES) == "none"
    assert normalize_tool_choice("calculator", NAMES) == "calculator"
    assert (
        normalize_tool_choice({"type": "function", "function": {"name": "convert_units"}}, NAMES)
        == "convert_units"
    )
    with pytest.raises(ConfigurationError, match="neither auto"):
        normalize_tool_choice("weather", NAMES)


def test_tool_names_stay_unique(caplog: pytest.LogCaptureFixture) -> None:
    assert len(tool_schemas([calculator, calculator])) == 1  # the same tool twice
    other = {"type": "function", "function": {"name": "calculator", "description": "x", "parameters": {}}}
    assert tool_schemas([calculator, other]) == [other]
    assert "two different tools are named calculator" in caplog.text


def test_grammar_shapes() -> None:
    schemas = tool_schemas([calculator, convert_units])
    auto = tool_call_gbnf(schemas, "auto")
    assert auto.startswith("root ::= call") and "| text" in auto
    named = tool_call_gbnf(schemas, "convert_units", parallel=False)
    assert named.startswith("root ::= call\n")
    assert "calculator" not in named and "from_unit" in named
    with pytest.raises(ConfigurationError):
        tool_call_gbnf(schemas, "missing")


@pytest.fixture(scope="module")
def llama32(llama32_data: Path) -> ChatLlama:
    return ChatLlama(
        model_path=str(llama32_data / "ggml-vocab-llama-bpe.gguf"),
        chat_template=str(llama32_data / "llama-3.2-3b-instruct.jinja"),
        vocab_only=True,
    )


def test_llama32_template_renders_tools_and_calls_natively(llama32: ChatLlama) -> None:
    assert template_supports_tools(llama32._template(llama32.loaded))
    schemas = tool_schemas([calculator, convert_units])
    call = {"name": "calculator", "args": {"expression": "2^10"}, "id": "call_1"}
    call2 = {
        "name": "convert_units",
        "args": {"value": 1, "from_unit": "kg", "to_unit": "lb"},
        "id": "call_2",
    }
    prompt = llama32.render_prompt(
        [
            HumanMessage("What is 2^10 and 1 kg in pounds?"),
            AIMessage("", tool_calls=[call, call2]),
            ToolMessage("1024", tool_call_id="call_1"),
            ToolMessage("2.2 lb", tool_call_id="call_2"),
        ],
        tools=schemas,
    )
    # Llama 3.2's own instructions ask for exactly the format the grammar enforces.
    assert (
        'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}'
        in prompt
    )
    assert '"name": "convert_units"' in prompt
    # One call per assistant turn (the template refuses more), in Llama 3.2's JSON form.
    assert prompt.count('{"name": "calculator", "parameters": {"expression": "2^10"}}<|eot_id|>') == 1
    assert '"parameters": {"value": 1, "from_unit": "kg", "to_unit": "lb"}}<|eot_id|>' in prompt
    assert prompt.count("<|start_header_id|>ipython<|end_header_id|>") == 2


@pytest.fixture(scope="module")
def smol() -> ChatLlama:
    return ChatLlama(model_path=str(embedded_model_path()), vocab_only=True)


def test_template_without_tools_gets_them_in_the_system_prompt(smol: ChatLlama) -> None:
    assert not template_supports_tools(smol._template(smol.loaded))
    schemas = tool_schemas([calculator, convert_units])
    call = {"name": "calculator", "args": {"expression": "2^10"}, "id": "call_1"}
    prompt = smol.render_prompt(
        [
            SystemMessage("Be brief."),
            HumanMessage("What is 2^10?"),
            AIMessage("", tool_calls=[call]),
            ToolMessage("1024", tool_call_id="call_1", name="calculator"),
        ],
        tools=schemas,
        tool_choice="auto",
    )
    system = prompt.split("<|im_end|>")[0]
    assert system.startswith("<|im_start|>system\nBe brief.\n\nYou can call these tools:")
    assert "- convert_units(value: number, from_unit: string, to_unit: string)" in system
    assert "If no tool is needed, reply in plain text." in system
    assert (
        '<|im_start|>assistant\n{"name": "calculator", "parameters": {"expression": "2^10"}}<|im_end|>'
        in prompt
    )
    assert "<|im_start|>user\nResult of calculator: 1024<|im_end|>" in prompt


def test_bind_tools_checks_tool_choice_at_bind_time(smol: ChatLlama) -> None:
    with pytest.raises(ConfigurationError, match="weather"):
        smol.bind_tools([calculator], tool_choice="weather")
    bound = smol.bind_tools([calculator], tool_choice="any")
    assert bound.kwargs["tool_choice"] == "required"  # type: ignore[attr-defined]
    assert json.dumps(bound.kwargs["tools"])  # type: ignore[attr-defined]


class _WordsEmbeddings:
    """Deterministic bag-of-words unit vectors: enough to test the router's decisions."""

    vocab = ("add", "plus", "times", "kg", "pounds", "miles", "km", "hello", "joke", "poem", "hi")

    def _vec(self, text: str) -> list[float]:
        words = re.findall(r"[a-z]+", text.lower())
        v = [float(words.count(w)) for w in self.vocab] + [0.1]
        norm = sum(x * x for x in v) ** 0.5
        return [x / norm for x in v]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self._vec(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vec(text)


def test_router_picks_the_closest_tool_or_none() -> None:
    calc = calculator.model_copy(update={"metadata": {"examples": ["add 2 plus 3", "7 times 8"]}})
    units = convert_units.model_copy(update={"metadata": {"examples": ["5 kg in pounds", "miles to km"]}})
    examples = tool_examples([calc, units])
    assert examples == {
        "calculator": ["add 2 plus 3", "7 times 8"],
        "convert_units": ["5 kg in pounds", "miles to km"],
    }
    router = ToolRouter(_WordsEmbeddings(), min_score=0.3)  # type: ignore[arg-type]
    schemas = tool_schemas([calc, units])
    assert router.choose("what is 4 plus 4", schemas, examples) == "calculator"
    assert router.choose("12 kg to pounds please", schemas, examples) == "convert_units"
    assert router.choose("tell me a joke", schemas, examples) is None
    assert router.choose("hi", schemas, examples) is None
