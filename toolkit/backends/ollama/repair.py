"""Grounded tool arguments without a grammar: check a call's numbers, repair once, else refuse.

Ollama cannot constrain decoding to the request's values as llama.cpp does
(:mod:`toolkit.backends.grounding`). A call is checked after the fact instead: a number
argument the request and its recent turns do not hold (``value=2`` for "Convert 2,340 kg")
sends the call back to the model once, with the numbers it may use; a second miss is refused
with a text answer that says so, so no tool runs on a value the user never gave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from toolkit.backends.grounding import candidates_for, grounded_values, ungrounded_numbers
from toolkit.backends.tool_calling import call_chunks
from toolkit.text.candidates import Candidates

__all__ = ["ArgumentRepair", "HeldCalls"]


def _ungrounded(message: AIMessage, schemas: Sequence[dict[str, Any]], found: Candidates) -> list[str]:
    by_name = {s["function"]["name"]: s for s in schemas}
    bad: list[str] = []
    for call in message.tool_calls:
        schema = by_name.get(call["name"])
        if schema is not None:
            bad += [f"{call['name']}({b})" for b in ungrounded_numbers(call["args"], schema, found)]
    return bad


@dataclass
class ArgumentRepair:
    """One repair turn: the conversation to send again, and how to judge its answer."""

    messages: list[BaseMessage]
    schemas: list[dict[str, Any]]
    found: Candidates
    bad: list[str]

    @classmethod
    def needed(
        cls, messages: Sequence[BaseMessage], answer: AIMessage, schemas: Sequence[dict[str, Any]]
    ) -> ArgumentRepair | None:
        """The repair ``answer``'s calls need, or None when every number they name is grounded."""
        found = candidates_for(messages)
        bad = _ungrounded(answer, schemas, found)
        if not bad:
            return None
        numbers = ", ".join(grounded_values(found.numbers)) or "none"
        note = (
            f"Error: {', '.join(bad)} - that number is not in the request. Use only the numbers "
            f"the user wrote ({numbers}) and call the tool again."
        )
        call = AIMessage(content="", tool_calls=answer.tool_calls)
        results = [ToolMessage(note, tool_call_id=c["id"] or "", name=c["name"]) for c in answer.tool_calls]
        return cls([*messages, call, *results], list(schemas), found, bad)

    def outcome(self, result: ChatResult) -> ChatResult:
        """``result`` if its calls are grounded now; else a text answer that refuses the call."""
        message = result.generations[0].message
        if not isinstance(message, AIMessage) or not message.tool_calls:
            return result
        still = _ungrounded(message, self.schemas, self.found)
        if not still:
            return result
        text = (
            f"I did not call the tool: {', '.join(still)} uses a number that is not in your "
            "request. Please restate the numbers you mean."
        )
        refusal = AIMessage(content=text, response_metadata=dict(message.response_metadata))
        return ChatResult(generations=[ChatGeneration(message=refusal)], llm_output=result.llm_output)


class HeldCalls:
    """Stream filter: text goes through at once; chunks that carry calls wait for the check."""

    def __init__(self) -> None:
        self.calls: list[ChatGenerationChunk] = []

    def take(self, chunks: Sequence[ChatGenerationChunk]) -> list[ChatGenerationChunk]:
        """The chunks to yield now; those with tool calls are kept back."""
        out = []
        for chunk in chunks:
            msg = chunk.message
            if isinstance(msg, AIMessageChunk) and (msg.tool_call_chunks or msg.tool_calls):
                self.calls.append(chunk)
            else:
                out.append(chunk)
        return out

    def release(self) -> list[ChatGenerationChunk]:
        """The kept chunks (the call passed, or there was nothing to check)."""
        calls, self.calls = self.calls, []
        return calls

    def result(self) -> ChatResult:
        """The kept calls as one answer, to check."""
        merged = self.calls[0]
        for chunk in self.calls[1:]:
            merged = merged + chunk
        message = merged.message
        answer = AIMessage(content="", tool_calls=getattr(message, "tool_calls", []))
        return ChatResult(generations=[ChatGeneration(message=answer)])

    @staticmethod
    def as_chunk(result: ChatResult) -> ChatGenerationChunk:
        """A whole answer as one stream chunk."""
        message = result.generations[0].message
        calls = getattr(message, "tool_calls", [])
        return ChatGenerationChunk(
            message=AIMessageChunk(content=message.text, tool_call_chunks=call_chunks(calls))  # type: ignore[arg-type]
        )
