"""Ollama backend: langchain-ollama's ``ChatOllama`` with checks and clear errors.

The context size is always sent (``num_ctx``): Ollama's own default is small and it
truncates longer prompts without saying so.

Tool calling: a model whose ``/api/show`` capabilities include ``tools`` gets Ollama's native
``tools``; any other model gets the tools in its system message (Ollama would refuse
``tools`` with HTTP 400) and its answer is read back as calls. Either way a call that comes
back as text (``{"name": ..., "parameters": ...}``, ``<|python_tag|>``, ``[fn(a=1)]``) becomes
a proper ``tool_call``; a text answer stays text.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_ollama import ChatOllama
from pydantic import Field

from toolkit.backends._llama_runtime import resolve_n_ctx
from toolkit.backends.tool_calling import (
    call_chunks,
    normalize_tool_choice,
    parse_tool_calls,
    tool_names_by_id,
    tool_schemas,
    tools_as_text,
    tools_system_prompt,
    with_system_note,
)
from toolkit.errors import (
    BackendUnavailableError,
    ModelNotPulledError,
    OllamaUnreachableError,
    ToolkitError,
    UnsupportedInputError,
)
from toolkit.gguf import GGUFInfo

__all__ = ["ToolkitChatOllama", "build_chat_ollama", "list_ollama_models", "show_ollama_model"]

_FALLBACK_CTX = 8192


def _unreachable(host: str) -> OllamaUnreachableError:
    return OllamaUnreachableError(
        f"Ollama is not reachable at {host} - start it with `ollama serve`, or point OLLAMA_HOST "
        "at a running server"
    )


def _not_pulled(model: str) -> ModelNotPulledError:
    return ModelNotPulledError(f"model `{model}` is not pulled - run `ollama pull {model}`")


def translate_ollama_error(exc: BaseException, host: str, model: str) -> ToolkitError | None:
    """Map an Ollama/httpx error to the toolkit's error, or ``None`` if it is not one of ours."""
    import ollama

    if isinstance(exc, ToolkitError):
        return exc
    if isinstance(exc, (httpx.ConnectError, ConnectionError)):
        return _unreachable(host)
    if isinstance(exc, httpx.TimeoutException):
        return BackendUnavailableError(
            f"Ollama at {host} did not answer in time - raise LLAMA_TOOLKIT_REQUEST_TIMEOUT or check the server"
        )
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == 404 and "not found" in str(exc.error).lower():
            return _not_pulled(model)
        return BackendUnavailableError(f"Ollama at {host} answered {exc.status_code}: {exc.error}")
    return None


@contextlib.contextmanager
def _translated(host: str, model: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        mapped = translate_ollama_error(exc, host, model)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def _client(host: str, timeout: float) -> Any:
    import ollama

    return ollama.Client(host=host, timeout=timeout)


def show_ollama_model(host: str, model: str, timeout: float = 30.0) -> dict[str, Any]:
    """``/api/show`` for ``model`` as the server's JSON (``model_info``, ``capabilities``, ...).

    Raises if the server is down or the model is not pulled.
    """
    with _translated(host, model):
        # The raw JSON rather than ``Client.show()``: ollama-python's ShowResponse requires
        # ``model_info``, which /api/show omits for some models (cloud models), so the typed
        # call fails with a pydantic ValidationError (ollama/ollama-python#607).
        response = _client(host, timeout)._request_raw("POST", "/api/show", json={"model": model})
        return dict(response.json())


def list_ollama_models(host: str, timeout: float = 10.0) -> list[str]:
    """Names of the models pulled on the Ollama server (``/api/tags``)."""
    with _translated(host, ""):
        return [m.model for m in _client(host, timeout).list().models if m.model]


def _has_images(messages: Sequence[BaseMessage]) -> bool:
    for m in messages:
        if isinstance(m.content, list):
            for block in m.content:
                if isinstance(block, dict) and block.get("type") in ("image", "image_url"):
                    return True
    return False


# --------------------------------------------------------------------------- tool calling

# (host, model) -> whether the model takes Ollama's native ``tools``. A pulled model's
# capabilities do not change, so /api/show is asked once per process.
_TOOL_SUPPORT: dict[tuple[str, str], bool] = {}

_PYTHON_TAG = "<|python_tag|>"
_FENCE = re.compile(r"^```[A-Za-z]*\s*")


def _show_supports_tools(show: Mapping[str, Any]) -> bool:
    """Whether an /api/show answer says the model takes native tools."""
    capabilities = show.get("capabilities")
    if isinstance(capabilities, list):
        return "tools" in capabilities
    # Servers older than the capabilities field decided by the template: does it render .Tools?
    return ".Tools" in str(show.get("template") or "")


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


def _calls_from_text(result: ChatResult, names: Collection[str]) -> ChatResult:
    """``result`` with an answer written as tool calls turned into ``tool_calls``.

    An answer that already has native calls, or that is not made only of calls to the
    offered tools, is left as it is.
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


def _starts_like_call(text: str, names: Collection[str]) -> bool | None:
    """Whether streamed text begins as :func:`parse_tool_calls` would read a call: ``True``,
    ``False``, or ``None`` while too short to tell."""
    head = text.lstrip()
    # A fence or a list may hold calls: decide on what follows ("[1] says..." is text).
    rest = _FENCE.sub("", head, count=1) if head.startswith("```") else head[1:].lstrip()
    if head.startswith(("```", "[")):
        return _starts_like_call(rest, names) if rest else None
    starts = (_PYTHON_TAG, "{", *(f"{n}(" for n in names))
    if any(head.startswith(s) for s in starts):
        return True
    if not head or any(s.startswith(head) for s in (*starts, "```", "[")):
        return None
    return False


class _CallSniffer:
    """Passes streamed text through as it comes, except text that starts like a tool call:
    that is held, and at the end becomes tool_call_chunks if it reads as calls to the
    offered tools, else it is let go as the text it was."""

    def __init__(self, names: Collection[str]) -> None:
        self.names = names
        self.calling: bool | None = None if names else False  # False: text, streams through
        self.held: list[ChatGenerationChunk] = []
        self.text = ""

    def feed(self, chunk: ChatGenerationChunk) -> list[ChatGenerationChunk]:
        if self.calling is False:
            return [chunk]
        self.held.append(chunk)
        if isinstance(chunk.message, AIMessageChunk) and chunk.message.tool_call_chunks:
            return self._release()  # native calls: the held text is the model's words
        if isinstance(chunk.message.content, str):
            self.text += chunk.message.content
        if self.calling is None:
            self.calling = _starts_like_call(self.text, self.names)
            if self.calling is False:
                return self._release()
        return []

    def finish(self) -> list[ChatGenerationChunk]:
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


# --------------------------------------------------------------------------- chat model


class ToolkitChatOllama(ChatOllama):
    """``ChatOllama`` whose errors say what to do, which refuses images for text-only models,
    and which calls tools on any model (natively when it has the ``tools`` capability)."""

    capabilities: list[str] | None = Field(
        default=None, description="Capabilities from /api/show (e.g. completion, vision, tools)."
    )

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

    # -- calls

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._check_input(messages, kwargs)
        model = self._model_for(kwargs)
        with _translated(self._host, model):
            schemas, choice = _pop_tools(kwargs)
            native = not schemas or self._supports_tools(model)
            messages, names = _with_tools(messages, kwargs, schemas, choice, native)
            result = super()._generate(messages, stop, run_manager, **kwargs)
        return _calls_from_text(result, names)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._check_input(messages, kwargs)
        model = self._model_for(kwargs)
        with _translated(self._host, model):
            schemas, choice = _pop_tools(kwargs)
            native = not schemas or self._supports_tools(model)
            messages, names = _with_tools(messages, kwargs, schemas, choice, native)
            sniffer = _CallSniffer(names)
            # Callbacks see the chunks the caller gets, not text that turns into a call.
            for chunk in super()._stream(messages, stop, None, **kwargs):
                for out in sniffer.feed(chunk):
                    if run_manager:
                        run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
            for out in sniffer.finish():
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
        self._check_input(messages, kwargs)
        model = self._model_for(kwargs)
        with _translated(self._host, model):
            schemas, choice = _pop_tools(kwargs)
            native = not schemas or await self._asupports_tools(model)
            messages, names = _with_tools(messages, kwargs, schemas, choice, native)
            result = await super()._agenerate(messages, stop, run_manager, **kwargs)
        return _calls_from_text(result, names)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self._check_input(messages, kwargs)
        model = self._model_for(kwargs)
        with _translated(self._host, model):
            schemas, choice = _pop_tools(kwargs)
            native = not schemas or await self._asupports_tools(model)
            messages, names = _with_tools(messages, kwargs, schemas, choice, native)
            sniffer = _CallSniffer(names)
            async for chunk in super()._astream(messages, stop, None, **kwargs):
                for out in sniffer.feed(chunk):
                    if run_manager:
                        await run_manager.on_llm_new_token(out.text, chunk=out)
                    yield out
            for out in sniffer.finish():
                if run_manager:
                    await run_manager.on_llm_new_token(out.text, chunk=out)
                yield out


def ollama_context_size(
    show: dict[str, Any], requested: int | None, budget_mb: int, model: str = "ollama"
) -> int:
    """``num_ctx`` to send: the request, else the model's context capped by the KV budget."""
    info = show.get("modelinfo") or show.get("model_info") or {}
    if not info:
        return requested or _FALLBACK_CTX
    # /api/show has no model name and model_info rarely has general.name: name the tag, so an
    # n_ctx error says "llama3.2's trained context" rather than "ollama's" (or Path's "llama3").
    gguf_like = GGUFInfo(path=Path(model), version=0, metadata={**info, "general.name": model})
    return resolve_n_ctx(gguf_like, requested, budget_mb)


def build_chat_ollama(
    *,
    host: str,
    model: str,
    n_ctx: int | None,
    kv_cache_budget_mb: int,
    temperature: float,
    top_p: float,
    max_tokens: int,
    repeat_penalty: float | None = None,
    seed: int | None,
    n_gpu_layers: int | None,
    n_threads: int | None,
    timeout: float,
    check: bool = True,
) -> ToolkitChatOllama:
    """Build the chat model after checking that the server answers and has ``model``."""
    capabilities: list[str] | None = None
    num_ctx = n_ctx or _FALLBACK_CTX
    if check:
        show = show_ollama_model(host, model, timeout=min(timeout, 30.0))
        capabilities = list(show.get("capabilities") or []) or None
        _TOOL_SUPPORT[(host, model)] = _show_supports_tools(show)
        num_ctx = ollama_context_size(show, n_ctx, kv_cache_budget_mb, model)
    options: dict[str, Any] = {}
    if n_gpu_layers is not None and n_gpu_layers >= 0:
        options["num_gpu"] = n_gpu_layers  # -1 ("all") is Ollama's own default: leave it to the server
    if n_threads is not None:
        options["num_thread"] = n_threads
    return ToolkitChatOllama(
        model=model,
        base_url=host,
        num_ctx=num_ctx,
        temperature=temperature,
        top_p=top_p,
        repeat_penalty=repeat_penalty,
        num_predict=max_tokens,
        seed=seed,
        capabilities=capabilities,
        client_kwargs={"timeout": timeout},
        **options,
    )
