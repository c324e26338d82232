"""Talking to the Ollama server: the client, its errors in the toolkit's terms, model facts.

Every call to the server goes through :func:`translated_errors`, so a caller sees
:class:`~toolkit.errors.OllamaUnreachableError` or :class:`~toolkit.errors.ModelNotPulledError`
with what to do next, not an httpx or ollama-python exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydantic

from toolkit.backends.context import resolve_n_ctx
from toolkit.errors import (
    BackendUnavailableError,
    ModelNotPulledError,
    OllamaResponseError,
    OllamaUnreachableError,
    ToolkitError,
)
from toolkit.gguf import GGUFInfo

__all__ = [
    "DEFAULT_DEADLINE",
    "FALLBACK_CTX",
    "list_ollama_models",
    "ollama_context_size",
    "show_ollama_model",
    "translate_ollama_error",
    "translated_errors",
]

DEFAULT_DEADLINE = 900.0
"""Seconds one request may take in all when no ``request_deadline`` is given (the setting's default)."""

FALLBACK_CTX = 8192
"""``num_ctx`` sent when the model's context is unknown (Ollama's own default truncates silently)."""


def _unreachable(host: str) -> OllamaUnreachableError:
    return OllamaUnreachableError(
        f"Ollama is not reachable at {host} - start it with `ollama serve`, or point OLLAMA_HOST "
        "at a running server"
    )


def _not_pulled(model: str) -> ModelNotPulledError:
    return ModelNotPulledError(f"model `{model}` is not pulled - run `ollama pull {model}`")


def translate_ollama_error(exc: BaseException, host: str, model: str) -> ToolkitError | None:
    """Map an Ollama/httpx error to the toolkit's error, or ``None`` if it is not one of ours.

    Args:
        exc: The exception raised while talking to the server.
        host: The server URL, named in the message.
        model: The model the call was for, named in a "not pulled" message.

    Returns:
        The toolkit error to raise instead (``exc`` itself if it already is one), or ``None``.
    """
    import ollama

    if isinstance(exc, ToolkitError):
        return exc
    if isinstance(exc, (httpx.ConnectError, ConnectionError)):
        return _unreachable(host)
    if isinstance(exc, httpx.TimeoutException):
        return BackendUnavailableError(
            f"Ollama at {host} did not answer in time - raise LLAMA_TOOLKIT_REQUEST_TIMEOUT or check the server"
        )
    if isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError, pydantic.ValidationError)):
        return OllamaResponseError(
            f"the server at {host} is not Ollama (it answered with something that is not Ollama's "
            "JSON) - check OLLAMA_HOST / LLAMA_TOOLKIT_OLLAMA_HOST"
        )
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code == 404 and "not found" in str(exc.error).lower():
            return _not_pulled(model)
        return BackendUnavailableError(f"Ollama at {host} answered {exc.status_code}: {exc.error}")
    return None


@contextlib.contextmanager
def translated_errors(host: str, model: str) -> Iterator[None]:
    """Re-raise Ollama/httpx errors inside the block as the toolkit's, chained to the cause.

    Args:
        host: The server URL.
        model: The model the calls in the block are for.

    Raises:
        OllamaUnreachableError: The server does not answer.
        ModelNotPulledError: The server does not have ``model``.
        OllamaResponseError: What answered is not Ollama (not JSON, or JSON of another shape).
        BackendUnavailableError: The server timed out or answered with another error.
    """
    try:
        yield
    except Exception as exc:
        mapped = translate_ollama_error(exc, host, model)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def _client(host: str, timeout: float) -> Any:
    """A client whose every request ends within ``timeout`` seconds in all, not just per read."""
    import ollama

    from toolkit.backends.ollama.limits import LimitedTransport

    return ollama.Client(
        host=host, timeout=timeout, transport=LimitedTransport(timeout, setting="the check's own limit")
    )


def show_ollama_model(host: str, model: str, timeout: float = 30.0) -> dict[str, Any]:
    """``/api/show`` for ``model`` as the server's JSON (``model_info``, ``capabilities``, ...).

    Args:
        host: The server URL.
        model: The model tag.
        timeout: Seconds the whole request may take.

    Raises:
        OllamaUnreachableError: The server does not answer.
        OllamaResponseError: What answered is not Ollama.
        GenerationTimeoutError: The answer took longer than ``timeout`` in all.
        ModelNotPulledError: The server does not have ``model``.
    """
    with translated_errors(host, model):
        # The raw JSON rather than ``Client.show()``: ollama-python's ShowResponse requires
        # ``model_info``, which /api/show omits for some models (cloud models), so the typed
        # call fails with a pydantic ValidationError (ollama/ollama-python#607).
        response = _client(host, timeout)._request_raw("POST", "/api/show", json={"model": model})
        return dict(response.json())


def list_ollama_models(host: str, timeout: float = 10.0) -> list[str]:
    """Names of the models pulled on the Ollama server (``/api/tags``).

    Args:
        host: The server URL.
        timeout: Seconds the whole request may take.

    Raises:
        OllamaUnreachableError: The server does not answer.
        OllamaResponseError: What answered is not Ollama.
        GenerationTimeoutError: The answer took longer than ``timeout`` in all.
    """
    with translated_errors(host, ""):
        return [m.model for m in _client(host, timeout).list().models if m.model]


def ollama_context_size(
    show: dict[str, Any], requested: int | None, budget_mb: int, model: str = "ollama"
) -> int:
    """``num_ctx`` to send: the request, else the model's context capped by the KV budget.

    Args:
        show: The model's ``/api/show`` answer.
        requested: The configured context size, or ``None`` for automatic.
        budget_mb: Memory the automatic size may spend on the KV cache, in MiB.
        model: The model tag, named in errors.

    Raises:
        ConfigurationError: ``requested`` is larger than the model's trained context.
    """
    info = show.get("modelinfo") or show.get("model_info") or {}
    if not info:
        return requested or FALLBACK_CTX
    # /api/show has no model name and model_info rarely has general.name: name the tag, so an
    # n_ctx error says "llama3.2's trained context" rather than "ollama's" (or Path's "llama3").
    gguf_like = GGUFInfo(path=Path(model), version=0, metadata={**info, "general.name": model})
    return resolve_n_ctx(gguf_like, requested, budget_mb)
