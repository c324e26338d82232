"""Request guards: the API key, the body-size limit and the bounded queue for the one model."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "Busy", "ModelQueue", "key_matches"]


def key_matches(header: str | None, key: str) -> bool:
    """Whether ``Authorization: Bearer <key>`` carries ``key`` (constant-time compare)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())


class Busy(Exception):
    """The queue is full: the client should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy - retry in {retry_after} s")
        self.retry_after = retry_after


class ModelQueue:
    """One request at a time runs on the model; at most ``size`` more wait, beyond that :class:`Busy`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._lock = asyncio.Lock()
        self.pending = 0  # running + waiting

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold the model for the block; raises :class:`Busy` when ``size`` already wait."""
        if self.pending >= self.size + 1:
            raise Busy(retry_after=max(1, self.pending))
        self.pending += 1
        try:
            async with self._lock:
                yield
        finally:
            self.pending -= 1


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: bodies over ``limit`` bytes get 413 (Content-Length and streamed bytes)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        import json

        body = json.dumps(
            {
                "error": {
                    "message": f"request body over {self.limit} bytes - send less "
                    "(LLAMA_TOOLKIT_SERVE_MAX_REQUEST_BYTES raises the limit)",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "request_too_large",
                }
            }
        ).encode()
        head: list[Any] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": head})
        await send({"type": "http.response.body", "body": body})
