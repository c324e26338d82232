"""Tools for agents: calculator, date and time, unit conversion, document search, workspace
files, summarize and translate, each a LangChain ``BaseTool`` a small model can use::

    from tools import calculator, default_tools

    print(calculator.invoke({"expression": "2,340 * 17%"}))    # 2,340 * 17% = 397.8
    tools = default_tools(llm, workspace="~/notes")             # for create_agent(llm, tools)

Every tool has typed, described arguments, accepts the sloppy input small models send, and
answers any failure (bad arguments included) with a message that says what to do, never an
exception. ``tool.metadata["examples"]`` lists requests it answers, for routing.

Nothing heavy happens at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "calculator",
    "convert_units",
    "current_datetime",
    "date_calculator",
    "default_tools",
    "evaluate",
    "make_document_search_tool",
    "make_summarize_tool",
    "make_translate_tool",
    "make_workspace_tools",
    "web_search",
]

_LAZY = {
    "calculator": "tools.arithmetic",
    "evaluate": "tools.arithmetic",
    "current_datetime": "tools.clock",
    "date_calculator": "tools.clock",
    "convert_units": "tools.units",
    "make_document_search_tool": "tools.documents",
    "make_workspace_tools": "tools.workspace",
    "make_summarize_tool": "tools.text",
    "make_translate_tool": "tools.text",
    "web_search": "tools.web",
    "default_tools": "tools.defaults",
}

if TYPE_CHECKING:
    from tools.arithmetic import calculator, evaluate
    from tools.clock import current_datetime, date_calculator
    from tools.defaults import default_tools
    from tools.documents import make_document_search_tool
    from tools.text import make_summarize_tool, make_translate_tool
    from tools.units import convert_units
    from tools.web import web_search
    from tools.workspace import make_workspace_tools


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
