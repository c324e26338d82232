"""Ollama backend: langchain-ollama's ``ChatOllama`` with checks and clear errors.

The context size is always sent (``num_ctx``): Ollama's own default is small and it
truncates longer prompts without saying so.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import LangSmithParams
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_ollama import ChatOllama
from pydantic import Field

from toolkit.backends._llama_runtime import resolve_n_ctx
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


class ToolkitChatOllama(ChatOllama):
    """``ChatOllama`` whose errors say what to do, and which refuses images for text-only models."""

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

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._check_input(messages, kwargs)
        with _translated(self._host, self._model_for(kwargs)):
            return super()._generate(messages, stop, run_manager, **kwargs)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._check_input(messages, kwargs)
        with _translated(self._host, self._model_for(kwargs)):
            yield from super()._stream(messages, stop, run_manager, **kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._check_input(messages, kwargs)
        with _translated(self._host, self._model_for(kwargs)):
            return await super()._agenerate(messages, stop, run_manager, **kwargs)

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self._check_input(messages, kwargs)
        with _translated(self._host, self._model_for(kwargs)):
            async for chunk in super()._astream(messages, stop, run_manager, **kwargs):
                yield chunk


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
