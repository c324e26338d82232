"""A general tool-calling assistant on LangChain's ``create_agent``.

The agent loops model -> tools -> model until the model answers without calling a tool.
:mod:`agents.guards` keeps the loop safe: at most ``max_steps`` model calls per user turn
(then a closing message says the limit was hit), and every tool call has a timeout and turns
any exception into a message the model reads. With memory, a conversation continues across
calls that share a ``thread_id``::

    from agents import create_assistant, stream_steps

    agent = create_assistant(memory=True)
    config = {"configurable": {"thread_id": "alice"}}
    agent.invoke({"messages": [("user", "What is 17% of 2,340 kg in pounds?")]}, config)
    for step in stream_steps(agent, "And in stones?", thread_id="alice"):
        print(step)
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import AgentMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from langgraph.graph.state import CompiledStateGraph

from agents.guards import StepLimitMiddleware, ToolGuardMiddleware
from toolkit.errors import ConfigurationError

__all__ = ["ASSISTANT_PROMPT", "build_agent", "check_limits", "create_assistant"]

# Short, plain sentences: a 1B-3B model follows a few concrete rules far better than a long
# policy. The tools' own descriptions say what each one does.
ASSISTANT_PROMPT = (
    "You are a helpful assistant. Use a tool when the question needs a calculation, today's "
    "date, a unit conversion, the user's documents or files. Call one tool at a time and wait "
    "for its result. Never guess a tool's result. If a tool returns an error, fix the input "
    "or answer without it. When you have what you need, give a short, direct answer."
)


def check_limits(max_steps: int, tool_timeout: float | None) -> None:
    """Fail fast, before any model loads, on limits the guards would refuse."""
    if max_steps < 1:
        raise ConfigurationError(f"max_steps must be at least 1, got {max_steps}")
    if tool_timeout is not None and tool_timeout <= 0:
        raise ConfigurationError(f"tool_timeout must be positive (or None for no limit), got {tool_timeout}")


def build_agent(
    llm: BaseChatModel,
    tools: Sequence[BaseTool],
    *,
    system_prompt: str,
    max_steps: int,
    tool_timeout: float | None,
    memory: bool = False,
    checkpointer: Any | None = None,
    middleware: Sequence[AgentMiddleware[Any, Any]] = (),
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """``create_agent`` with the step limit, the tool guard, and optional memory.

    Shared by :func:`create_assistant` and :func:`agents.research.create_research_agent`;
    ``middleware`` runs after the guards.
    """
    if checkpointer is None and memory:
        from langgraph.checkpoint.memory import InMemorySaver

        checkpointer = InMemorySaver()
    guards: list[AgentMiddleware[Any, Any]] = [
        StepLimitMiddleware(max_steps),
        ToolGuardMiddleware(tool_timeout),
    ]
    return create_agent(
        llm,
        list(tools),
        system_prompt=system_prompt,
        middleware=[*guards, *middleware],
        checkpointer=checkpointer,
    )


def create_assistant(
    llm: BaseChatModel | None = None,
    tools: Sequence[BaseTool] | None = None,
    *,
    system_prompt: str | None = None,
    max_steps: int = 8,
    tool_timeout: float | None = 30.0,
    memory: bool = False,
    checkpointer: Any | None = None,
    workspace: str | Path | None = None,
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """A tool-calling assistant: a LangGraph agent built with ``create_agent``.

    Example:
        .. code-block:: python

            agent = create_assistant(max_steps=4)
            result = agent.invoke({"messages": [("user", "What is 15% of 80?")]})
            print(result["messages"][-1].content)

    Args:
        llm: A chat model that supports ``bind_tools``; default: ``get_chat_model()``.
        tools: The tools; default: ``tools.default_tools(llm, workspace=workspace)``
            (calculator, date and time, unit conversion, document search, summarize,
            translate, and the workspace file tools when ``workspace`` is given).
        system_prompt: Replaces :data:`ASSISTANT_PROMPT`.
        max_steps: Model calls allowed per user turn. When they are used up the run ends with
            an ``AIMessage`` saying so (``response_metadata["finish_reason"] == "step_limit"``).
        tool_timeout: Seconds each tool call may take before the model is told it timed out
            (the call may keep running in a background thread; see
            :class:`agents.guards.ToolGuardMiddleware`). ``None``: no limit.
        memory: Keep conversations in memory (an ``InMemorySaver``), continued by passing
            ``config={"configurable": {"thread_id": ...}}``.
        checkpointer: Any LangGraph checkpointer (e.g. a SQLite one) instead; implies memory.
        workspace: Folder the default file tools may list and read. Only with default tools.

    Returns:
        The compiled agent graph: ``invoke``/``stream`` take ``{"messages": [...]}``. See
        :func:`agents.steps.stream_steps` for a typed step-by-step stream.

    Raises:
        ConfigurationError: ``max_steps`` below 1, ``tool_timeout`` not positive, or
            ``workspace`` given together with ``tools``.
    """
    check_limits(max_steps, tool_timeout)
    if tools is not None and workspace is not None:
        raise ConfigurationError(
            "workspace only configures the default tools; add the file tools to `tools` yourself"
        )
    if llm is None:
        from toolkit.backends.factory import get_chat_model

        llm = get_chat_model()
    if tools is None:
        from tools import default_tools  # type: ignore[attr-defined]

        tools = default_tools(llm, workspace=workspace)
    return build_agent(
        llm,
        tools,
        system_prompt=system_prompt or ASSISTANT_PROMPT,
        max_steps=max_steps,
        tool_timeout=tool_timeout,
        memory=memory,
        checkpointer=checkpointer,
    )
