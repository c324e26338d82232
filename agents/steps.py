"""A typed, UI-friendly stream of what an agent does: tool calls, their results, the answer.

``stream_steps`` runs one user turn and yields, in order:

- :class:`TokenStep` - a piece of text as the model writes it (the final answer streams as
  tokens; text a model writes before calling a tool streams too),
- :class:`ToolCallStep` - the model asked for a tool (one step per call, parallel calls
  included),
- :class:`ToolResultStep` - what the tool returned (``is_error`` for failures and timeouts),
- :class:`AnswerStep` - the final answer, once, at the end (``streamed`` says whether its
  text already arrived as tokens; ``step_limit`` that the run stopped at ``max_steps``).

A CLI prints them; a Streamlit app renders them::

    for step in stream_steps(agent, "What is 17% of 2,340 kg in pounds?"):
        match step:
            case ToolCallStep(name=name, args=args):
                print(f"-> {name}({args})")
            case ToolResultStep(content=content):
                print(f"<- {content}")
            case TokenStep(text=text):
                print(text, end="")
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig

from agents.guards import STEP_LIMIT_REASON

__all__ = ["AnswerStep", "Step", "TokenStep", "ToolCallStep", "ToolResultStep", "stream_steps"]


@dataclass(frozen=True)
class ToolCallStep:
    """The model calls the tool ``name`` with ``args``; ``id`` matches its result."""

    name: str
    args: dict[str, Any]
    id: str


@dataclass(frozen=True)
class ToolResultStep:
    """What the tool returned to the model.

    Attributes:
        name: The tool.
        content: The text the model reads.
        id: The id of the :class:`ToolCallStep` it answers.
        is_error: The tool failed, timed out, or was called with bad arguments.
        artifact: Data the tool returned besides the text (e.g. the sources of a search).
    """

    name: str
    content: str
    id: str
    is_error: bool = False
    artifact: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class TokenStep:
    """A piece of text the model has just written."""

    text: str


@dataclass(frozen=True)
class AnswerStep:
    """The final answer of the turn.

    Attributes:
        text: The whole answer.
        streamed: Its text already arrived as :class:`TokenStep` (print it only if not).
        step_limit: The run stopped at its step limit; ``text`` says so.
    """

    text: str
    streamed: bool = False
    step_limit: bool = False


Step: TypeAlias = ToolCallStep | ToolResultStep | TokenStep | AnswerStep
"""One item of :func:`stream_steps`."""

_MODEL_NODE = "model"  # create_agent's model node; tokens from LLMs inside tools are not the answer


def _messages(update: Any) -> list[BaseMessage]:
    """The messages a node's update adds (updates are dicts, or lists of them)."""
    if isinstance(update, dict):
        value = update.get("messages")
        if isinstance(value, BaseMessage):
            return [value]
        if isinstance(value, list):
            return [m for m in value if isinstance(m, BaseMessage)]
        return []
    if isinstance(update, (list, tuple)):
        return [m for item in update for m in _messages(item)]
    return []


def _config(agent: Any, thread_id: str | None, config: RunnableConfig | None) -> RunnableConfig:
    merged: dict[str, Any] = dict(config or {})
    configurable = dict(merged.get("configurable") or {})
    if thread_id is not None:
        configurable["thread_id"] = thread_id
    elif "thread_id" not in configurable and getattr(agent, "checkpointer", None):
        configurable["thread_id"] = uuid.uuid4().hex  # a fresh conversation
    merged["configurable"] = configurable
    return RunnableConfig(**merged)  # type: ignore[typeddict-item]


def stream_steps(
    agent: Any,
    user_input: str,
    *,
    thread_id: str | None = None,
    config: RunnableConfig | None = None,
) -> Iterator[Step]:
    """Run one user turn of ``agent`` and yield its steps as they happen.

    Args:
        agent: A ``create_agent`` graph, e.g. from ``create_assistant()``.
        user_input: The user's message.
        thread_id: The conversation to continue (agents with memory). With memory and no
            thread id, the turn starts a fresh conversation.
        config: Extra LangGraph config (callbacks, ``recursion_limit``, ...).

    Yields:
        :class:`TokenStep`, :class:`ToolCallStep`, :class:`ToolResultStep`, and one
        :class:`AnswerStep` last: the model's final message, the step-limit message, or the
        result of a ``return_direct`` tool that ended the run.

    Errors of the model (e.g. ``ContextOverflowError``) propagate; tool errors never do.
    """
    turn = _Turn()
    stream = agent.stream(
        {"messages": [{"role": "user", "content": user_input}]},
        _config(agent, thread_id, config),
        stream_mode=["updates", "messages"],
    )
    for mode, data in stream:
        if mode == "messages":
            yield from turn.token(*data)
        else:
            for update in data.values():
                for message in _messages(update):
                    yield from turn.message(message)
    if turn.answer is not None:
        yield turn.answer


@dataclass
class _Turn:
    """What one run of :func:`stream_steps` has seen so far."""

    streamed_ids: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    answer: AnswerStep | None = None

    def token(self, chunk: Any, meta: dict[str, Any]) -> Iterator[Step]:
        if (
            isinstance(chunk, AIMessageChunk)
            and meta.get("langgraph_node") == _MODEL_NODE
            and (text := chunk.text)
        ):
            if chunk.id:
                self.streamed_ids.add(chunk.id)
            yield TokenStep(text)

    def message(self, message: BaseMessage) -> Iterator[Step]:
        if message.id is not None:
            if message.id in self.seen:
                return
            self.seen.add(message.id)
        if isinstance(message, ToolMessage):
            # a return_direct tool ends the run: its result is the answer
            self.answer = AnswerStep(text=message.text)
            yield ToolResultStep(
                name=message.name or "",
                content=message.text,
                id=message.tool_call_id,
                is_error=message.status == "error",
                artifact=message.artifact,
            )
        elif isinstance(message, AIMessage) and message.tool_calls:
            self.answer = None  # text before a tool call is not the answer
            for call in message.tool_calls:
                yield ToolCallStep(name=call["name"], args=dict(call["args"]), id=call["id"] or "")
        elif isinstance(message, AIMessage):
            self.answer = AnswerStep(
                text=message.text,
                streamed=message.id in self.streamed_ids,
                step_limit=message.response_metadata.get("finish_reason") == STEP_LIMIT_REASON,
            )
