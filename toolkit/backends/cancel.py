"""Cancellation tokens: one thread asks work running in another to stop at its next check.

Python cannot stop a thread. Work that can be cut short checks a :class:`CancelToken`
between steps instead: the in-process model checks it before every prompt batch and after
every token. A token reaches that work through a context variable (:func:`cancel_scope`),
so nothing in between (a tool, a chain) has to pass it along; the agents' tool timeout
sets one for each tool call and cancels it when the call runs out of time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["CancelToken", "cancel_scope", "current_token"]


class CancelToken:
    """A one-way flag with a reason: once cancelled, it stays cancelled."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the work holding this token to stop at its next check."""
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()


_current: ContextVar[CancelToken | None] = ContextVar("toolkit_cancel_token", default=None)


def current_token() -> CancelToken | None:
    """The token of the innermost :func:`cancel_scope` in this context, or None."""
    return _current.get()


@contextmanager
def cancel_scope(token: CancelToken) -> Iterator[CancelToken]:
    """Make ``token`` the current token for the block (and for generators resumed in it)."""
    reset = _current.set(token)
    try:
        yield token
    finally:
        _current.reset(reset)
