"""OpenAI wire format: requests to LangChain messages and options, results to response shapes."""

from __future__ import annotations

import json
import re
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
    "check_request",
    "check_schema",
    "chunk_payload",
    "completion_payload",
    "error_payload",
    "generation_options",
    "new_id",
    "to_messages",
    "usage_payload",
]


MAX_MESSAGES = 1000
MAX_TOOLS = 64
MAX_STOPS = 8
MAX_SCHEMA_BYTES = 64 * 1024
MAX_SCHEMA_DEPTH = 16
MAX_REPEAT = 256
"""Largest repetition count a client's schema may ask for: grammars write repetitions out."""

_REPEAT_KEYS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_PATTERN_REPEAT = re.compile(r"\{\s*(\d+)\s*(?:,\s*(\d*)\s*)?\}")


def _depth(value: Any, limit: int) -> int:
    """Nesting depth of JSON ``value``, stopping early once past ``limit``."""
    stack = [(value, 1)]
    deepest = 0
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def check_schema(schema: Any, what: str) -> None:
    """Refuse a client's JSON schema that would make a huge grammar.

    Raises:
        ConfigurationError: not an object, over 64 KiB, nested over 16 deep, or a repetition
            (``maxItems``, ``maxLength``, a pattern's ``{n,m}``) over 256.
    """
    if not isinstance(schema, dict):
        raise ConfigurationError(f"{what} must be a JSON schema object")
    if len(json.dumps(schema)) > MAX_SCHEMA_BYTES:
        raise ConfigurationError(f"{what} is over {MAX_SCHEMA_BYTES} bytes - send a smaller schema")
    if _depth(schema, MAX_SCHEMA_DEPTH) > MAX_SCHEMA_DEPTH:
        raise ConfigurationError(f"{what} is nested more than {MAX_SCHEMA_DEPTH} deep")
    stack: list[Any] = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key in _REPEAT_KEYS:
            count = item.get(key)
            if isinstance(count, (int, float)) and count > MAX_REPEAT:
                raise ConfigurationError(
                    f"{what}: {key} {count} is over {MAX_REPEAT} - use a smaller bound or none"
                )
        pattern = item.get("pattern")
        if isinstance(pattern, str):
            for low, high in _PATTERN_REPEAT.findall(pattern):
                if int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
                    raise ConfigurationError(f"{what}: a pattern repeats over {MAX_REPEAT} times")
        stack.extend(item.values())


def _check_tools(tools: Any) -> None:
    if not isinstance(tools, list) or len(tools) > MAX_TOOLS:
        raise ConfigurationError(f"tools must be a list of at most {MAX_TOOLS} tools")
    for tool in tools:
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            raise ConfigurationError(
                'each tool must be {"type": "function", "function": {"name": ..., "parameters": ...}}'
            )
        check_schema(fn.get("parameters") or {"type": "object"}, f"the parameters of tool {fn['name']!r}")


def _check_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high
    ):
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}")


def check_request(body: dict[str, Any]) -> None:
    """Refuse a chat-completions request whose fields have the wrong type or are out of bounds.

    Raises:
        ConfigurationError: what is wrong and what to send instead (the server answers 400).
    """
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise ConfigurationError("messages must be a non-empty list of message objects")
    if len(messages) > MAX_MESSAGES:
        raise ConfigurationError(f"messages has {len(messages)} entries - send at most {MAX_MESSAGES}")
    if body.get("n") not in (None, 1):
        raise ConfigurationError("n must be 1 - this server gives one answer per request")
    if body.get("model") is not None and not isinstance(body["model"], str):
        raise ConfigurationError("model must be a string - GET /v1/models lists them")
    for name in ("response_format", "stream_options"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise ConfigurationError(f"{name} must be an object")
    if body.get("tools") is not None:
        _check_tools(body["tools"])
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        check_schema(spec.get("schema") if isinstance(spec, dict) else None, "response_format's schema")
    stop = body.get("stop")
    if (
        stop is not None
        and not isinstance(stop, str)
        and (not isinstance(stop, list) or len(stop) > MAX_STOPS or not all(isinstance(x, str) for x in stop))
    ):
        raise ConfigurationError(f"stop must be a string or a list of at most {MAX_STOPS} strings")
    _check_number(body, "temperature", 0, 2)
    _check_number(body, "top_p", 0, 1)
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ConfigurationError("seed must be an integer")


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
    if raw is not None and not isinstance(raw, list):
        raise ConfigurationError("tool_calls must be a list")
    calls = []
    for call in raw or []:
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict):
            raise ConfigurationError('each tool call must be {"id", "type": "function", "function": {...}}')
        try:
            args = json.loads(fn.get("arguments") or "{}")
        except (json.JSONDecodeError, TypeError) as exc:
            raise ConfigurationError(
                f"tool call arguments are not JSON ({exc}) - send a JSON object"
            ) from None
        if not isinstance(args, dict):
            raise ConfigurationError("tool call arguments must be a JSON object")
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
