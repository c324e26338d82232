"""What a chat-completions request runs: the chat model, or a toolkit capability, as events.

A run is a blocking generator of events, advanced on a worker thread:
``("text", str)`` answer text as it comes, ``("sources", list)`` a RAG answer's sources
(before any text), and ``("final", AIMessage)`` once at the end (tool calls, usage).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage

from toolkit.errors import ConfigurationError

__all__ = ["Event", "capability_run", "chat_run"]

Event = tuple[str, Any]


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if not name:
            raise ConfigurationError(
                'tool_choice object needs {"type": "function", "function": {"name": ...}}'
            )
        return name
    return choice


def _bound(model: BaseChatModel, body: dict[str, Any], opts: dict[str, Any]) -> Any:
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools and choice != "none":
        return model.bind_tools(tools, tool_choice=_tool_choice(choice), **opts)
    return model.bind(**opts) if opts else model


def _structured(model: BaseChatModel, fmt: dict[str, Any], opts: dict[str, Any]) -> Any:
    kind = fmt.get("type")
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise ConfigurationError('response_format json_schema needs {"json_schema": {"name", "schema"}}')
        runnable = model.with_structured_output(schema, method="json_schema", include_raw=True)
    elif kind == "json_object":
        runnable = model.with_structured_output({}, method="json_mode", include_raw=True)
    else:
        raise ConfigurationError(
            f"response_format type {kind!r} is not supported - use json_schema or json_object"
        )
    return runnable.bind(**opts) if opts else runnable


def chat_run(
    model: BaseChatModel, messages: list[BaseMessage], body: dict[str, Any], opts: dict[str, Any]
) -> Callable[[], Iterator[Event]]:
    """A run of the chat model itself (tools and response_format included)."""
    fmt = body.get("response_format")
    if fmt and fmt.get("type") != "text":
        runnable = _structured(model, fmt, opts)

        def structured() -> Iterator[Event]:
            out = runnable.invoke(messages)
            if out.get("parsing_error") is not None:
                raise ConfigurationError(f"the model's answer is not valid JSON: {out['parsing_error']}")
            text = json.dumps(out["parsed"])
            raw = out.get("raw")
            yield ("text", text)
            usage = raw.usage_metadata if isinstance(raw, AIMessage) else None
            yield ("final", AIMessage(text, usage_metadata=usage))

        return structured
    bound = _bound(model, body, opts)

    def streamed() -> Iterator[Event]:
        total: AIMessageChunk | None = None
        for chunk in bound.stream(messages):
            total = chunk if total is None else total + chunk
            if isinstance(chunk.content, str) and chunk.content:
                yield ("text", chunk.content)
        final = total or AIMessageChunk(content="")
        yield (
            "final",
            AIMessage(
                content=final.content,
                tool_calls=final.tool_calls,
                usage_metadata=final.usage_metadata,
                response_metadata=final.response_metadata,
            ),
        )

    return streamed


def _last_user(messages: list[BaseMessage]) -> tuple[str, list[BaseMessage]]:
    for i in range(len(messages) - 1, -1, -1):
        if isinstance(messages[i], HumanMessage):
            history = [m for m in messages[:i] if not isinstance(m, SystemMessage)]
            return str(messages[i].content), history
    raise ConfigurationError("no user message - send the text or question as the last user message")


def capability_run(
    model: BaseChatModel, name: str, messages: list[BaseMessage]
) -> Callable[[], Iterator[Event]]:
    """A run of ``rag:<collection>``, ``summarize`` or ``translate:<lang>`` on the last user message.

    Raises:
        ConfigurationError: ``name`` is no capability.
        IndexNotFoundError: the collection does not exist.
        UnknownLanguageError: the language is unknown.
    """
    text, history = _last_user(messages)
    if name.startswith("rag:"):
        from retrievers.search import HybridRetriever
        from retrievers.store import open_index

        index = open_index(name[4:], create=False)
        chain: Any = rag_chain_for(model, HybridRetriever(index=index))
        query: Any = {"question": text, "history": history}
    elif name == "summarize":
        from toolkit.chains import summarize_chain

        chain, query = summarize_chain(model), text
    elif name.startswith("translate:"):
        from toolkit.chains import translate_chain
        from toolkit.chains.languages import resolve_language

        resolve_language(name[len("translate:") :])  # unknown language: fail before the run
        chain, query = translate_chain(model, to=name[len("translate:") :]), text
    else:
        raise ConfigurationError(f"unknown model {name!r} - GET /v1/models lists the models this server has")

    def run() -> Iterator[Event]:
        parts: list[str] = []
        for piece in chain.stream(query):
            if isinstance(piece, dict):
                if "sources" in piece:
                    yield ("sources", list(piece["sources"]))
                piece = piece.get("answer", "")
            if piece:
                parts.append(str(piece))
                yield ("text", str(piece))
        yield ("final", AIMessage("".join(parts)))

    return run


def rag_chain_for(model: BaseChatModel, retriever: Any) -> Any:
    """The retrievers' RAG chain on ``model`` and ``retriever``."""
    from retrievers.rag import rag_chain

    return rag_chain(model, retriever)
