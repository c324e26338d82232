"""OpenAI wire format: requests to LangChain messages and options, results to response shapes."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from toolkit.errors import ConfigurationError

__all__ = [
    "chunk_payload",
    "completion_payload",
    "error_payload",
    "generation_options",
    "new_id",
    "to_messages",
    "usage_payload",
]


def new_id(prefix: str = "chatcmpl") -> str:
    """A fresh response id such as ``chatcmpl-1f3a...``."""
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def _text(content: Any) -> str:
    """Message content given as a string or as a list of parts, as plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and part.get("type") in ("text", "input_text"):
                parts.append(str(part.get("text", "")))
            else:
                raise ConfigurationError(
                    "only text content parts are supported - send images as text or drop them"
                )
        return "".join(parts)
    raise ConfigurationError("message content must be a string or a list of text parts")


def _tool_calls(raw: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    calls = []
    for call in raw or []:
        fn = call.get("function") or {}
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigurationError(
                f"tool call arguments are not JSON ({exc}) - send a JSON object"
            ) from None
        calls.append({"name": fn.get("name", ""), "args": args, "id": call.get("id"), "type": "tool_call"})
    return calls


def to_messages(raw: list[dict[str, Any]]) -> list[BaseMessage]:
    """OpenAI ``messages`` as LangChain messages.

    Raises:
        ConfigurationError: a role is unknown or the content is not text.
    """
    if not raw:
        raise ConfigurationError("messages is empty - send at least one user message")
    out: list[BaseMessage] = []
    for m in raw:
        role = m.get("role")
        text = _text(m.get("content"))
        if role in ("system", "developer"):
            out.append(SystemMessage(text))
        elif role == "user":
            out.append(HumanMessage(text))
        elif role == "assistant":
            out.append(AIMessage(text, tool_calls=_tool_calls(m.get("tool_calls"))))
        elif role == "tool":
            out.append(ToolMessage(text, tool_call_id=str(m.get("tool_call_id") or "")))
        else:
            raise ConfigurationError(f"unknown message role {role!r} - use system, user, assistant or tool")
    return out


def generation_options(body: dict[str, Any], cap: int) -> dict[str, Any]:
    """The sampling options of a request, as chat-model call options.

    ``max_tokens`` / ``max_completion_tokens`` above ``cap`` (the server's ``max_tokens``
    setting) are capped to it, not refused.
    """
    opts: dict[str, Any] = {}
    for name in ("temperature", "top_p", "seed"):
        if body.get(name) is not None:
            opts[name] = body[name]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        if not isinstance(limit, int) or limit < 1:
            raise ConfigurationError("max_tokens must be a positive integer")
        opts["max_tokens"] = min(limit, cap)
    stop = body.get("stop")
    if stop:
        opts["stop"] = [stop] if isinstance(stop, str) else list(stop)
    return opts


def usage_payload(message: AIMessage | AIMessageChunk | None) -> dict[str, int]:
    """OpenAI ``usage`` from a message's ``usage_metadata`` (zeros when the model gives none)."""
    meta: dict[str, Any] = dict((message.usage_metadata if message is not None else None) or {})
    prompt, completion = int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _wire_calls(message: AIMessage, *, index: bool = False) -> list[dict[str, Any]]:
    calls = []
    for i, call in enumerate(message.tool_calls):
        wire: dict[str, Any] = {
            "id": call.get("id") or new_id("call"),
            "type": "function",
            "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
        }
        if index:
            wire["index"] = i
        calls.append(wire)
    return calls


def finish_reason(message: AIMessage, max_tokens_hit: bool = False) -> str:
    """``tool_calls``, ``length`` or ``stop``."""
    if message.tool_calls:
        return "tool_calls"
    meta = message.response_metadata or {}
    reason = meta.get("finish_reason") or meta.get("done_reason") or meta.get("stop_reason")
    return "length" if max_tokens_hit or reason == "length" else "stop"


def completion_payload(
    message: AIMessage, *, model: str, rid: str | None = None, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``chat.completion`` object for ``message``."""
    wire: dict[str, Any] = {
        "role": "assistant",
        "content": message.content if not message.tool_calls else None,
    }
    if message.tool_calls:
        wire["tool_calls"] = _wire_calls(message)
        wire["content"] = str(message.content) or None
    else:
        wire["content"] = str(message.content)
    out = {
        "id": rid or new_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": wire, "finish_reason": finish_reason(message), "logprobs": None}],
        "usage": usage_payload(message),
    }
    out.update(extra or {})
    return out


def chunk_payload(
    rid: str,
    model: str,
    created: int,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    usage: dict[str, int] | None = None,
) -> dict[str, Any]:
    """A ``chat.completion.chunk``; ``delta=None`` makes the usage-only final chunk (no choices)."""
    choices = (
        [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
    )
    out: dict[str, Any] = {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        out["usage"] = usage
    return out


def stream_calls(message: AIMessage) -> list[dict[str, Any]]:
    """Tool calls as stream deltas (each with its ``index``)."""
    return _wire_calls(message, index=True)


def error_payload(message: str, kind: str, code: str | None = None) -> dict[str, Any]:
    """OpenAI's error shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
