"""Request guards: the API key, the body-size limit and the bounded queue for the one model."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "Busy", "ModelQueue", "Ticket", "key_matches"]


def key_matches(header: str | None, key: str) -> bool:
    """Whether ``Authorization: Bearer <key>`` carries ``key`` (constant-time compare)."""
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), key.encode())


class Busy(Exception):
    """The queue is full: the client should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy - retry in {retry_after} s")
        self.retry_after = retry_after


class Ticket:
    """A place in a :class:`ModelQueue`, taken by :meth:`ModelQueue.reserve`; released once."""

    def __init__(self, queue: ModelQueue) -> None:
        self._queue: ModelQueue | None = queue

    def release(self) -> None:
        """Give the place back (a second call does nothing)."""
        queue, self._queue = self._queue, None
        if queue is not None:
            queue.pending -= 1


class ModelQueue:
    """One request at a time runs on the model; at most ``size`` more wait, beyond that :class:`Busy`.

    A place is taken synchronously (:meth:`reserve`), so a streamed request learns it is
    refused before its response starts; a waiter gives up after ``wait_timeout`` seconds.
    """

    def __init__(self, size: int, wait_timeout: float | None = None) -> None:
        self.size = size
        self.wait_timeout = wait_timeout
        self._lock = asyncio.Lock()
        self.pending = 0  # running + waiting

    def reserve(self) -> Ticket:
        """Take a place now; raises :class:`Busy` when ``size`` requests already wait."""
        if self.pending >= self.size + 1:
            raise Busy(retry_after=max(1, self.pending))
        self.pending += 1
        return Ticket(self)

    @asynccontextmanager
    async def slot(self, ticket: Ticket | None = None) -> AsyncIterator[None]:
        """Hold the model for the block, with ``ticket`` or a place reserved now.

        Raises:
            Busy: the queue is full, or the model stayed busy past ``wait_timeout``.
        """
        ticket = ticket or self.reserve()
        try:
            if not await _acquire(self._lock, self.wait_timeout):
                raise Busy(retry_after=max(1, self.pending))
            try:
                yield
            finally:
                self._lock.release()
        finally:
            ticket.release()


async def _acquire(lock: asyncio.Lock, timeout: float | None) -> bool:
    """``lock.acquire()`` within ``timeout`` s; never leaves the lock taken unless it returns True.

    ``asyncio.wait_for`` on Python < 3.12 can lose an acquisition that completes as the wait
    is cancelled, which would hold the model forever; this waits on the task itself instead.
    """
    task = asyncio.ensure_future(lock.acquire())
    try:
        await asyncio.wait({task}, timeout=timeout)
    except BaseException:
        _abandon(task, lock)
        raise
    if task.done() and not task.cancelled() and task.exception() is None:
        return True
    _abandon(task, lock)
    return False


def _abandon(task: asyncio.Future[Any], lock: asyncio.Lock) -> None:
    if not task.done():
        task.cancel()  # asyncio.Lock hands the lock on if it was given to a cancelled waiter
    elif not task.cancelled() and task.exception() is None:
        lock.release()


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
