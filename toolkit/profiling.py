"""Where the time goes: a process-wide profile of load, prompt, decode, embed, store and read time.

The profile is off by default, and then costs one attribute check where work starts: no clock is
read and nothing is recorded. ``llama-toolkit ask|summarize|ingest --profile`` turns it on for
one command (:func:`session`) and prints :func:`format_report` on stderr.

The phases (:data:`PHASES`):

* ``read``: reading, parsing and chunking documents (ingest);
* ``load``: loading a model (a GGUF through llama.cpp, the MiniLM ONNX session, Ollama's
  ``load_duration``);
* ``prompt``: prompt evaluation (tokens evaluated, not those reused from the KV cache);
* ``decode``: generating tokens;
* ``embed``: embedding texts;
* ``store``: opening the Chroma store, writing, deleting and searching chunks.

Each phase accumulates seconds, calls and counts (``tokens``, ``texts``, ``chunks``...). Time is
exclusive: a phase entered inside another on the same thread (the embedder loaded while a store
is opened) is subtracted from the outer one, so the phases never count a second twice and their
sum never exceeds the wall time of one thread. Work reported with :func:`add` (the decode loop,
the durations an Ollama server reports) is subtracted from the enclosing phase the same way.

This module imports only the standard library: the light paths (a no-op ingest) stay light.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = [
    "PHASES",
    "TITLE",
    "PhaseTotals",
    "Session",
    "Span",
    "add",
    "disable",
    "enable",
    "format_report",
    "is_enabled",
    "phase",
    "profiled",
    "reset",
    "session",
    "snapshot",
]

PHASES = ("read", "load", "prompt", "decode", "embed", "store")
"""The phases, in the order a report lists them."""

TITLE = "profile: where the time went (other: Python, LangChain, imports, output)"
"""The first line of :func:`format_report`."""

_RATES = {"read": "files", "prompt": "tokens", "decode": "tokens", "embed": "texts", "store": "chunks"}
"""The count a phase's rate is given in (per second)."""

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass
class PhaseTotals:
    """One phase's account: exclusive seconds, calls and counts such as ``tokens``."""

    seconds: float = 0.0
    calls: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def rate(self, phase: str) -> tuple[float, str] | None:
        """``(per second, unit)`` of the phase's main count, or None when it has none."""
        unit = _RATES.get(phase)
        n = self.counts.get(unit, 0) if unit else 0
        if not unit or not n or self.seconds <= 0:
            return None
        return n / self.seconds, unit


class _Profile:
    """The process's profile: totals under a lock, and each thread's stack of open spans."""

    def __init__(self) -> None:
        self.enabled = False
        self._lock = threading.Lock()
        self._totals: dict[str, PhaseTotals] = {}
        self._local = threading.local()

    def stack(self) -> list[Span]:
        stack: list[Span] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def record(self, name: str, seconds: float, calls: int, counts: dict[str, int]) -> None:
        if not self.enabled:
            return
        with self._lock:
            totals = self._totals.setdefault(name, PhaseTotals())
            totals.seconds += max(seconds, 0.0)
            totals.calls += calls
            for key, n in counts.items():
                totals.counts[key] = totals.counts.get(key, 0) + int(n)

    def nested(self, seconds: float) -> None:
        """``seconds`` of a nested phase, taken from the span open on this thread (if any)."""
        stack = self.stack()
        if stack:
            stack[-1].child += seconds

    def snapshot(self) -> dict[str, PhaseTotals]:
        with self._lock:
            return {k: PhaseTotals(v.seconds, v.calls, dict(v.counts)) for k, v in self._totals.items()}

    def reset(self) -> None:
        with self._lock:
            self._totals.clear()


_PROFILE = _Profile()


class Span:
    """One timed stretch of a phase, a context manager; add counts with :meth:`count`."""

    __slots__ = ("child", "counts", "name", "start")

    def __init__(self, name: str, counts: dict[str, int]) -> None:
        self.name = name
        self.counts = counts
        self.child = 0.0  # seconds of phases nested in this one
        self.start = 0.0

    def count(self, **counts: int) -> None:
        """Add to the span's counts (``tokens=12``), recorded when it ends."""
        for key, n in counts.items():
            self.counts[key] = self.counts.get(key, 0) + n

    def __enter__(self) -> Span:
        _PROFILE.stack().append(self)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        elapsed = time.perf_counter() - self.start
        stack = _PROFILE.stack()
        if stack and stack[-1] is self:
            stack.pop()
        elif self in stack:  # closed out of order (a generator collected late): still balanced
            stack.remove(self)
        _PROFILE.nested(elapsed)
        _PROFILE.record(self.name, elapsed - self.child, 1, self.counts)


class _NullSpan:
    """The span of a disabled profile: does nothing, reads no clock."""

    __slots__ = ()

    def count(self, **counts: int) -> None:
        """Ignored."""

    def __enter__(self) -> _NullSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_NULL_SPAN = _NullSpan()


def _check(name: str) -> None:
    if name not in PHASES:
        raise ValueError(f"unknown phase {name!r}: use one of {', '.join(PHASES)}")


def is_enabled() -> bool:
    """Whether the profile records."""
    return _PROFILE.enabled


def enable() -> None:
    """Start recording (totals are kept; see :func:`reset`)."""
    _PROFILE.enabled = True


def disable() -> None:
    """Stop recording; what was recorded stays readable with :func:`snapshot`."""
    _PROFILE.enabled = False


def reset() -> None:
    """Forget every total."""
    _PROFILE.reset()


def phase(name: str, **counts: int) -> Span | _NullSpan:
    """A context manager that times ``name`` (one of :data:`PHASES`) with ``counts``.

    Disabled, it is a shared object that does nothing. Never hold one across a ``yield``: the
    spans of a thread nest, and a generator's consumer runs in between.
    """
    if not _PROFILE.enabled:
        return _NULL_SPAN
    _check(name)
    return Span(name, dict(counts))


def add(name: str, seconds: float, *, calls: int = 1, **counts: int) -> None:
    """Record ``seconds`` of ``name`` measured elsewhere (a server's own timings, a loop timed
    by hand); they are subtracted from the phase open on this thread, as a nested phase."""
    if not _PROFILE.enabled:
        return
    _check(name)
    _PROFILE.nested(seconds)
    _PROFILE.record(name, seconds, calls, counts)


def profiled(name: str) -> Callable[[_F], _F]:
    """A decorator: each call of the function is a span of ``name``."""
    _check(name)

    def wrap(func: _F) -> _F:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not _PROFILE.enabled:
                return func(*args, **kwargs)
            with Span(name, {}):
                return func(*args, **kwargs)

        return timed  # type: ignore[return-value]

    return wrap


def snapshot() -> dict[str, PhaseTotals]:
    """A copy of the totals, by phase."""
    return _PROFILE.snapshot()


@dataclass
class Session:
    """What :func:`session` measured: the wall time and the phases' totals."""

    wall: float = 0.0
    totals: dict[str, PhaseTotals] = field(default_factory=dict)

    def report(self) -> str:
        """The table :func:`format_report` makes of this session."""
        return format_report(self.totals, self.wall)


@contextmanager
def session() -> Iterator[Session]:
    """Record from a clean slate for the block; the :class:`Session` holds the result after it
    (also when the block raises). The profile is off again afterwards."""
    result = Session()
    reset()
    enable()
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.wall = time.perf_counter() - started
        disable()
        result.totals = snapshot()
        reset()


def _counts_text(counts: dict[str, int]) -> str:
    """``12 tokens, 1 model``: counts are named in the plural, and said in the singular for one."""
    parts = []
    for key, n in counts.items():
        unit = key
        if n == 1:
            unit = key[:-3] + "y" if key.endswith("ies") else key.removesuffix("s")
        parts.append(f"{n:,} {unit}")
    return ", ".join(parts)


def format_report(totals: dict[str, PhaseTotals], wall: float) -> str:
    """A table of the phases: seconds, share of ``wall``, calls, counts and rate, then ``other``
    (the wall time no phase accounts for: Python, LangChain, imports, the terminal)."""
    rows = [("phase", "seconds", "share", "calls", "counts", "rate")]
    spent = 0.0
    names = [p for p in PHASES if p in totals] + sorted(set(totals) - set(PHASES))
    for name in names:
        t = totals[name]
        spent += t.seconds
        rate = t.rate(name)
        rows.append(
            (
                name,
                f"{t.seconds:.3f}",
                f"{100 * t.seconds / wall:.1f}%" if wall > 0 else "-",
                str(t.calls),
                _counts_text(t.counts),
                f"{rate[0]:,.1f} {rate[1]}/s" if rate else "",
            )
        )
    other = max(wall - spent, 0.0)
    share = f"{100 * other / wall:.1f}%" if wall > 0 else "-"
    rows.append(("other", f"{other:.3f}", share, "", "", ""))
    rows.append(("wall", f"{wall:.3f}", "100.0%" if wall > 0 else "-", "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    right = (False, True, True, True, False, True)
    lines = []
    for row in rows:
        cells = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return f"{TITLE}\n" + "\n".join(lines)
