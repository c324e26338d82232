"""Tool-calling agents built on LangChain's ``create_agent``: a general assistant, a research
agent that answers from your documents with [n] citations, and a typed step stream for UIs::

    from agents import create_assistant, stream_steps

    agent = create_assistant(max_steps=6, memory=True)
    for step in stream_steps(agent, "What is 17% of 2,340 kg in pounds?", thread_id="me"):
        print(step)

Every agent stops after ``max_steps`` model calls with a message saying so, gives each tool
call a timeout, and turns tool errors into messages the model reads. Nothing heavy happens
at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "AnswerStep",
    "Step",
    "TokenStep",
    "ToolCallStep",
    "ToolResultStep",
    "create_assistant",
    "create_research_agent",
    "stream_steps",
]

_LAZY = {
    "create_assistant": "agents.assistant",
    "create_research_agent": "agents.research",
    "AnswerStep": "agents.steps",
    "Step": "agents.steps",
    "TokenStep": "agents.steps",
    "ToolCallStep": "agents.steps",
    "ToolResultStep": "agents.steps",
    "stream_steps": "agents.steps",
}

if TYPE_CHECKING:
    from agents.assistant import create_assistant
    from agents.research import create_research_agent
    from agents.steps import AnswerStep, Step, TokenStep, ToolCallStep, ToolResultStep, stream_steps


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
