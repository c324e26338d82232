"""The standard tool set for an agent: :func:`default_tools`."""

from __future__ import annotations

import os

from langchain_core.language_models import BaseChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_core.tools import BaseTool

__all__ = ["default_tools"]


def default_tools(
    llm: BaseChatModel | None = None,
    *,
    retriever: BaseRetriever | None = None,
    workspace: str | os.PathLike[str] | None = None,
    include_documents: bool = True,
) -> list[BaseTool]:
    """The tools an assistant usually needs, each answering failures with a readable message.

    Example:
        .. code-block:: python

            from tools import default_tools
            from toolkit import get_chat_model

            llm = get_chat_model()
            tools = default_tools(llm, workspace="~/notes")

    Args:
        llm: The chat model; given, ``summarize`` and ``translate`` (which call a model
            themselves) are added.
        retriever: The retriever behind ``search_documents``; default: the configured index.
        workspace: A folder; given, ``list_files`` and ``read_file`` (confined to it) are added.
        include_documents: Add ``search_documents``.

    Returns:
        ``calculator``, ``current_datetime``, ``date_calculator``, ``convert_units``, then
        ``search_documents``, ``list_files``, ``read_file``, ``summarize``, ``translate`` as
        asked. Nothing heavy is loaded until a tool runs (no index, no pint, no model).

    Raises:
        ConfigurationError: ``workspace`` does not exist or is not a folder.
    """
    from tools.arithmetic import calculator
    from tools.clock import current_datetime, date_calculator
    from tools.units import convert_units

    found: list[BaseTool] = [calculator, current_datetime, date_calculator, convert_units]
    if include_documents:
        from tools.documents import make_document_search_tool

        found.append(make_document_search_tool(retriever))
    if workspace is not None:
        from tools.workspace import make_workspace_tools

        found.extend(make_workspace_tools(workspace))
    if llm is not None:
        from tools.text import make_summarize_tool, make_translate_tool

        found += [make_summarize_tool(llm), make_translate_tool(llm)]
    return found
