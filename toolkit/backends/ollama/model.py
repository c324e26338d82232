"""The Ollama chat model: langchain-ollama's ``ChatOllama`` with checks and clear errors.

The context size is always sent (``num_ctx``): Ollama's own default is small and it
truncates longer prompts without saying so.

Tool calling: a model whose ``/api/show`` capabilities include ``tools`` gets Ollama's native
``tools``; any other model gets the tools in its system message (Ollama would refuse
``tools`` with HTTP 400) and its answer is read back as calls. Either way a call that comes
back as text (``{"name": ..., "parameters": ...}``, ``<|python_tag|>``, ``[fn(a=1)]``) becomes
a proper ``tool_call``; a text answer stays text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_ollama import ChatOllama
from pydantic import Field, model_validator
from typing_extensions import Self

from toolkit.backends.ollama.client import (
    DEFAULT_DEADLINE,
    FALLBACK_CTX,
    ollama_context_size,
    show_ollama_model,
    translated_errors,
)
from toolkit.backends.ollama.limits import AsyncLimitedTransport, LimitedTransport
from toolkit.backends.ollama.repair import ArgumentRepair, HeldCalls
from toolkit.backends.ollama.tool_text import CallSniffer, calls_from_text
from toolkit.backends.tool_calling import (
    normalize_tool_choice,
    tool_names_by_id,
    tool_schemas,
    tools_as_text,
    tools_system_prompt,
    with_system_note,
)
from toolkit.errors import UnsupportedInputError
from toolkit.settings import Settings

__all__ = ["ToolkitChatOllama", "build_chat_ollama"]

# (host, model) -> whether the model takes Ollama's native ``tools``. A pulled model's
# capabilities do not change, so /api/show is asked once per process.
_TOOL_SUPPORT: dict[tuple[str, str], bool] = {}


def _show_supports_tools(show: Mapping[str, Any]) -> bool:
    """Whether an /api/show answer says the model takes native tools."""
    capabilities = show.get("capabilities")
    if isinstance(capabilities, list):
        return "tools" in capabilities
    # Servers older than the capabilities field decided by the template: does it render .Tools?
    return ".Tools" in str(show.get("template") or "")


def _has_images(messages: Sequence[BaseMessage]) -> bool:
    for m in messages:
        if isinstance(m.content, list):
            for block in m.content:
                if isinstance(block, dict) and block.get("type") in ("image", "image_url"):
                    return True
    return False


def _pop_tools(kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """A call's tool schemas and normalized tool_choice, taken out of ``kwargs``.

    ``tool_choice`` must not reach Ollama's client, which has no such parameter.
    """
    tools = kwargs.pop("tools", None) or []
    choice = kwargs.pop("tool_choice", None)
    if not tools:
        return [], "none"
    schemas = tool_schemas(tools)
    return schemas, normalize_tool_choice(choice, [s["function"]["name"] for s in schemas])


def _with_tools(
    messages: Sequence[BaseMessage],
    kwargs: dict[str, Any],
    schemas: list[dict[str, Any]],
    choice: str,
    native: bool,
) -> tuple[list[BaseMessage], tuple[str, ...]]:
    """The messages to send (``kwargs["tools"]`` set when native), and the tool names whose
    calls may come back as text (none when no tools are offered)."""
    out = list(messages) if native else tools_as_text(messages)
    if not schemas or choice == "none":
        return out, ()
    if native:
        kwargs["tools"] = schemas
        if choice != "auto":  # Ollama has no tool_choice: ask in words.
            out = with_system_note(out, _call_instruction(choice))
    else:
        out = with_system_note(out, tools_system_prompt(schemas, choice))
    return out, tuple(s["function"]["name"] for s in schemas)


def _call_instruction(choice: str) -> str:
    return "Answer by calling one of the tools." if choice == "required" else f"Answer by calling {choice}."


class ToolkitChatOllama(ChatOllama):
    """``ChatOllama`` whose errors say what to do, which refuses images for text-only models,
    and which calls tools on any model (natively when it has the ``tools`` capability)."""

    capabilities: list[str] | None = Field(
        default=None, description="Capabilities from /api/show (e.g. completion, vision, tools)."
    )
    ground_arguments: bool = Field(
        default=True,
        description="Check each tool call's numbers against the request: a number the user never "
        "wrote gets one repair turn, then the call is refused with a message (no grammar here).",
    )
    request_deadline: float = Field(
        default=DEFAULT_DEADLINE,
        gt=0,
        description="Seconds one request may take in all; then GenerationTimeoutError keeps the text "
        "so far. A streamed answer past num_predict (+ slack) ends in GenerationLimitError.",
    )

    @model_validator(mode="after")
    def _set_clients(self) -> Self:
        # Every request goes through transports that enforce the deadline and the token cap
        # (request_timeout alone bounds each read, not the answer).
        self.sync_client_kwargs = {
            "transport": LimitedTransport(self.request_deadline),
            **(self.sync_client_kwargs or {}),
        }
        self.async_client_kwargs = {
            "transport": AsyncLimitedTransport(self.request_deadline),
            **(self.async_client_kwargs or {}),
        }
        return super()._set_clients()  # type: ignore[operator]  # pydantic unwraps the validator

    @classmethod
    def from_settings(cls, settings: Settings, *, check: bool = True, **overrides: Any) -> ToolkitChatOllama:
        """The chat model ``settings`` describe; see :func:`build_chat_ollama`."""
        return build_chat_ollama(settings, check=check, **overrides)

    @property
    def _host(self) -> str:
        return self.base_url or "http://127.0.0.1:11434"

    def _model_for(self, kwargs: dict[str, Any]) -> str:
        """The model a call goes to: ``ChatOllama`` sends a per-call ``model=`` kwarg."""
        override = kwargs.get("model")
        return override if isinstance(override, str) and override else self.model

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        # ChatOllama reports self.model even when a call overrides it; trace the model used.
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_model_name"] = self._model_for(kwargs)
        return params

    def _check_input(self, messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> None:
        # The capabilities are those of self.model; a per-call override is not checked.
        if self._model_for(kwargs) != self.model:
            return
        if self.capabilities is not None and "vision" not in self.capabilities and _has_images(messages):
            raise UnsupportedInputError(
                f"`{self.model}` cannot read images (no vision capability) - use a vision model "
                "such as `llama3.2-vision` (ollama pull llama3.2-vision)"
            )

    # -- tools

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; its calls come back as ``AIMessage.tool_calls``.

        A model with Ollama's ``tools`` capability gets them natively; any other model gets
        them listed in its system message and its answer is read back as calls. A call the
        model writes as text instead of a native call is read back too.

        Args:
            tools: LangChain tools, pydantic models, functions or OpenAI-style schemas.
            tool_choice: ``"auto"`` (default: text or calls), ``"required"`` / ``"any"`` (call
                a tool), a tool name (call that tool), or ``"none"`` (no tools are sent).
                Ollama has no such option, so ``required`` and a name add a one-line request
                to the system message; a model may still answer in text, and that answer
                comes back as it is (no retry).
            kwargs: Other options bound with the tools.

        Raises:
            ConfigurationError: ``tool_choice`` is neither a mode nor a bound tool's name.
        """
        schemas = tool_schemas(tools)
        choice = normalize_tool_choice(tool_choice, [s["function"]["name"] for s in schemas])
        return self.bind(tools=schemas, tool_choice=choice, **kwargs)

    def _known_tool_support(self, model: str) -> bool | None:
        if model == self.model and self.capabilities is not None:
            return "tools" in self.capabilities
        return _TOOL_SUPPORT.get((self._host, model))

    def _supports_tools(self, model: str) -> bool:
        known = self._known_tool_support(model)
        if known is None:
            # Raw JSON for the reason show_ollama_model gives; this client has the call's host.
            show = self._client._request_raw("POST", "/api/show", json={"model": model}).json()
            known = _TOOL_SUPPORT[(self._host, model)] = _show_supports_tools(show)
        return known

    async def _asupports_tools(self, model: str) -> bool:
        known = self._known_tool_support(model)
        if known is None:
            response = await self._async_client._request_raw("POST", "/api/show", json={"model": model})
            known = _TOOL_SUPPORT[(self._host, model)] = _show_supports_tools(response.json())
        return known

    def _convert_messages_to_ollama_messages(self, messages: list[BaseMessage]) -> Sequence[Any]:
        # A tool result names its tool (Ollama's `tool_name`): templates that show results
        # by tool need it, and langchain-ollama's `tool_call_id` is dropped by the client.
        converted = list(super()._convert_messages_to_ollama_messages(messages))
        names = tool_names_by_id(messages)
        for message, sent in zip(messages, converted, strict=True):
            if isinstance(message, ToolMessage) and isinstance(sent, dict):
                name = message.name or names.get(message.tool_call_id)
                if name:
                    sent["tool_name"] = name
        return converted

    # -- calls: sync and async share _prepare; only the capability lookup differs.

    def _translated(self, kwargs: dict[str, Any]) -> AbstractContextManager[None]:
        return translated_errors(self._host, self._model_for(kwargs))

    def _prepare(
        self, messages: list[BaseMessage], kwargs: dict[str, Any], native: bool | None = None
    ) -> tuple[list[BaseMessage], tuple[str, ...]]:
        """The one request path of every call: check the input, take the tools out of
        ``kwargs`` and put them in the request the way the model takes them.

        Args:
            messages: The call's messages.
            kwargs: The call's options; ``tools`` and ``tool_choice`` are replaced by what
                Ollama's client takes.
            native: Whether the model takes native tools, when already looked up (the async
                calls look it up without blocking); ``None``: look it up here if needed.

        Returns:
            The messages to send and the tool names whose calls may come back as text.
        """
        self._check_input(messages, kwargs)
        schemas, choice = _pop_tools(kwargs)
        if not schemas:
            native = True
        elif native is None:
            native = self._supports_tools(self._model_for(kwargs))
        return _with_tools(messages, kwargs, schemas, choice, native)

    def _repair_for(
        self, messages: list[BaseMessage], result: ChatResult, kwargs: dict[str, Any]
    ) -> ArgumentRepair | None:
        """The one repair turn a call needs when it names numbers the request does not hold."""
        if not self.ground_arguments or not kwargs.get("tools"):
            return None
        message = result.generations[0].message
        if not isinstance(message, AIMessage) or not message.tool_calls:
            return None
        return ArgumentRepair.needed(messages, message, tool_schemas(kwargs["tools"]))

    async def _anative(self, kwargs: dict[str, Any]) -> bool | None:
        """The async capability lookup for :meth:`_prepare` (``None`` when no tools are offered)."""
        return await self._asupports_tools(self._model_for(kwargs)) if kwargs.get("tools") else None

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        original = dict(kwargs)
        with self._translated(kwargs):
            sent, names = self._prepare(messages, kwargs)
            result = calls_from_text(super()._generate(sent, stop, run_manager, **kwargs), names)
            repair = self._repair_for(messages, result, original)
            if repair is None:
                return result
            again = dict(original)
            sent, names = self._prepare(repair.messages, again)
            retried = calls_from_text(super()._generate(sent, stop, None, **again), names)
        return repair.outcome(retried)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        original = dict(kwargs)
        with self._translated(kwargs):
            sent, names = self._prepare(messages, kwargs)
            sniffer, held = CallSniffer(names), HeldCalls()
            # Callbacks see the chunks the caller gets, not text that turns into a call.
            for chunk in super()._stream(sent, stop, None, **kwargs):
                for out in held.take(sniffer.feed(chunk)):
                    if run_manager:
                        run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
            outs = held.take(sniffer.finish())
            repair = self._repair_for(messages, held.result(), original) if held.calls else None
            outs += held.release()
            if repair is not None:
                again = dict(original)
                sent, names = self._prepare(repair.messages, again)
                retried = calls_from_text(super()._generate(sent, stop, None, **again), names)
                outs = [HeldCalls.as_chunk(repair.outcome(retried))]
            for out in outs:
                if run_manager:
                    run_manager.on_llm_new_token(out.text, chunk=out)
                yield out

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        original = dict(kwargs)
        with self._translated(kwargs):
            sent, names = self._prepare(messages, kwargs, await self._anative(kwargs))
            result = calls_from_text(await super()._agenerate(sent, stop, run_manager, **kwargs), names)
            repair = self._repair_for(messages, result, original)
            if repair is None:
                return result
            again = dict(original)
            sent, names = self._prepare(repair.messages, again, await self._anative(again))
            retried = calls_from_text(await super()._agenerate(sent, stop, None, **again), names)
        return repair.outcome(retried)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        original = dict(kwargs)
        with self._translated(kwargs):
            sent, names = self._prepare(messages, kwargs, await self._anative(kwargs))
            sniffer, held = CallSniffer(names), HeldCalls()
            async for chunk in super()._astream(sent, stop, None, **kwargs):
                for out in held.take(sniffer.feed(chunk)):
                    if run_manager:
                        await run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
            outs = held.take(sniffer.finish())
            repair = self._repair_for(messages, held.result(), original) if held.calls else None
            outs += held.release()
            if repair is not None:
                again = dict(original)
                sent, names = self._prepare(repair.messages, again, await self._anative(again))
                retried = calls_from_text(await super()._agenerate(sent, stop, None, **again), names)
                outs = [HeldCalls.as_chunk(repair.outcome(retried))]
            for out in outs:
                if run_manager:
                    await run_manager.on_llm_new_token(out.text, chunk=out)
                yield out


def build_chat_ollama(settings: Settings, *, check: bool = True, **overrides: Any) -> ToolkitChatOllama:
    """The Ollama chat model ``settings`` describe, checked against the server.

    Every option comes from ``settings`` (so from its defaults, the environment and
    ``.env``): the model (``llama3.2`` when unset), ``ollama_host``, ``n_ctx`` (else the
    model's trained context capped by ``kv_cache_budget_mb``), the sampling settings,
    ``max_tokens`` (also enforced: a longer stream is cut off), ``seed``, ``n_gpu_layers``,
    ``n_threads``, ``request_timeout`` (each read) and ``request_deadline`` (the whole request).

    Args:
        settings: The configuration.
        check: Ask the server now (``/api/show``) whether it answers and has the model; this
            also reads the model's context length and capabilities. Unchecked, ``num_ctx``
            is ``n_ctx`` or 8192.
        overrides: ``ToolkitChatOllama`` fields that take precedence (e.g. ``keep_alive``).

    Raises:
        OllamaUnreachableError: ``check`` and the server does not answer.
        ModelNotPulledError: ``check`` and the server does not have the model.
        ConfigurationError: ``n_ctx`` is larger than the model's trained context.
    """
    host, model = settings.ollama_host, settings.resolved_model("ollama")
    capabilities: list[str] | None = None
    num_ctx = settings.n_ctx or FALLBACK_CTX
    if check:
        show = show_ollama_model(host, model, timeout=min(settings.request_timeout, 30.0))
        capabilities = list(show.get("capabilities") or []) or None
        _TOOL_SUPPORT[(host, model)] = _show_supports_tools(show)
        num_ctx = ollama_context_size(show, settings.n_ctx, settings.kv_cache_budget_mb, model)
    fields: dict[str, Any] = {
        "model": model,
        "base_url": host,
        "num_ctx": num_ctx,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "repeat_penalty": settings.repeat_penalty,
        "num_predict": settings.max_tokens,
        "seed": settings.seed,
        "capabilities": capabilities,
        "client_kwargs": {"timeout": settings.request_timeout},
        "request_deadline": settings.request_deadline,
    }
    if settings.n_gpu_layers is not None and settings.n_gpu_layers >= 0:
        fields["num_gpu"] = settings.n_gpu_layers  # -1 ("all") is Ollama's default: leave it to the server
    if settings.n_threads is not None:
        fields["num_thread"] = settings.n_threads
    return ToolkitChatOllama(**{**fields, **overrides})
