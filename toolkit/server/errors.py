"""Toolkit errors as OpenAI error responses (``{"error": {"message", "type", "code"}}``)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.responses import JSONResponse

from toolkit import errors as e

__all__ = ["describe", "error_response", "scrub_paths", "status_of"]

_STATUS: tuple[tuple[type[BaseException], int, str, str], ...] = (
    (e.ModelBusyError, 429, "rate_limit_exceeded", "model_busy"),
    (e.IndexNotFoundError, 404, "invalid_request_error", "model_not_found"),
    (e.ContextOverflowError, 400, "invalid_request_error", "context_length_exceeded"),
    (e.LimitExceededError, 400, "invalid_request_error", "limit_exceeded"),
    (e.UnsupportedInputError, 400, "invalid_request_error", "unsupported_input"),
    (e.ConfigurationError, 400, "invalid_request_error", "invalid_request"),
    (e.GenerationLimitError, 504, "server_error", "generation_limit"),
    (e.BackendUnavailableError, 503, "server_error", "backend_unavailable"),
    (e.ToolkitError, 500, "server_error", "toolkit_error"),
)


def status_of(exc: BaseException) -> tuple[int, str, str]:
    """HTTP status, OpenAI error type and code for ``exc``."""
    for cls, status, kind, code in _STATUS:
        if isinstance(exc, cls):
            return status, kind, code
    return 500, "server_error", "internal_error"


# An absolute path (POSIX or Windows) inside a message: clients learn its last part only.
_PATH = re.compile(r"(?<![\w:/.])(?:[A-Za-z]:\\|~?/)(?:[^\s'\"`()<>,;|]+[/\\])+([^\s'\"`()<>,;|/\\]*)")


def scrub_paths(text: str) -> str:
    """``text`` with every absolute path cut to its last part: ``/srv/models/x.gguf`` -> ``x.gguf``."""
    return _PATH.sub(lambda m: m[1] or "<path>", text)


def describe(exc: BaseException) -> dict[str, Any]:
    """The ``error`` object for ``exc``; paths on the server are cut to their last part."""
    _, kind, code = status_of(exc)
    message = str(exc.args[0]) if getattr(exc, "args", None) else type(exc).__name__
    return {"message": scrub_paths(message), "type": kind, "param": None, "code": code}


def error_response(
    status_or_exc: int | BaseException, message: str = "", code: str = "", *, retry_after: int | None = None
) -> JSONResponse:
    """An OpenAI-shaped error response, from a status and message or from an exception."""
    if isinstance(status_or_exc, BaseException):
        status = status_of(status_or_exc)[0]
        body = {"error": describe(status_or_exc)}
        if status == 429:
            retry_after = retry_after or 1
    else:
        status = status_or_exc
        kind = {401: "invalid_request_error", 429: "rate_limit_exceeded"}.get(status, "invalid_request_error")
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
    headers = {"Retry-After": str(retry_after)} if retry_after else None
    return JSONResponse(body, status_code=status, headers=headers)
