"""Talking to an OpenAI-compatible server: its model list, and its errors in the toolkit's terms.

Every call to the server goes through :func:`translated_errors`, so a caller sees
:class:`~toolkit.errors.OpenAIUnreachableError`, :class:`~toolkit.errors.ModelNotPulledError`
or a :class:`~toolkit.errors.ConfigurationError` about the key, with what to do next, not an
openai or httpx exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import httpx

from toolkit.errors import (
    BackendUnavailableError,
    ConfigurationError,
    ModelBusyError,
    ModelNotPulledError,
    OpenAIUnreachableError,
    ToolkitError,
)

__all__ = [
    "NO_API_KEY",
    "list_openai_models",
    "model_window",
    "models_url",
    "not_served",
    "served_models",
    "translate_openai_error",
    "translated_errors",
]

NO_API_KEY = "not-needed"
"""The key sent when none is configured: the openai client requires one, local servers ignore it."""

_MAX_DETAIL = 200  # characters of a server's own error message quoted in ours


def models_url(base_url: str) -> str:
    """``{base_url}/models``, the list every OpenAI-compatible server answers."""
    return f"{base_url.rstrip('/')}/models"


def _one_line(text: str) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _MAX_DETAIL else flat[: _MAX_DETAIL - 3] + "..."


def _unreachable(base_url: str) -> OpenAIUnreachableError:
    return OpenAIUnreachableError(
        f"no OpenAI-compatible server answers at {base_url} - start it (for example "
        "`llama-toolkit serve` or `python -m llama_cpp.server --model <gguf>`) or fix LLAMA_TOOLKIT_BASE_URL"
    )


def _bad_key(base_url: str, status: int) -> ConfigurationError:
    return ConfigurationError(
        f"the server at {base_url} refused the API key (HTTP {status}) - set LLAMA_TOOLKIT_OPENAI_API_KEY "
        "to a key it accepts"
    )


def not_served(model: str, base_url: str, served: list[str]) -> ModelNotPulledError:
    """The error for a model the server does not list, naming what it does list."""
    listed = ", ".join(served[:10]) + (", ..." if len(served) > 10 else "") if served else "none"
    return ModelNotPulledError(
        f"model `{model}` is not served at {base_url} (it serves: {listed}) - set LLAMA_TOOLKIT_MODEL to "
        "one of those, or start the server with that model"
    )


def _status_error(status: int, detail: str, base_url: str, model: str) -> ToolkitError | None:
    """The toolkit's error for an HTTP error status, or ``None`` for the caller's own mistakes."""
    if status in (401, 403):
        return _bad_key(base_url, status)
    if status == 404:
        if model and "model" in detail.lower():
            return ModelNotPulledError(
                f"model `{model}` is not served at {base_url} ({_one_line(detail)}) - set LLAMA_TOOLKIT_MODEL "
                "to a model the server lists"
            )
        return OpenAIUnreachableError(
            f"{base_url} answered 404 Not Found - the base URL of an OpenAI-compatible server usually "
            "ends in /v1 (LLAMA_TOOLKIT_BASE_URL)"
        )
    if status == 429:
        return ModelBusyError(
            f"the server at {base_url} is busy (HTTP 429) - retry later, or raise its queue size"
        )
    if status >= 500:
        return BackendUnavailableError(
            f"the server at {base_url} failed (HTTP {status}: {_one_line(detail) or 'no detail'}) - "
            "see the server's log"
        )
    return None  # 400, 413, 422...: the request itself; the server's message says what is wrong


def _detail(exc: Any) -> str:
    """The server's own message in an openai ``APIStatusError`` (without "Error code: ...")."""
    body = exc.body
    if isinstance(body, dict):
        error = body.get("error")
        inner: dict[str, Any] = error if isinstance(error, dict) else body
        message = inner.get("message", inner.get("detail"))
        if isinstance(message, str):
            return message  # possibly "": the server said nothing more
    return str(exc.message)


def translate_openai_error(exc: BaseException, base_url: str, model: str) -> ToolkitError | None:
    """Map an openai/httpx error to the toolkit's error, or ``None`` if it is not one of ours.

    Args:
        exc: The exception raised while talking to the server.
        base_url: The server URL, named in the message.
        model: The model the call was for, named in a "not served" message.

    Returns:
        The toolkit error to raise instead (``exc`` itself if it already is one), or ``None``.
    """
    import openai

    if isinstance(exc, ToolkitError):
        return exc
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return BackendUnavailableError(
            f"the server at {base_url} did not answer in time - raise LLAMA_TOOLKIT_REQUEST_TIMEOUT "
            "or check the server"
        )
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError, ConnectionError)):
        return _unreachable(base_url)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc.status_code, _detail(exc), base_url, model)
    if isinstance(exc, httpx.HTTPStatusError):
        return _status_error(exc.response.status_code, exc.response.text, base_url, model)
    return None


@contextlib.contextmanager
def translated_errors(base_url: str, model: str) -> Iterator[None]:
    """Re-raise openai/httpx errors inside the block as the toolkit's, chained to the cause.

    Args:
        base_url: The server URL.
        model: The model the calls in the block are for.

    Raises:
        OpenAIUnreachableError: No server answers, or the URL is not an OpenAI-compatible API.
        ConfigurationError: The server refused the API key (401/403).
        ModelNotPulledError: The server says it does not have ``model``.
        ModelBusyError: The server is full (429).
        BackendUnavailableError: The server timed out or failed (5xx).
    """
    try:
        yield
    except Exception as exc:
        mapped = translate_openai_error(exc, base_url, model)
        if mapped is None or mapped is exc:
            raise
        raise mapped from exc


def _entries(payload: Any, base_url: str) -> list[dict[str, Any]]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        raise OpenAIUnreachableError(
            f"{models_url(base_url)} did not answer an OpenAI model list - check LLAMA_TOOLKIT_BASE_URL "
            "(it usually ends in /v1)"
        )
    return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


def model_window(entry: dict[str, Any]) -> int | None:
    """The context window a ``/models`` entry declares, if any.

    vLLM says ``max_model_len``; other servers ``context_length`` or ``context_window``.
    Standard OpenAI entries say nothing.
    """
    for key in ("max_model_len", "context_length", "context_window"):
        value = entry.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def served_models(base_url: str, api_key: str | None, timeout: float) -> list[dict[str, Any]]:
    """The entries ``GET {base_url}/models`` lists (each has a string ``id``), in the server's order.

    Args:
        base_url: The server's API root, e.g. ``http://127.0.0.1:8000/v1``.
        api_key: Sent as a bearer token when given.
        timeout: Seconds to connect, and to wait for each read of the answer.

    Raises:
        OpenAIUnreachableError: No server answers, or what answers is not an OpenAI-compatible API.
        ConfigurationError: The server refused the key (401/403).
        BackendUnavailableError: The server timed out or failed.
    """
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with translated_errors(base_url, ""):
        response = httpx.get(models_url(base_url), headers=headers, timeout=timeout)
        response.raise_for_status()
        try:
            payload = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            payload = None
        return _entries(payload, base_url)


def list_openai_models(base_url: str, api_key: str | None, timeout: float) -> list[str]:
    """The ids ``GET {base_url}/models`` lists, in the server's order.

    Args:
        base_url: The server's API root, e.g. ``http://127.0.0.1:8000/v1``.
        api_key: Sent as a bearer token when given.
        timeout: Seconds to connect, and to wait for each read of the answer.

    Raises:
        OpenAIUnreachableError: No server answers, or what answers is not an OpenAI-compatible API.
        ConfigurationError: The server refused the key (401/403).
        BackendUnavailableError: The server timed out or failed.
    """
    return [entry["id"] for entry in served_models(base_url, api_key, timeout)]
