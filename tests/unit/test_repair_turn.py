"""One repair turn on llama.cpp: a tool that rejects its arguments is called once more, under
the same grammar, with its error (which names the fault and how to call it) in the prompt."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from agents.guards import ToolGuardMiddleware
from toolkit.backends.tool_router import repair_choice, routed_choice

_TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {}}} for n in ("convert_units", "calculator")
]


def _call(name: str, call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": {}, "id": call_id, "type": "tool_call"}])


def _error(
    call_id: str,
    name: str | None = "convert_units",
    text: str = "Error: cannot convert kg to meter",
    **extra: Any,
) -> ToolMessage:
    return ToolMessage(text, tool_call_id=call_id, name=name, status="error", **extra)


_ASK = HumanMessage("Convert 3 kg to pounds.")


@pytest.mark.parametrize(
    ("messages", "choice"),
    [
        ([_ASK, _call("convert_units", "a"), _error("a")], "convert_units"),  # the first rejection
        ([_ASK, _call("convert_units", "a"), _error("a", name=None)], "convert_units"),  # name from the call
        ([_ASK, _call("convert_units", "a"), _error("a"), _call("convert_units", "b"), _error("b")], None),
        ([_ASK, _call("convert_units", "a"), _error("a", response_metadata={"timed_out": True})], None),
        ([_ASK, _call("convert_units", "a"), ToolMessage("3 kg = 6.61 lb", tool_call_id="a")], None),
        ([_ASK, _call("weather", "a"), _error("a", name="weather")], None),  # not offered now
        # an earlier request's error does not use up this request's repair
        (
            [HumanMessage("hi"), _call("calculator", "x"), _error("x", name="calculator"), _ASK,
             _call("convert_units", "a"), _error("a")],
            "convert_units",
        ),
    ],
)  # fmt: skip
def test_one_repair_turn_for_a_rejected_call(messages: list[BaseMessage], choice: str | None) -> None:
    assert repair_choice(messages, _TOOLS) == choice
    assert routed_choice("similarity", "", messages, _TOOLS, {}) == (choice or "none")


def test_a_timeout_is_marked_so_it_gets_no_repair_turn() -> None:
    guard = ToolGuardMiddleware(timeout=1.0)
    request: Any = type("R", (), {"tool_call": {"name": "convert_units", "id": "a"}})()
    timed_out, failed = guard._timed_out(request), guard._failed(request, ValueError("bad unit"))
    messages: list[BaseMessage] = [_ASK, _call("convert_units", "a")]
    assert repair_choice([*messages, timed_out], _TOOLS) is None
    assert repair_choice([*messages, failed], _TOOLS) == "convert_units"


def test_a_repair_is_offered_the_requests_values_not_the_rejected_ones() -> None:
    from toolkit.backends.grounding import candidates_for

    ask = HumanMessage("How much is 12 stone in kilograms?")
    error = _error("a", text="Error: cannot convert stone to meter")
    units = {c.value for c in candidates_for([ask, _call("convert_units", "a"), error]).units}
    assert "meter" not in units and {"stone", "kilogram"} <= units
    result = ToolMessage("12 stone = 76.2 kg, about 1 meter of rope", tool_call_id="a")
    assert "meter" in {c.value for c in candidates_for([ask, _call("convert_units", "a"), result]).units}
