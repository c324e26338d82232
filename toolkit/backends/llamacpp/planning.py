"""What one turn of :class:`~toolkit.backends.llamacpp.model.ChatLlama` decodes under.

:func:`plan_tools` settles the tool side of a turn (who picks the tool, whether the answer
may or must be a call, the grammar that holds it) before the prompt is rendered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage

from toolkit.backends.grounding import candidates_for, unfillable
from toolkit.backends.llamacpp.grammar import call_grammar, text_grammar
from toolkit.backends.request_fit import misfit
from toolkit.backends.tool_calling import normalize_tool_choice
from toolkit.backends.tool_router import routed_choice
from toolkit.errors import ConfigurationError
from toolkit.text.candidates import Candidates

__all__ = ["ToolPlan", "plan_tools"]


@dataclass
class ToolPlan:
    """The tool side of one turn.

    Attributes:
        tools: The schemas offered in the prompt (None: none, also when the router chose text).
        choice: ``auto``, ``required``, ``none`` or a tool's name, after routing.
        grammar: The compiled grammar of the answer, or None for free text.
        calling: The answer may be a tool call.
        text_first: The grammar holds only the first token (it must not open a call).
    """

    tools: list[dict[str, Any]] | None
    choice: str
    grammar: Any
    calling: bool
    text_first: bool

    @property
    def forced(self) -> bool:
        """The answer is a call from its first token."""
        return self.calling and self.choice != "auto"


def plan_tools(
    messages: Sequence[BaseMessage],
    params: dict[str, Any],
    *,
    router: str,
    template: Callable[[], str],
    ground: bool,
) -> ToolPlan:
    """The tool plan of a turn, from its call options ``params`` (``tools``, ``tool_choice``,
    ``grammar``, ``tool_examples``, ``parallel_tool_calls``; popped).

    ``router`` and ``template`` (the chat template, read only when needed) decide who picks the
    tool when the choice is ``auto``; ``ground`` grounds call values in the conversation.

    Raises:
        ConfigurationError: ``response_format`` and tools in the same call.
    """
    tools: list[dict[str, Any]] | None = params.pop("tools")
    names = [t["function"]["name"] for t in tools or []]
    choice = normalize_tool_choice(params.pop("tool_choice"), names) if tools else "none"
    grammar = params.pop("grammar")
    examples = params.pop("tool_examples")
    parallel = params.pop("parallel_tool_calls")
    text_first = False
    # The conversation's candidate values, read once a turn, and only when tools are offered.
    found = candidates_for(messages) if ground and tools else None
    if tools and choice == "auto" and router != "model":
        choice = routed_choice(router, template(), messages, tools, examples)
        if (
            found is not None
            and choice not in ("auto", "none")
            and _cannot_serve(tools, choice, found, messages, examples)
        ):
            choice = "none"  # the call would invent a value or do another thing: answer in text
        if choice == "none":
            tools = None  # a small model answers better without a tool list it will not use
            # ...but it may copy an earlier call from the history: the answer must be text.
            text_first = grammar is None
    calling = choice != "none"
    if calling and grammar is not None:
        raise ConfigurationError("response_format and tools cannot be used in the same call")
    if calling:
        grammar = call_grammar(tools or [], choice, parallel, found)
    elif text_first:
        grammar, whole_answer = text_grammar(messages, found)
        text_first = not whole_answer  # else the grammar holds every token, not just the first
    return ToolPlan(tools=tools, choice=choice, grammar=grammar, calling=calling, text_first=text_first)


def _cannot_serve(
    tools: list[dict[str, Any]],
    name: str,
    found: Candidates,
    messages: Sequence[BaseMessage],
    examples: dict[str, Sequence[str]],
) -> bool:
    """The routed tool would have to invent a required value, or cannot do what the request asks."""
    schema = next((t for t in tools if t["function"]["name"] == name), None)
    if schema is None or not messages or not isinstance(messages[-1], HumanMessage):
        return False  # a repair turn: the tool was chosen for the request already
    request = messages[-1].text
    return (
        bool(unfillable(schema, found))
        or misfit(schema, request, found, examples.get(name) or ()) is not None
    )
