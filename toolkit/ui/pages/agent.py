"""Agent page: a tool-calling assistant whose tool calls show as they happen.

Each browser session has its own conversation (a thread id in session state) and its own
agent per model choice; the agents of a session share one memory, so switching the model
keeps the conversation.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from toolkit.ui import resources as res
from toolkit.ui.components import show_errors, show_markdown

__all__ = ["MAX_STEPS", "TOOL_LABEL", "render"]

MAX_STEPS = 6
"""Model calls per question before the agent stops with a note."""
TOOL_TIMEOUT = 60.0
"""Seconds a tool call may take (summarize and translate call the model themselves)."""
TOOL_LABEL = "Tool: {name}"
"""Label of the status box of each tool call."""

_THREAD = "agent_thread"  # this session's conversation id
_TURNS = "agent_turns"  # list[_Turn]: what this session's conversation showed
_AGENTS = "agent_graphs"  # {(model choice, temperature, collection): agent}
_MEMORY = "agent_memory"  # the checkpointer the session's agents share


@dataclass
class _Tool:
    name: str
    args: dict[str, Any]
    id: str
    result: str | None = None
    is_error: bool = False


@dataclass
class _Turn:
    question: str
    items: list[str | _Tool] = field(default_factory=list)
    """Text and tool calls in the order they happened."""
    note: str = ""
    done: bool = False
    stats: str = ""
    """How the turn went ("Done in 3.2 s · 1 tool call"), shown under the answer."""


def _state() -> Any:
    state = st.session_state
    state.setdefault(_THREAD, uuid.uuid4().hex)
    state.setdefault(_TURNS, [])
    return state


def _new_conversation() -> None:
    state = st.session_state
    state[_THREAD] = uuid.uuid4().hex
    state[_TURNS] = []
    state.pop(_AGENTS, None)  # the agents hold the old memory: let it go with them
    state.pop(_MEMORY, None)


def _tools(llm: Any, collection: str) -> list[Any]:
    """The default tools, with document search over this session's collection.

    The search tool opens the collection on its first search (and says how to index
    documents if there are none), so building the agent loads no index.
    """
    from tools.defaults import default_tools
    from tools.documents import make_document_search_tool

    found = default_tools(llm, include_documents=False)
    at = next((i for i, t in enumerate(found) if t.name == "convert_units"), len(found) - 1) + 1
    found.insert(at, make_document_search_tool(collection=collection))
    return found


def _agent() -> Any:
    """This session's agent for its current model choice, built on first use."""
    from langgraph.checkpoint.memory import InMemorySaver

    from agents.assistant import create_assistant

    state = st.session_state
    collection = res.current_collection()
    key = (res.current_choice(), state.get(res.TEMPERATURE_KEY), collection)
    agents = state.setdefault(_AGENTS, {})
    if key not in agents:
        llm = res.get_llm()
        memory = state.setdefault(_MEMORY, InMemorySaver())
        agents[key] = create_assistant(
            llm,
            _tools(llm, collection),
            memory=True,
            checkpointer=memory,
            max_steps=MAX_STEPS,
            tool_timeout=TOOL_TIMEOUT,
        )
    return agents[key]


def _args(tool: _Tool) -> None:
    st.code(json.dumps(tool.args, ensure_ascii=False, indent=2, default=str), language="json")


def _result(tool: _Tool) -> None:
    st.caption("Error" if tool.is_error else "Result")
    st.code(tool.result or "(no output)", language=None, wrap_lines=True)


def _show(turn: _Turn) -> None:
    with st.chat_message("user"):
        show_markdown(turn.question)
    with st.chat_message("assistant"):
        for item in turn.items:
            if isinstance(item, str):
                show_markdown(item)
                continue
            finished = item.result is not None and not item.is_error
            with st.status(TOOL_LABEL.format(name=item.name), state="complete" if finished else "error"):
                _args(item)
                if item.result is not None:
                    _result(item)
                else:
                    st.caption("No result: the turn ended before the tool answered.")
        if turn.note:
            st.caption(turn.note)
        if turn.stats:
            st.caption(turn.stats)


class _Writer:
    """Draws one turn's steps as they arrive, recording them in the turn."""

    def __init__(self, turn: _Turn) -> None:
        self.turn = turn
        self.text: Any = None  # the placeholder text streams into; None until text starts
        self.boxes: dict[str, Any] = {}

    def token(self, text: str) -> None:
        if self.text is None:  # text starts here, after any tool step before it
            self.text = st.empty()
            self.turn.items.append("")
        current = str(self.turn.items[-1]) + text
        self.turn.items[-1] = current
        show_markdown(current + "▌", self.text)

    def end_text(self) -> None:
        if self.text is not None:
            show_markdown(str(self.turn.items[-1]), self.text)
            self.text = None

    def call(self, name: str, args: dict[str, Any], call_id: str) -> None:
        self.end_text()
        tool = _Tool(name, args, call_id)
        self.turn.items.append(tool)
        box = st.status(TOOL_LABEL.format(name=name), expanded=True)
        with box:
            _args(tool)
        self.boxes[call_id] = (box, tool)

    def result(self, name: str, content: str, call_id: str, is_error: bool) -> None:
        self.end_text()
        if call_id not in self.boxes:  # a result without its call: show it on its own
            self.call(name, {}, call_id)
        box, tool = self.boxes.pop(call_id)
        tool.result, tool.is_error = content, is_error
        with box:
            _result(tool)
        box.update(
            label=TOOL_LABEL.format(name=name), state="error" if is_error else "complete", expanded=False
        )

    def answer(self, text: str, streamed: bool, step_limit: bool) -> None:
        self.end_text()
        if not streamed and text.strip():
            show_markdown(text)
            self.turn.items.append(text)
        if step_limit:
            self.turn.note = (
                f"The agent reached its step limit ({MAX_STEPS} model calls) before it could finish."
            )
        elif not text.strip():
            self.turn.note = "The agent gave an empty answer."
        if self.turn.note:
            st.caption(self.turn.note)
        self.turn.done = True


def _run(turn: _Turn) -> None:
    from agents.steps import AnswerStep, TokenStep, ToolCallStep, ToolResultStep, stream_steps

    writer = _Writer(turn)
    started = time.perf_counter()
    try:
        for step in stream_steps(_agent(), turn.question, thread_id=st.session_state[_THREAD]):
            if isinstance(step, TokenStep):
                writer.token(step.text)
            elif isinstance(step, ToolCallStep):
                writer.call(step.name, step.args, step.id)
            elif isinstance(step, ToolResultStep):
                writer.result(step.name, step.content, step.id, step.is_error)
            elif isinstance(step, AnswerStep):
                writer.answer(step.text, step.streamed, step.step_limit)
    finally:
        writer.end_text()
        if not turn.done:
            turn.note = "The turn ended before the agent answered."
    calls = sum(isinstance(item, _Tool) for item in turn.items)
    turn.stats = (
        f"Done in {time.perf_counter() - started:.1f} s · {calls} tool call{'' if calls == 1 else 's'}"
    )
    st.caption(turn.stats)


def _sidebar() -> None:
    with st.sidebar:
        st.subheader("Agent")
        st.button(
            "New conversation",
            icon=":material/add:",
            on_click=_new_conversation,
            key="agent_new",
            width="stretch",
        )
        st.caption(f"Stops after {MAX_STEPS} model calls per question.")


def render() -> None:
    """Draw the agent page."""
    state = _state()
    _sidebar()
    st.title("Agent", anchor=False)
    st.caption("Calculator, dates, unit conversion, document search, summarize and translate.")
    for turn in state[_TURNS]:
        _show(turn)
    question = st.chat_input("Ask the agent")
    if not question or not question.strip():
        return
    turn = _Turn(question.strip())
    state[_TURNS] = [*state[_TURNS], turn]  # kept even if the run is interrupted
    with st.chat_message("user"):
        show_markdown(turn.question)
    with st.chat_message("assistant"), show_errors("answer"):
        _run(turn)
