"""Length-bucketed batches for padded encoders, and the share of a plan that is padding.

A batch is padded to its longest text, so a short text next to a long one costs the long
one's length. :func:`plan_batches` sorts texts by token length first (shortest first), so
each batch holds similar lengths, and bounds each batch by its padded size (texts x longest);
the caller writes each batch's vectors back to the texts' own rows, so the order of the
input is kept. :func:`padding_fraction` measures what a plan wastes, for benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["padded_tokens", "padding_fraction", "plan_batches"]


def plan_batches(
    lengths: Sequence[int], *, batch_size: int, batch_tokens: int, sort: bool = True
) -> list[list[int]]:
    """Group text indices into batches of at most ``batch_size`` texts and ``batch_tokens`` padded tokens.

    Args:
        lengths: Tokens of each text (special tokens included), in input order.
        batch_size: Most texts per batch (at least 1).
        batch_tokens: Most padded tokens per batch (texts x longest); a text longer than
            this still gets a batch of its own.
        sort: Sort by length first (length buckets); False keeps input order (for comparison).

    Returns:
        Batches of indices into ``lengths``; every index appears exactly once.
    """
    if batch_size < 1 or batch_tokens < 1:
        raise ValueError(f"need batch_size >= 1 and batch_tokens >= 1, got {batch_size}, {batch_tokens}")
    order = sorted(range(len(lengths)), key=lengths.__getitem__) if sort else range(len(lengths))
    batches: list[list[int]] = []
    widest = 0
    for i in order:
        width = max(widest, lengths[i])
        if batches and len(batches[-1]) < batch_size and (len(batches[-1]) + 1) * width <= batch_tokens:
            batches[-1].append(i)
            widest = width
        else:
            batches.append([i])
            widest = lengths[i]
    return batches


def padded_tokens(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> int:
    """Tokens the encoder processes for ``batches``: each batch is texts x its longest text."""
    return sum(len(batch) * max((lengths[i] for i in batch), default=0) for batch in batches)


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]]) -> float:
    """Share of the processed tokens that are padding (0.0 when nothing is processed)."""
    padded = padded_tokens(lengths, batches)
    real = sum(lengths[i] for batch in batches for i in batch)
    return (padded - real) / padded if padded else 0.0
