"""The OpenAI-compatible chat model: langchain-openai's chat model with checks and clear errors.

:class:`ToolkitChatOpenAI` subclasses ``BaseChatOpenAI`` (the Chat Completions client), not
``ChatOpenAI``: ``ChatOpenAI`` renames ``max_tokens`` to ``max_completion_tokens``, which
llama.cpp's servers ignore (the answer then runs to the context's end).

Tool calling is native: ``bind_tools`` sends ``tools`` and ``tool_choice`` to the server. A
call that comes back as text instead (``{"name": ..., "parameters": ...}``, ``<|python_tag|>``,
``[fn(a=1)]``; small models and some chat formats do this) becomes a proper ``tool_call``, as
on the Ollama backend; a text answer stays text.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_openai.chat_models.base import BaseChatOpenAI
from pydantic import Field, model_validator

from toolkit.backends.ollama.tool_text import CallSniffer, calls_from_text
from toolkit.backends.openai.client import (
    NO_API_KEY,
    model_window,
    not_served,
    served_models,
    translated_errors,
)
from toolkit.backends.tool_calling import normalize_tool_choice, tool_schemas
from toolkit.errors import ConfigurationError, ModelNotPulledError
from toolkit.settings import Settings

__all__ = ["ToolkitChatOpenAI", "build_chat_openai"]

DEFAULT_MAX_RETRIES = 1
"""Retries of a failed request (connection, 429, 5xx): one, so an unreachable server fails fast."""


def _openai_tool_choice(choice: str, names: Sequence[str]) -> str | dict[str, Any]:
    """``tool_choice`` as the server takes it.

    ``required`` with a single tool is sent as that tool by name: servers that grammar-constrain
    a named call (llama.cpp's) do it reliably, and llama-cpp-python's server fails on ``required``.
    """
    if choice == "required" and len(names) == 1:
        choice = names[0]
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


def _recoverable(kwargs: dict[str, Any]) -> tuple[str, ...]:
    """Names of the offered tools whose calls may come back as text (none under ``none``)."""
    if kwargs.get("tool_choice") == "none":
        return ()
    names = (t.get("function", {}).get("name") for t in kwargs.get("tools") or () if isinstance(t, dict))
    return tuple(n for n in names if isinstance(n, str))


def _flat_text(content: Any) -> Any:
    """Content made only of text blocks, as one string; any other content as it is."""
    if not isinstance(content, list):
        return content
    if all(isinstance(b, dict) and b.get("type") == "text" for b in content):
        return "".join(str(b.get("text", "")) for b in content)
    return content


class _CallNamesOnce:
    """Streamed tool-call chunks with each call's name and id only in its first chunk.

    OpenAI sends them once; llama-cpp-python's server repeats them in every chunk, which
    LangChain's chunk merging would concatenate (``get_weatherget_weather...``).
    """

    def __init__(self) -> None:
        self.seen: dict[int | None, tuple[str | None, str | None]] = {}

    def __call__(self, chunk: ChatGenerationChunk) -> ChatGenerationChunk:
        message = chunk.message
        if not isinstance(message, AIMessageChunk) or not message.tool_call_chunks:
            return chunk
        fixed = []
        for part in message.tool_call_chunks:
            if part["index"] not in self.seen:
                self.seen[part["index"]] = (part["name"], part["id"])
            else:
                name, call_id = self.seen[part["index"]]
                part = {
                    **part,
                    "name": None if part["name"] == name else part["name"],
                    "id": None if part["id"] == call_id else part["id"],
                }
            fixed.append(part)
        fields = {k: v for k, v in message if k not in ("tool_calls", "invalid_tool_calls", "type")}
        return ChatGenerationChunk(
            message=AIMessageChunk(**{**fields, "tool_call_chunks": fixed}),
            generation_info=chunk.generation_info,
        )


def _sources_of(response: Any) -> list[dict[str, Any]] | None:
    """The ``sources`` a ``llama-toolkit serve`` RAG answer carries beside ``choices``, if any."""
    extra = response if isinstance(response, dict) else getattr(response, "model_extra", None) or {}
    sources = extra.get("sources")
    return [dict(s) for s in sources if isinstance(s, dict)] if isinstance(sources, list) else None


class ToolkitChatOpenAI(BaseChatOpenAI):
    """A chat model on any OpenAI-compatible server (vLLM, llama.cpp's server, LM Studio,
    ``llama-toolkit serve``) whose errors say what to do and whose tool calls written as text
    are read back as calls. The sources of a ``serve`` RAG answer (``rag:<collection>``) are
    kept in ``response_metadata["sources"]``."""

    context_window: int | None = Field(
        default=None,
        gt=0,
        description="Tokens the served model takes in all, for the chains' budgets (the API does not "
        "say; None: the chains assume 4096).",
    )

    @model_validator(mode="before")
    @classmethod
    def _local_defaults(cls, values: Any) -> Any:
        # The openai client refuses to start without a key; local servers take none. The
        # environment's OPENAI_API_KEY goes only with the environment's base URL
        # (OPENAI_API_BASE, or OpenAI): never to a base_url given here, which may be anyone's.
        if not isinstance(values, dict):
            return values
        keyless = not {"api_key", "openai_api_key"} & values.keys()
        base_given = bool({"base_url", "openai_api_base"} & values.keys())
        if keyless and (base_given or not os.environ.get("OPENAI_API_KEY")):
            values = {**values, "api_key": NO_API_KEY}
        # langchain-openai shares one cached async HTTP client among models with the same URL;
        # its pooled connections belong to the event loop that opened them, so the next loop
        # (a second asyncio.run) fails with "Event loop is closed". Each model gets its own.
        if values.get("http_async_client") is None and not values.get("openai_proxy"):
            import openai

            values = {**values, "http_async_client": openai.DefaultAsyncHttpxClient()}
        return values

    @classmethod
    def from_settings(cls, settings: Settings, *, check: bool = True, **overrides: Any) -> ToolkitChatOpenAI:
        """The chat model ``settings`` describe; see :func:`build_chat_openai`."""
        return build_chat_openai(settings, check=check, **overrides)

    @property
    def _llm_type(self) -> str:
        return "toolkit-openai-compatible"

    @property
    def _base_url(self) -> str:
        return self.openai_api_base or "https://api.openai.com/v1"

    def _translated(self, kwargs: dict[str, Any]) -> Any:
        model = kwargs.get("model")
        return translated_errors(self._base_url, model if isinstance(model, str) else self.model_name)

    def _get_request_payload(
        self, input_: LanguageModelInput, *, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        # An assistant turn that only called tools goes out with `content: null`, and content
        # can be a list of text blocks: OpenAI allows both, llama-cpp-python's server refuses
        # them (HTTP 500) outside user turns. "" and the joined text mean the same to both.
        for message in payload.get("messages") or ():
            if message.get("role") == "assistant" and message.get("content") is None:
                message["content"] = ""
            elif message.get("role") != "user":
                message["content"] = _flat_text(message.get("content"))
        return payload

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its calls come back as ``AIMessage.tool_calls``.

        The tools go to the server natively (``tools``, ``tool_choice``). A call the model
        writes as text instead is read back as a call too.

        Args:
            tools: LangChain tools, pydantic models, functions or OpenAI-style schemas.
            tool_choice: ``"auto"`` (default: text or calls; sent explicitly, as servers
                differ on what no choice means), ``"required"`` / ``"any"`` / ``True`` (call a tool), a tool name or
                ``{"type": "function", "function": {"name": ...}}`` (call that tool), or
                ``"none"``. ``required`` with one tool is sent as that tool's name.
            kwargs: Passed on to ``BaseChatOpenAI.bind_tools`` (``strict``,
                ``parallel_tool_calls``, ``response_format``, other bound options).

        Raises:
            ConfigurationError: ``tool_choice`` is neither a mode nor a bound tool's name.
        """
        schemas = tool_schemas(tools)
        names = [s["function"]["name"] for s in schemas]
        choice = _openai_tool_choice(normalize_tool_choice(tool_choice, names), names)
        return super().bind_tools(schemas, tool_choice=choice, **kwargs)

    def _create_chat_result(
        self, response: dict[str, Any] | Any, generation_info: dict[str, Any] | None = None
    ) -> ChatResult:
        result = super()._create_chat_result(response, generation_info)
        sources = _sources_of(response)
        if sources is not None:
            for generation in result.generations:
                generation.message.response_metadata["sources"] = sources
        return result

    def _convert_chunk_to_generation_chunk(
        self, chunk: dict[str, Any], default_chunk_class: type, base_generation_info: dict[str, Any] | None
    ) -> ChatGenerationChunk | None:
        out = super()._convert_chunk_to_generation_chunk(chunk, default_chunk_class, base_generation_info)
        sources = _sources_of(chunk)
        if out is not None and sources is not None:
            out.message.response_metadata["sources"] = sources
        return out

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = _recoverable(kwargs)
        with self._translated(kwargs):
            result = super()._generate(messages, stop, run_manager, **kwargs)
        return calls_from_text(result, names)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        names = _recoverable(kwargs)
        with self._translated(kwargs):
            result = await super()._agenerate(messages, stop, run_manager, **kwargs)
        return calls_from_text(result, names)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        sniffer, once = CallSniffer(_recoverable(kwargs)), _CallNamesOnce()
        with self._translated(kwargs):
            # Callbacks see the chunks the caller gets, not text that turns into a call.
            for chunk in super()._stream(messages, stop, None, **kwargs):
                for out in sniffer.feed(once(chunk)):
                    if run_manager:
                        run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
        for out in sniffer.finish():
            if run_manager:
                run_manager.on_llm_new_token(out.text, chunk=out)
            yield out

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        sniffer, once = CallSniffer(_recoverable(kwargs)), _CallNamesOnce()
        with self._translated(kwargs):
            async for chunk in super()._astream(messages, stop, None, **kwargs):
                for out in sniffer.feed(once(chunk)):
                    if run_manager:
                        await run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
        for out in sniffer.finish():
            if run_manager:
                await run_manager.on_llm_new_token(out.text, chunk=out)
            yield out


def _served_model(
    base_url: str, key: str | None, model: str, check: bool, timeout: float
) -> tuple[str, int | None]:
    """The model to ask for and the window its ``/models`` entry declares: ``model`` (checked
    against the list when ``check``), else the first model listed."""
    if model and not check:
        return model, None
    entries = served_models(base_url, key, timeout=timeout)
    if not entries:
        raise ModelNotPulledError(
            f"the server at {base_url} lists no models - set LLAMA_TOOLKIT_MODEL to the model it serves"
        )
    if not model:
        return entries[0]["id"], model_window(entries[0])
    entry = next((e for e in entries if e["id"] == model), None)
    if entry is None:
        raise not_served(model, base_url, [e["id"] for e in entries])
    return model, model_window(entry)


def build_chat_openai(settings: Settings, *, check: bool = True, **overrides: Any) -> ToolkitChatOpenAI:
    """The chat model on the OpenAI-compatible server ``settings`` describe.

    From ``settings``: ``base_url`` (required), ``openai_api_key`` (else a placeholder key, which
    local servers ignore), the model (``resolved_model("openai")``; unset: the first model
    ``GET {base_url}/models`` lists), ``temperature``, ``top_p``, ``max_tokens``, ``seed`` and
    ``request_timeout`` (seconds to connect and for each read), and ``n_ctx`` as the
    ``context_window`` the chains budget for (unset: what the server's ``/models`` entry
    declares, e.g. vLLM's ``max_model_len``). ``repeat_penalty`` is not sent
    (it is not an OpenAI parameter); pass ``extra_body={"repeat_penalty": ...}`` to a server
    that takes it.

    Args:
        settings: The configuration.
        check: Ask the server now (``GET /models``) whether it answers and lists the model.
            Unchecked with no model configured, the list is still read, to pick the model.
        overrides: ``ToolkitChatOpenAI`` fields that take precedence (e.g. ``extra_body``,
            ``max_retries``, ``stream_usage``).

    Raises:
        ConfigurationError: ``base_url`` is not set, or the server refused the API key.
        OpenAIUnreachableError: No server answers at ``base_url`` (``check`` or no model set).
        ModelNotPulledError: The server does not list the model, or lists none.
    """
    base_url = settings.base_url
    if not base_url:
        raise ConfigurationError(
            "backend `openai` needs the server's URL - set LLAMA_TOOLKIT_BASE_URL "
            "(for example http://127.0.0.1:8000/v1)"
        )
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    timeout = min(settings.request_timeout, 30.0)
    model, window = _served_model(base_url, key, settings.resolved_model("openai"), check, timeout)
    fields: dict[str, Any] = {
        "model": model,
        "base_url": base_url,
        "api_key": key or NO_API_KEY,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
        "timeout": settings.request_timeout,
        "max_retries": DEFAULT_MAX_RETRIES,
        "context_window": settings.n_ctx or window,
        "stream_usage": True,  # servers that count streamed tokens say so; others ignore the option
    }
    return ToolkitChatOpenAI(**{**fields, **overrides})
