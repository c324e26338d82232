"""LangChain messages as chat-template messages, and the prompt they render to.

Tool calls and tool results go to the template in the OpenAI form that tool-aware
templates (Llama 3.x's) read; for a template without tool support they are written out
as text, and the tools are described in the system message.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from toolkit.backends.llamacpp.runtime import LoadedModel
from toolkit.backends.tool_calling import (
    template_supports_tools,
    tools_as_text,
    tools_system_prompt,
    with_system_note,
)
from toolkit.errors import ConfigurationError, UnsupportedInputError

__all__ = ["chat_template", "render_prompt", "text_content", "to_template_messages"]

_ROLES: dict[type[BaseMessage], str] = {
    SystemMessage: "system",
    HumanMessage: "user",
    AIMessage: "assistant",
    ToolMessage: "tool",
}


def chat_template(loaded: LoadedModel, override: str | None, *, model_name: str) -> str:
    """The Jinja chat template to use: ``override`` (text or file path), else the GGUF's.

    ``model_name`` (the GGUF file's name) is what the error names.

    Raises:
        ConfigurationError: Neither is given.
    """
    template = override or loaded.info.chat_template
    if not template:
        raise ConfigurationError(
            f"{model_name} has no chat template in its GGUF - set "
            "LLAMA_TOOLKIT_CHAT_TEMPLATE to a Jinja template file (llama.cpp ships them "
            "under models/templates/)"
        )
    path = Path(template).expanduser()
    if "{" not in template and path.is_file():
        template = _read_template(str(path), path.stat().st_mtime_ns)
    return template


@functools.lru_cache(maxsize=8)
def _read_template(path: str, mtime_ns: int) -> str:
    """A template file's text, read again only when the file changes (every turn renders it)."""
    return Path(path).read_text(encoding="utf-8")


def render_prompt(
    loaded: LoadedModel,
    template: str,
    messages: Sequence[BaseMessage],
    *,
    tools: list[dict[str, Any]] | None = None,
    tool_choice: str = "auto",
    call_examples: dict[str, dict[str, Any]] | None = None,
) -> str:
    """Render ``messages`` (and ``tools``, OpenAI-style schemas) with ``template``.

    The tools go to the template when it renders tools itself; otherwise earlier calls
    and results become text and the tools are listed in the system message.
    """
    extra: dict[str, Any] = {}
    if template_supports_tools(template):
        if tools:
            extra["tools"] = tools
    else:
        messages = tools_as_text(messages)
        if tools:
            messages = with_system_note(messages, tools_system_prompt(tools, tool_choice, call_examples))
    template_messages: Any = [m for message in messages for m in to_template_messages(message)]
    return loaded.formatter(template)(messages=template_messages, **extra).prompt


def to_template_messages(message: BaseMessage) -> list[dict[str, Any]]:
    """One message for the chat template (tool calls and results in the OpenAI form that
    tool-aware templates such as Llama 3.x's read).

    Raises:
        UnsupportedInputError: The message type or a content block is not text.
    """
    if isinstance(message, ChatMessage):
        role = message.role
    else:
        role = next((r for cls, r in _ROLES.items() if isinstance(message, cls)), None) or ""
        if not role:
            raise UnsupportedInputError(
                f"message type {type(message).__name__} is not supported by ChatLlama"
            )
    content = text_content(message)
    if isinstance(message, AIMessage) and message.tool_calls:
        # Llama 3.x templates take one call per assistant message.
        out: list[dict[str, Any]] = [{"role": "assistant", "content": content}] if content.strip() else []
        for call in message.tool_calls:
            function = {"name": call["name"], "arguments": call["args"]}
            out.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"type": "function", "id": call.get("id"), "function": function}],
                }
            )
        return out
    if isinstance(message, ToolMessage):
        return [{"role": "tool", "content": content, "tool_call_id": message.tool_call_id}]
    return [{"role": role, "content": content}]


def text_content(message: BaseMessage) -> str:
    """The text of a message's content (a string, or text blocks joined).

    Raises:
        UnsupportedInputError: The content has an image, audio, file or unknown block.
    """
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") in ("tool_use", "tool_call", "tool_call_chunk"):
            continue  # the same calls are in AIMessage.tool_calls, rendered from there
        elif block.get("type") in ("image", "image_url", "audio", "file", "video"):
            raise UnsupportedInputError(
                f"ChatLlama serves text-only GGUF models and got a {block['type']} block - use "
                "Ollama with a vision model (LLAMA_TOOLKIT_BACKEND=ollama LLAMA_TOOLKIT_MODEL=llama3.2-vision)"
            )
        else:
            raise UnsupportedInputError(f"unsupported content block type {block.get('type')!r}")
    return "".join(parts)
