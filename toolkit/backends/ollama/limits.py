"""Limits every request to the Ollama server obeys, whatever the server does.

``request_timeout`` bounds each read, so a server that trickles a token now and then (or a
byte a second) would keep a request open forever. The httpx transports here give each
request an overall deadline and a token cap, checked on every chunk of the raw body:

* the deadline ends the request at ``deadline`` seconds after it was sent, also when the
  server sends nothing at all (every timeout is capped at what is left, and a watchdog
  closes the connection at the deadline);
* a streamed answer of more lines than the request's ``num_predict`` (plus a little slack
  for the final line) is cut off: the server was asked for at most that many tokens;
* a line (or a whole non-streamed answer) larger than its byte cap is refused, so memory
  cannot grow without bound.

Each ends in :class:`~toolkit.errors.GenerationTimeoutError` or
:class:`~toolkit.errors.GenerationLimitError` whose ``partial`` is the answer text streamed
so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from toolkit import profiling
from toolkit.errors import GenerationLimitError, GenerationTimeoutError, OllamaResponseError

__all__ = [
    "LINE_SLACK",
    "MAX_BODY_BYTES",
    "MAX_LINE_BYTES",
    "AsyncLimitedTransport",
    "LimitedTransport",
    "RequestLimits",
    "profile_final",
]

LINE_SLACK = 8
"""Streamed lines allowed past ``num_predict`` (the final ``done`` line, split tokens)."""
MAX_LINE_BYTES = 1 << 20
"""Largest line of a streamed answer (one token's JSON is well under 1 KiB)."""
MAX_BODY_BYTES = 256 << 20
"""Largest answer in all (a batch of embeddings is the largest real one)."""


def _streams(request: httpx.Request) -> bool:
    """Whether ``request`` is for an answer streamed as NDJSON lines."""
    return request.url.path.endswith(("/api/chat", "/api/generate"))


def _line_cap(request: httpx.Request) -> int | None:
    """The most NDJSON lines a streamed ``/api/chat`` or ``/api/generate`` may send."""
    if not _streams(request):
        return None
    try:
        body = json.loads(request.content or b"{}")
        predict = (body.get("options") or {}).get("num_predict")
    except (ValueError, AttributeError, httpx.RequestNotRead):
        return None
    return int(predict) + LINE_SLACK if isinstance(predict, int) and predict > 0 else None


def _parsed(line: bytes) -> dict[str, Any]:
    """One NDJSON line as a dict ({} if it is not a JSON object)."""
    try:
        part = json.loads(line)
    except ValueError:
        return {}
    return part if isinstance(part, dict) else {}


def _content(part: dict[str, Any]) -> str:
    """The answer text one parsed NDJSON line carries ("" if it carries none)."""
    message = part.get("message")
    if isinstance(message, dict) and isinstance(message.get("content"), str):
        return str(message["content"])
    return str(part.get("response") or "")


def _whole(part: dict[str, Any], key: str) -> int | None:
    """A non-negative integer field of a final object (Ollama's durations and counts), else None."""
    value = part.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def profile_final(part: dict[str, Any]) -> None:
    """Record the server's own timings from an answer's final (``done``) object: model load,
    prompt evaluation and decoding, in the phases of :mod:`toolkit.profiling`."""
    if not profiling.is_enabled() or part.get("done") is not True:
        return
    for phase, seconds_key, count_key in (
        ("load", "load_duration", ""),
        ("prompt", "prompt_eval_duration", "prompt_eval_count"),
        ("decode", "eval_duration", "eval_count"),
    ):
        nanoseconds, count = _whole(part, seconds_key), _whole(part, count_key)
        if nanoseconds is not None:
            profiling.add(phase, nanoseconds / 1e9, **({"tokens": count} if count is not None else {}))


_DEADLINE_SETTING = "LLAMA_TOOLKIT_REQUEST_DEADLINE"


class RequestLimits:
    """The running account of one request: its deadline, lines and bytes, and the partial text.

    Args:
        request: The request (its path and ``num_predict`` set the line cap).
        deadline: Seconds the whole request may take.
        started: ``time.monotonic()`` when it was sent.
        setting: What sets the deadline, named in the error.
    """

    def __init__(
        self, request: httpx.Request, deadline: float, started: float, setting: str = _DEADLINE_SETTING
    ) -> None:
        self.host = f"{request.url.scheme}://{request.url.netloc.decode()}"
        self.deadline = deadline
        self.setting = setting
        self.ends = started + deadline
        self.streams = _streams(request)
        self.line_cap = _line_cap(request)
        self.lines = 0
        self.size = 0
        self.pending = b""
        self.parts: list[str] = []

    @property
    def partial(self) -> str:
        """The answer text received so far."""
        return "".join(self.parts)

    def remaining(self) -> float:
        """Seconds left before the deadline (never below a millisecond)."""
        return max(self.ends - time.monotonic(), 0.001)

    def timed_out(self) -> GenerationTimeoutError:
        """The error for a request past its deadline."""
        return GenerationTimeoutError(
            f"Ollama at {self.host} did not finish within {self.deadline:g} s ({self.setting}) - "
            "the answer so far is kept; raise the deadline or ask for a shorter answer",
            partial=self.partial,
        )

    def check_time(self) -> None:
        """Raise :meth:`timed_out` once the deadline has passed."""
        if time.monotonic() >= self.ends:
            raise self.timed_out()

    def feed(self, chunk: bytes) -> None:
        """Account for one chunk of the body; raise when it breaks a limit."""
        self.size += len(chunk)
        if self.size > MAX_BODY_BYTES:
            raise GenerationLimitError(
                f"Ollama at {self.host} sent more than {MAX_BODY_BYTES >> 20} MiB - stopped reading",
                partial=self.partial,
            )
        if self.streams:
            self._feed_lines(chunk)
        self.check_time()

    def finish(self) -> None:
        """The body ended: a last line without a newline (a non-streamed answer) may be the final object."""
        if self.streams and self.pending.strip() and profiling.is_enabled():
            profile_final(_parsed(self.pending))

    def _feed_lines(self, chunk: bytes) -> None:
        *lines, self.pending = (self.pending + chunk).split(b"\n")
        for line in lines:
            self.lines += 1
            part = _parsed(line)
            self.parts.append(_content(part))
            profile_final(part)  # the final object's timings, when profiling
        if len(self.pending) > MAX_LINE_BYTES:
            raise GenerationLimitError(
                f"Ollama at {self.host} sent a line over {MAX_LINE_BYTES >> 20} MiB - stopped reading",
                partial=self.partial,
            )
        if self.line_cap is not None and self.lines > self.line_cap:
            raise GenerationLimitError(
                f"Ollama at {self.host} kept sending past the {self.line_cap - LINE_SLACK} tokens asked "
                "for (max_tokens) - stopped reading; the answer so far is kept",
                partial=self.partial,
            )


def _capped(request: httpx.Request, deadline: float) -> None:
    """Cap every timeout of ``request`` (connect, write, each read, pool) at ``deadline``."""
    timeouts = dict(request.extensions.get("timeout") or {})
    for key in ("connect", "read", "write", "pool"):
        value = timeouts.get(key)
        timeouts[key] = deadline if value is None else min(float(value), deadline)
    request.extensions["timeout"] = timeouts


def _shutdown(response: httpx.Response) -> None:
    """Close the connection under ``response`` (a blocked read returns at once)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, limits: RequestLimits) -> None:
        self._response = response
        self._limits = limits

    def __iter__(self) -> Iterator[bytes]:
        watchdog = threading.Timer(self._limits.remaining(), _shutdown, args=(self._response,))
        watchdog.daemon = True
        watchdog.start()
        try:
            for chunk in self._response.stream:  # type: ignore[union-attr]
                self._limits.feed(chunk)
                yield chunk
        except (httpx.TransportError, OSError):
            self._limits.check_time()  # a read that timed out or was cut at the deadline
            raise
        finally:
            watchdog.cancel()
        self._limits.finish()
        self._limits.check_time()

    def close(self) -> None:
        self._response.close()


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, response: httpx.Response, limits: RequestLimits) -> None:
        self._response = response
        self._limits = limits

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._response.stream.__aiter__()  # type: ignore[union-attr]
        while True:
            try:
                chunk = await asyncio.wait_for(chunks.__anext__(), self._limits.remaining())
            except StopAsyncIteration:
                break
            except (asyncio.TimeoutError, httpx.TransportError, OSError):
                self._limits.check_time()
                raise
            self._limits.feed(chunk)
            yield chunk
        self._limits.finish()
        self._limits.check_time()

    async def aclose(self) -> None:
        await self._response.aclose()


class LimitedTransport(httpx.BaseTransport):
    """An httpx transport that gives every request an overall deadline and a token cap.

    Args:
        deadline: Seconds one request may take in all, body included.
        inner: The transport that does the I/O (default: ``httpx.HTTPTransport()``).
        setting: What sets the deadline, named in the error.
    """

    def __init__(
        self, deadline: float, inner: httpx.BaseTransport | None = None, setting: str = _DEADLINE_SETTING
    ) -> None:
        self.deadline = deadline
        self.setting = setting
        self._inner = inner or httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        limits = RequestLimits(request, self.deadline, time.monotonic(), self.setting)
        _capped(request, self.deadline)
        try:
            response = self._inner.handle_request(request)
        except httpx.TimeoutException:
            limits.check_time()
            raise
        try:
            _check_kind(request, response, limits)
        except OllamaResponseError:
            response.close()
            raise
        return _rewrapped(response, _SyncBody(response, limits))

    def close(self) -> None:
        self._inner.close()


class AsyncLimitedTransport(httpx.AsyncBaseTransport):
    """The asynchronous :class:`LimitedTransport`."""

    def __init__(
        self, deadline: float, inner: httpx.AsyncBaseTransport | None = None, setting: str = _DEADLINE_SETTING
    ) -> None:
        self.deadline = deadline
        self.setting = setting
        self._inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        limits = RequestLimits(request, self.deadline, time.monotonic(), self.setting)
        _capped(request, self.deadline)
        try:
            response = await asyncio.wait_for(self._inner.handle_async_request(request), self.deadline)
        except (asyncio.TimeoutError, httpx.TimeoutException):
            limits.check_time()
            raise
        try:
            _check_kind(request, response, limits)
        except OllamaResponseError:
            await response.aclose()
            raise
        return _rewrapped(response, _AsyncBody(response, limits))

    async def aclose(self) -> None:
        await self._inner.aclose()


def _check_kind(request: httpx.Request, response: httpx.Response, limits: RequestLimits) -> None:
    """Refuse a web page where Ollama's API answers JSON (a proxy or another server at the host)."""
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.url.path.startswith("/api/") and kind in ("text/html", "application/xhtml+xml"):
        raise OllamaResponseError(
            f"the server at {limits.host} is not Ollama (it answered {kind} to {request.url.path}) - "
            "check OLLAMA_HOST / LLAMA_TOOLKIT_OLLAMA_HOST"
        )


def _rewrapped(response: httpx.Response, stream: Any) -> httpx.Response:
    return httpx.Response(
        status_code=response.status_code,
        headers=response.headers,
        stream=stream,
        extensions=response.extensions,
    )
