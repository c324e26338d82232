"""Async iteration over a blocking generator that must stay on one thread.

The shared model's lease belongs to the thread that took it (that is how re-entry is told
apart from a second caller). LangChain's default ``astream`` pulls each chunk of a sync
stream on whatever executor thread is free, so two concurrent async streams could look like
one thread asking twice. :func:`iterate_in_thread` runs the whole generator on one thread of
its own instead, one item per request: a consumer that stops asking pauses the generator
(the model's idle timeout then applies), and closing the async iterator closes the generator
on its thread, which releases the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

__all__ = ["OneThreadStreams", "iterate_in_thread"]

T = TypeVar("T")


async def iterate_in_thread(
    make: Callable[[], Iterator[T]], *, name: str, read_ahead: int = 0
) -> AsyncIterator[T]:
    """Yield the items of ``make()``, which is created and advanced on one new thread.

    The thread runs in a copy of the caller's context (so a cancellation scope reaches it)
    and advances the generator only when the consumer asks for the next item, or up to
    ``read_ahead`` items before it asks (so generation does not wait for the event loop
    after every token; a consumer that stops asking still pauses it). Exceptions from the
    generator are raised here.
    """
    loop = asyncio.get_running_loop()
    wanted = threading.Semaphore(read_ahead)
    stopping = threading.Event()
    inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def post(kind: str, value: Any) -> None:
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is listening any more
            loop.call_soon_threadsafe(inbox.put_nowait, (kind, value))

    def work() -> None:
        iterator: Iterator[T] | None = None
        try:
            iterator = make()
            while True:
                wanted.acquire()
                if stopping.is_set():
                    return
                try:
                    item = next(iterator)
                except StopIteration:
                    post("done", None)
                    return
                post("item", item)
        except BaseException as exc:  # handed to the consumer, raised there
            post("error", exc)
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()  # on this thread: the generator's cleanup releases the model here

    thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name=name, daemon=True)
    thread.start()
    try:
        while True:
            wanted.release()
            kind, value = await inbox.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stopping.set()
        wanted.release()


class OneThreadStreams:
    """Mixin for a chat model whose ``astream`` runs its sync ``_stream`` on one thread."""

    def _stream(self, messages: list[Any], stop: list[str] | None = None, **kwargs: Any) -> Iterator[Any]:
        raise NotImplementedError  # the chat model's own _stream comes first in the MRO

    async def _astream(
        self, messages: list[Any], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        async for chunk in iterate_in_thread(
            lambda: self._stream(messages, stop=stop, **kwargs), name="astream"
        ):
            yield chunk
