"""Pull a model through Ollama's ``POST /api/pull`` and follow its NDJSON progress lines.

Ollama answers with one JSON object a line: ``{"status": "pulling manifest"}``, then per layer
``{"status": "pulling <digest>", "digest": ..., "total": N, "completed": M}``, then
``verifying sha256 digest``, ``writing manifest`` and finally ``{"status": "success"}``; a
failure is ``{"error": "..."}`` (on a 200 stream or with an HTTP error status).
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.backends.pull.hub import Progress
from toolkit.errors import ModelDownloadError, OllamaUnreachableError

__all__ = ["ollama_pull"]

_MAX_LINE = 1 << 16  # a status line is ~200 bytes; anything longer is not Ollama


def _line(raw: str, host: str) -> dict[str, Any]:
    if len(raw) > _MAX_LINE:
        raise ModelDownloadError(f"{host} sent a {len(raw)}-byte status line - is it really Ollama?")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ModelDownloadError(
            f"{host} answered /api/pull with something other than JSON - is it Ollama?"
        ) from exc
    if not isinstance(data, dict):
        raise ModelDownloadError(f"{host} answered /api/pull with unexpected JSON - is it Ollama?")
    return data


def _error_body(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text.strip()[:200]
    return str(data.get("error", text)) if isinstance(data, dict) else text.strip()[:200]


def ollama_pull(
    tag: str, host: str, *, progress: Progress | None = None, connect_timeout: float = 1.0
) -> None:
    """Have the Ollama server at ``host`` pull ``tag``, reporting its progress.

    Args:
        tag: The Ollama tag, e.g. ``llama3.2:1b``.
        host: The server URL.
        progress: Called with ``(status, completed, total)`` for every status line.
        connect_timeout: Seconds to connect; each read may take up to 5 minutes (Ollama is
            silent while it verifies a large layer).

    Raises:
        OllamaUnreachableError: Nothing answers at ``host``.
        ModelDownloadError: Ollama reported an error, or the stream ended without ``success``.
    """
    import httpx

    timeout = httpx.Timeout(300.0, connect=connect_timeout)
    body = {"model": tag, "stream": True}
    try:
        with (
            httpx.Client(timeout=timeout) as client,
            client.stream("POST", f"{host}/api/pull", json=body) as r,
        ):
            if r.status_code >= 400:
                reason = _error_body(r.read().decode("utf-8", "replace"))
                raise ModelDownloadError(
                    f"Ollama at {host} refused to pull {tag} (HTTP {r.status_code}: {reason})"
                )
            if _follow(r.iter_lines(), tag, host, progress):
                return
    except httpx.ConnectError as exc:
        raise OllamaUnreachableError(
            f"Ollama is not reachable at {host} - start it with `ollama serve`, or pull with --via hub"
        ) from exc
    except httpx.TransportError as exc:
        raise ModelDownloadError(
            f"the pull of {tag} through Ollama at {host} stopped ({type(exc).__name__}) - "
            "run the same command again; Ollama resumes it"
        ) from exc
    raise ModelDownloadError(
        f"Ollama at {host} ended the pull of {tag} without `success` - run the same command again"
    )


def _follow(lines: Any, tag: str, host: str, progress: Progress | None) -> bool:
    """Read status lines until ``success`` (True) or the end of the stream (False)."""
    for raw in lines:
        if not raw.strip():
            continue
        data = _line(raw, host)
        if "error" in data:
            raise ModelDownloadError(f"Ollama could not pull {tag}: {str(data['error']).strip()}")
        status = str(data.get("status", ""))
        if status == "success":
            return True
        if progress:
            progress(status, int(data.get("completed") or 0), int(data.get("total") or 0))
    return False
