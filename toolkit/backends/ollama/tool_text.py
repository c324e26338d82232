"""Tool calls a model wrote as text, read back as ``tool_calls``.

A model without Ollama's native tools (or one that slips) answers a call as text:
``{"name": ..., "parameters": ...}``, ``<|python_tag|>...``, ``[fn(a=1)]``, possibly in a
code fence. :func:`calls_from_text` fixes a whole answer; :class:`CallSniffer` does the same
for a stream without holding back answers that are plain text.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from toolkit.backends.tool_calling import call_chunks, parse_tool_calls

__all__ = ["CallSniffer", "calls_from_text", "starts_like_call"]

_PYTHON_TAG = "<|python_tag|>"
_FENCE = re.compile(r"^```[A-Za-z]*\s*")


def calls_from_text(result: ChatResult, names: Collection[str]) -> ChatResult:
    """``result`` with an answer written as tool calls turned into ``tool_calls``.

    An answer that already has native calls, or that is not made only of calls to the
    offered tools, is left as it is.

    Args:
        result: The model's answer.
        names: The offered tools' names (none: nothing is read as a call).
    """
    generation = result.generations[0]
    message = generation.message
    if not names or not isinstance(message, AIMessage) or message.tool_calls:
        return result
    if not isinstance(message.content, str):
        return result
    content, calls = parse_tool_calls(message.content, names)
    if not calls:
        return result
    fixed = message.model_copy(update={"content": content, "tool_calls": calls})
    return ChatResult(
        generations=[ChatGeneration(message=fixed, generation_info=generation.generation_info)],
        llm_output=result.llm_output,
    )


def starts_like_call(text: str, names: Collection[str]) -> bool | None:
    """Whether streamed text begins as :func:`parse_tool_calls` would read a call.

    Returns:
        ``True``, ``False``, or ``None`` while too short to tell.
    """
    head = text.lstrip()
    # A fence or a list may hold calls: decide on what follows ("[1] says..." is text).
    rest = _FENCE.sub("", head, count=1) if head.startswith("```") else head[1:].lstrip()
    if head.startswith(("```", "[")):
        return starts_like_call(rest, names) if rest else None
    starts = (_PYTHON_TAG, "{", *(f"{n}(" for n in names))
    if any(head.startswith(s) for s in starts):
        return True
    if not head or any(s.startswith(head) for s in (*starts, "```", "[")):
        return None
    return False


class CallSniffer:
    """Passes streamed text through as it comes, except text that starts like a tool call.

    That text is held, and at the end becomes tool_call_chunks if it reads as calls to the
    offered tools, else it is let go as the text it was.

    Args:
        names: The offered tools' names (none: everything streams through).
    """

    def __init__(self, names: Collection[str]) -> None:
        self.names = names
        self.calling: bool | None = None if names else False  # False: text, streams through
        self.held: list[ChatGenerationChunk] = []
        self.text = ""

    def feed(self, chunk: ChatGenerationChunk) -> list[ChatGenerationChunk]:
        """The chunks to pass on now that ``chunk`` came (possibly none: held)."""
        if self.calling is False:
            return [chunk]
        self.held.append(chunk)
        if isinstance(chunk.message, AIMessageChunk) and chunk.message.tool_call_chunks:
            return self._release()  # native calls: the held text is the model's words
        if isinstance(chunk.message.content, str):
            self.text += chunk.message.content
        if self.calling is None:
            self.calling = starts_like_call(self.text, self.names)
            if self.calling is False:
                return self._release()
        return []

    def finish(self) -> list[ChatGenerationChunk]:
        """The chunks still to pass on once the stream ended: the calls, or the held text."""
        if not self.held:
            return []
        content, calls = parse_tool_calls(self.text, self.names)
        if not calls:
            return self._release()
        out = [
            ChatGenerationChunk(message=AIMessageChunk(content=content, tool_call_chunks=call_chunks(calls)))
        ]
        # What the held chunks carried besides text (usage, done_reason) still goes out.
        for held in self.held:
            message = held.message
            if held.generation_info or getattr(message, "usage_metadata", None) or message.additional_kwargs:
                out.append(
                    ChatGenerationChunk(
                        message=message.model_copy(update={"content": ""}),
                        generation_info=held.generation_info,
                    )
                )
        self.held = []
        return out

    def _release(self) -> list[ChatGenerationChunk]:
        self.calling = False
        held, self.held = self.held, []
        return held
