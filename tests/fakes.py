"""Scripted chat models for testing chain logic without depending on a model's whims."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

MARKER = re.compile(r"\bM\d+\b")


def words(text: str) -> int:
    """The token counter the fakes use: one token per whitespace-separated word."""
    return len(text.split())


class ScriptedChatModel(BaseChatModel):
    """Answers with ``respond(last user text)``, cut to ``max_tokens`` words; records every prompt."""

    respond: Callable[[str], str]
    max_tokens: int = 256
    context_window: int = 1024
    prompts: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _answer(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(list(messages))
        out = self.respond(str(messages[-1].content)).split(" ")
        return " ".join(out[: self.max_tokens])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(self._answer(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        for i, word in enumerate(self._answer(messages).split(" ")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=(" " if i else "") + word))


def echo_markers(pad: int = 0) -> Callable[[str], str]:
    """A 'summary' that lists every marker in the text, in order, plus ``pad`` filler words."""

    def respond(text: str) -> str:
        return " ".join([*MARKER.findall(text), *(["filler"] * pad)])

    return respond


RANGE = re.compile(r"\bM(\d+)(?:\.\.M(\d+))?\b")


def covered(text: str) -> list[int]:
    """Every paragraph number a text names, in the order named (``M3`` or a range ``M3..M9``)."""
    out: list[int] = []
    for m in RANGE.finditer(text):
        a = int(m.group(1))
        out.extend(range(a, int(m.group(2) or a) + 1))
    return out


def range_markers(pad: int = 0) -> Callable[[str], str]:
    """A 'summary' that compresses the markers it reads into ranges, plus ``pad`` filler words.

    Ranges keep the summary of many parts short while still naming every paragraph, so a
    test can check that nothing was lost or reordered however deep the collapse goes.
    """

    def respond(text: str) -> str:
        numbers = covered(text)
        runs: list[list[int]] = []
        for n in numbers:
            if runs and n == runs[-1][1] + 1:
                runs[-1][1] = n
            else:
                runs.append([n, n])
        names = [f"M{a}" if a == b else f"M{a}..M{b}" for a, b in runs]
        return " ".join([*names, *(["filler"] * pad)])

    return respond


class EventRecorder(BaseCallbackHandler):
    """Records custom events and every model call's prompt and output."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.llm_outputs: list[Any] = []

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, dict(data)))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.llm_outputs.append(response)


class ScriptedToolModel(BaseChatModel):
    """A tool-calling chat model that replies with the next item of ``script``.

    Items are ``AIMessage`` (with or without ``tool_calls``), plain strings (answers), or
    callables of the prompt returning either. Tool calls without an id get a fresh one, so a
    repeated item still yields distinct calls. With ``repeat_last`` the last item answers every
    call once the script is used up; otherwise running out raises ``AssertionError``.

    ``bind_tools`` returns the model itself and records the tool names and ``tool_choice`` of
    each binding; ``prompts`` records every prompt. Streaming yields the text word by word,
    then the tool calls as ``tool_call_chunks``, like a real provider.
    """

    script: list[Any]
    repeat_last: bool = False
    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    bindings: list[tuple[list[str], Any]] = Field(default_factory=list)
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "scripted-tools"

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: Any = None, **kwargs: Any) -> Any:
        names = [t.name if hasattr(t, "name") else str(t.get("name", t)) for t in tools]
        self.bindings.append((names, tool_choice))
        return self

    def _next(self, messages: list[BaseMessage]) -> AIMessage:
        self.prompts.append(list(messages))
        if self.calls < len(self.script):
            item = self.script[self.calls]
        elif self.repeat_last and self.script:
            item = self.script[-1]
        else:
            raise AssertionError(
                f"the script has only {len(self.script)} replies; call {self.calls + 1} made"
            )
        self.calls += 1
        if callable(item):
            item = item(list(messages))
        if isinstance(item, str):
            return AIMessage(item)
        calls = [
            {**tc, "id": tc.get("id") or f"call_{self.calls}_{i}"} for i, tc in enumerate(item.tool_calls)
        ]
        return AIMessage(content=item.content, tool_calls=calls)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._next(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        message = self._next(messages)
        text = message.content if isinstance(message.content, str) else ""
        for i, word in enumerate(text.split(" ") if text else []):
            yield ChatGenerationChunk(message=AIMessageChunk(content=(" " if i else "") + word))
        tool_chunks = [
            tool_call_chunk(name=tc["name"], args=json.dumps(tc["args"]), id=tc["id"], index=i)
            for i, tc in enumerate(message.tool_calls)
        ]
        yield ChatGenerationChunk(
            message=AIMessageChunk(content="", tool_call_chunks=tool_chunks, chunk_position="last")
        )


def calling(*calls: tuple[str, dict[str, Any]], text: str = "") -> AIMessage:
    """An ``AIMessage`` calling each ``(tool name, args)``; ``ScriptedToolModel`` gives the ids."""
    return AIMessage(content=text, tool_calls=[{"name": n, "args": a, "id": None} for n, a in calls])
