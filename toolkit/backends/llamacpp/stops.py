"""Stop sequences matched in streamed text (see :func:`~toolkit.backends.llamacpp.decoding.decode`)."""

from __future__ import annotations

__all__ = ["StopMatcher"]


class StopMatcher:
    """Cuts streamed text at the first stop sequence, holding back what may start one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [x for x in stops if x]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Add decoded text; return (text safe to emit, whether a stop sequence was hit)."""
        if not self.stops:
            return text, False
        self.pending += text
        hits = [i for i in (self.pending.find(x) for x in self.stops) if i >= 0]
        if hits:
            out, self.pending = self.pending[: min(hits)], ""
            return out, True
        keep = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(self.pending)), keep, -1):
                if self.pending.endswith(stop[:n]):
                    keep = n
                    break
        cut = len(self.pending) - keep
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out, False

    def flush(self, text: str) -> str:
        """The held-back text and ``text``: the stream ended without a stop sequence."""
        out, self.pending = self.pending + text, ""
        return out
