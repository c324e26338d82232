"""The gate in front of one shared llama.cpp context: a lock that cannot deadlock.

A caller gets a :class:`Lease` from :meth:`ModelGate.acquire` and gives it back with
:meth:`Lease.release`. Unlike a bare ``threading.Lock``:

- the thread that holds the lease asking again raises :class:`ModelReentryError` at once
  (``g = llm.stream(p); next(g); llm.invoke(q)`` would otherwise wait for itself forever);
- a waiting caller gives up with :class:`ModelBusyError` after its ``wait_timeout``;
- a streaming holder :meth:`~Lease.pause` s at every ``yield``; a waiter revokes a lease that
  has been paused longer than its ``idle_timeout`` and takes the model. The holder learns it
  when it :meth:`~Lease.resume` s (False), and must then not touch the model again. A lease
  is only revoked while paused, never during a llama.cpp call.

``with gate:`` holds a lease for a block (never paused, so never revoked).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from types import TracebackType

from toolkit.backends.cancel import CancelToken
from toolkit.errors import ModelBusyError, ModelReentryError

__all__ = ["Lease", "ModelGate"]

POLL = 0.2
"""Longest a waiter sleeps before it looks again (an idle holder, a cancelled token)."""


class Lease:
    """One holder's right to the model, from :meth:`ModelGate.acquire` to :meth:`release`."""

    def __init__(self, gate: ModelGate, idle_timeout: float) -> None:
        self.gate = gate
        self.idle_timeout = idle_timeout
        self.thread = threading.get_ident()
        self.active = True
        self.since = time.monotonic()
        self.revoked = False
        self.released = False

    def pause(self) -> None:
        """The holder is about to wait for its consumer: from now it may be revoked."""
        with self.gate.cond:
            self.active = False
            self.since = time.monotonic()

    def resume(self) -> bool:
        """The holder goes on; False when the lease was revoked meanwhile (hands off the model)."""
        with self.gate.cond:
            if self.revoked or self.released:
                return False
            self.active = True
            self.thread = threading.get_ident()
            return True

    def idle_for(self, now: float) -> float:
        """Seconds paused (0 while active)."""
        return 0.0 if self.active else now - self.since

    def release(self) -> None:
        """Give the model back (idempotent; a revoked lease has nothing to give back)."""
        self.gate.release(self)


class ModelGate:
    """The lock of one loaded model; see the module docstring.

    Args:
        name: The model's name in error messages.
        on_revoke: Called (under the gate) when a paused lease is revoked: forget any state
            the revoked holder left in the model.
    """

    def __init__(self, name: str = "the model", on_revoke: Callable[[], None] | None = None) -> None:
        self.name = name
        self.on_revoke = on_revoke
        self.cond = threading.Condition(threading.Lock())
        self.owner: Lease | None = None
        self.revocations = 0
        self._held = threading.local()

    @property
    def busy(self) -> bool:
        """Whether a lease is held."""
        with self.cond:
            return self.owner is not None

    def acquire(
        self,
        *,
        wait_timeout: float | None = None,
        idle_timeout: float = math.inf,
        cancel: CancelToken | None = None,
    ) -> Lease:
        """Wait for the model and hold it.

        Args:
            wait_timeout: Seconds to wait while another caller holds it (0: do not wait;
                None: no limit).
            idle_timeout: Seconds this holder may stay paused before a waiter revokes it.
            cancel: Stop waiting when this token is cancelled.

        Raises:
            ModelReentryError: This thread already holds the model.
            ModelBusyError: It stayed busy for ``wait_timeout`` s, or ``cancel`` was cancelled.
        """
        me = threading.get_ident()
        start = time.monotonic()
        with self.cond:
            while True:
                owner, now = self.owner, time.monotonic()
                if owner is None:
                    self.owner = Lease(self, idle_timeout)
                    return self.owner
                if owner.thread == me:
                    raise ModelReentryError(
                        f"this thread is already generating with {self.name}: finish reading or close "
                        "its open stream before calling the model again"
                    )
                if not owner.active and owner.idle_for(now) >= owner.idle_timeout:
                    self._revoke(owner)
                    continue
                self._check_wait(start, now, wait_timeout, cancel)
                self.cond.wait(self._sleep(owner, start, now, wait_timeout))

    def _check_wait(
        self, start: float, now: float, wait_timeout: float | None, cancel: CancelToken | None
    ) -> None:
        if cancel is not None and cancel.cancelled:
            raise ModelBusyError(f"stopped waiting for {self.name}: {cancel.reason}")
        if wait_timeout is not None and now - start >= wait_timeout:
            raise ModelBusyError(
                f"{self.name} stayed busy with another answer for {wait_timeout:g} s: try again "
                "later, or raise LLAMA_TOOLKIT_MODEL_WAIT_TIMEOUT"
            )

    @staticmethod
    def _sleep(owner: Lease, start: float, now: float, wait_timeout: float | None) -> float:
        sleep = POLL
        if not owner.active:
            sleep = min(sleep, owner.idle_timeout - owner.idle_for(now))
        if wait_timeout is not None:
            sleep = min(sleep, start + wait_timeout - now)
        return max(sleep, 0.001)

    def _revoke(self, owner: Lease) -> None:
        owner.revoked = True
        self.owner = None
        self.revocations += 1
        if self.on_revoke is not None:
            self.on_revoke()
        self.cond.notify_all()

    def release(self, lease: Lease) -> None:
        """Give ``lease`` back (see :meth:`Lease.release`)."""
        with self.cond:
            lease.released = True
            if self.owner is lease:
                self.owner = None
                self.cond.notify_all()

    def __enter__(self) -> Lease:
        lease = self.acquire()
        stack: list[Lease] = self._held.__dict__.setdefault("stack", [])
        stack.append(lease)
        return lease

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._held.stack.pop().release()
