"""AppTests of the Agent page, with the real embedded model and its similarity tool router."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def _no_exception(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def ask(at: Any, text: str) -> Any:
    at.chat_input[0].set_value(text).run()
    _no_exception(at)
    return at


def _kinds(block: Any) -> list[str]:
    """The types of a block's direct children, in page order."""
    return [child.type for child in block.children.values()]


def test_tool_steps_answer_history_and_new_conversation(open_page: Callable[[str], Any]) -> None:
    at = open_page("agent")
    assert at.chat_input[0].placeholder == "Ask the agent"
    thread = at.session_state["agent_thread"]

    ask(at, "Convert 2,340 kg to pounds.")
    user, assistant = at.chat_message
    assert (user.name, user.markdown[0].value) == ("user", "Convert 2,340 kg to pounds.")
    assert assistant.name == "assistant"
    # the similarity router sends this to convert_units: one status box, finished, with the call
    [status] = assistant.status
    assert status.label == "Tool: convert_units"
    assert status.state in ("complete", "error")
    args = json.loads(status.code[0].value)
    assert set(args) >= {"value", "from_unit", "to_unit"}
    assert status.code[1].value.strip(), "the tool's result is shown in its box"
    # the answer follows the tool step in the assistant message, in the order they happened
    kinds = _kinds(assistant)
    assert kinds[0] == "status" and kinds[-2:] == ["markdown", "caption"], kinds
    assert re.fullmatch(r"Done in \d+\.\d s · 1 tool call", assistant.caption[-1].value)
    [turn] = at.session_state["agent_turns"]
    assert turn.done and turn.items[0].name == "convert_units" and str(turn.items[-1]).strip()
    answer = str(turn.items[-1])
    assert answer in [m.value for m in assistant.markdown]

    # a second question in the same session: the first turn stays, in the same thread
    ask(at, "What is 15% of 80?")
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]
    assert at.chat_message[0].markdown[0].value == "Convert 2,340 kg to pounds."
    assert at.chat_message[1].status[0].label == "Tool: convert_units"
    assert answer in [m.value for m in at.chat_message[1].markdown]
    assert at.chat_message[2].markdown[0].value == "What is 15% of 80?"
    assert at.session_state["agent_thread"] == thread
    assert len(at.session_state["agent_turns"]) == 2

    # rerunning for another reason redraws the same history from session state
    at.run()
    _no_exception(at)
    assert [m.name for m in at.chat_message] == ["user", "assistant", "user", "assistant"]
    assert at.chat_message[1].status[0].label == "Tool: convert_units"

    at.button(key="agent_new").click().run()
    _no_exception(at)
    assert not at.chat_message
    assert at.session_state["agent_turns"] == []
    assert at.session_state["agent_thread"] != thread


def test_the_readme_example_answers_397_8(open_page: Callable[[str], Any]) -> None:
    # Issue 16: the calculator's expression can only hold the request's numbers (17% stays a
    # percentage) and the answer's numbers those of the request and the result.
    at = open_page("agent")
    ask(at, "What is 17% of 2,340?")
    assistant = at.chat_message[1]
    [status] = assistant.status
    assert status.label == "Tool: calculator" and status.state == "complete"
    assert "397.8" in status.code[1].value
    answer = str(at.session_state["agent_turns"][0].items[-1])
    print(
        f"Agent page: {json.loads(status.code[0].value)} -> {status.code[1].value.strip()!r}; answer {answer!r}"
    )
    assert "397.8" in answer
