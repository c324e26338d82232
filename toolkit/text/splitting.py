"""Split text at structure boundaries into chunks that fit a token budget, losing nothing.

Chunks are exact slices of the input: ``"".join(c.text for c in chunks) == text`` always
holds, so no character can be dropped between chunks. Boundaries are chosen at Markdown
headings and blank lines (paragraphs), and only inside a paragraph longer than the budget at
line ends, then sentence ends, then (for a single sentence over the budget) words. Chunks
are packed close to the budget and end at a heading once three quarters full.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Chunk", "span_counter", "split_to_budget"]

_WHITESPACE = frozenset(" \t\n\r")

_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]{0,3}(```|~~~)", re.MULTILINE)
_PARAGRAPH_END = re.compile(r"\n[ \t]*\n\s*")
_LINE_END = re.compile(r"\n")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？;:])[\"')\]]*\s+")
_WORD_END = re.compile(r"\s+")


@dataclass(frozen=True)
class Chunk:
    """A slice ``text[start:end]`` of the input, with the section it starts in.

    Attributes:
        text: The exact slice, surrounding whitespace included.
        start: Offset of the slice in the input.
        end: Offset one past its end.
        tokens: Its token count.
        section: The last Markdown heading at or before ``start`` ("" if none).
    """

    text: str
    start: int
    end: int
    tokens: int
    section: str = ""


def _is_space(ch: str) -> bool:
    # The whitespace of BERT-style normalisers: other Python "spaces" (\x1c, \x0b, ...) are
    # control characters there, deleted, so a word piece can span them.
    return ch in _WHITESPACE or unicodedata.category(ch) == "Zs"


def span_counter(
    text: str, count: Callable[[str], int], offsets: Sequence[int] | None = None
) -> Callable[[int, int], int]:
    """A counter of ``text[a:b]``'s tokens.

    Args:
        text: The text the spans are taken from.
        count: Token counter of any text.
        offsets: Start offsets of the tokens of ``text``, sorted, from a tokenizer whose tokens
            never span whitespace and do not depend on their neighbours across it (WordPiece,
            as in BERT and MiniLM; not byte-level BPE, where a leading space changes tokens).
            A span that starts and ends at whitespace is then counted from them; other spans
            (and all spans without ``offsets``) are counted with ``count``.
    """
    if offsets is None:
        return lambda a, b: count(text[a:b])
    n = len(text)

    def at_space(i: int) -> bool:
        return i in (0, n) or _is_space(text[i - 1]) or _is_space(text[i])

    def span(a: int, b: int) -> int:
        if at_space(a) and at_space(b):
            return bisect.bisect_left(offsets, b) - bisect.bisect_left(offsets, a)
        return count(text[a:b])

    return span


def _cuts(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[int]:
    """Offsets in (start, end) just after each match of ``pattern``, outside code fences."""
    fenced = _fenced_ranges(text)
    out = []
    for m in pattern.finditer(text, start, end):
        cut = m.end()
        if start < cut < end and not any(a < cut < b for a, b in fenced):
            out.append(cut)
    return out


def _fenced_ranges(text: str) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    opened: int | None = None
    marker = ""
    for m in _FENCE.finditer(text):
        if opened is None:
            opened, marker = m.start(), m.group(1)
        elif m.group(1) == marker:
            ranges.append((opened, m.end()))
            opened = None
    if opened is not None:
        ranges.append((opened, len(text)))
    return ranges


def _heading_cuts(text: str, start: int, end: int) -> list[int]:
    return [m.start() for m in _HEADING.finditer(text, start, end) if start < m.start() < end]


_LEVELS: list[Callable[[str, int, int], list[int]]] = [
    lambda t, s, e: sorted(set(_heading_cuts(t, s, e)) | set(_cuts(t, s, e, _PARAGRAPH_END))),
    lambda t, s, e: _cuts(t, s, e, _LINE_END),
    lambda t, s, e: _cuts(t, s, e, _SENTENCE_END),
    lambda t, s, e: _cuts(t, s, e, _WORD_END),
]


def _pieces(
    text: str, start: int, end: int, budget: int, count: Callable[[int, int], int], level: int
) -> list[tuple[int, int, int]]:
    """Split text[start:end] into (start, end, tokens) pieces each within ``budget``."""
    tokens = count(start, end)
    if tokens <= budget:
        return [(start, end, tokens)]
    if level >= len(_LEVELS):
        return _hard_split(text, start, end, budget, count)
    cuts = _LEVELS[level](text, start, end)
    if not cuts:
        return _pieces(text, start, end, budget, count, level + 1)
    bounds = [start, *cuts, end]
    out: list[tuple[int, int, int]] = []
    for a, b in itertools.pairwise(bounds):
        out.extend(_pieces(text, a, b, budget, count, level + 1))
    return out


def _hard_split(
    text: str, start: int, end: int, budget: int, count: Callable[[int, int], int]
) -> list[tuple[int, int, int]]:
    """A run with no whitespace longer than the budget (a URL, base64): cut by characters."""
    out = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:  # longest prefix within budget
            mid = (lo + hi + 1) // 2
            if count(start, mid) <= budget:
                lo = mid
            else:
                hi = mid - 1
        out.append((start, lo, count(start, lo)))
        start = lo
    return out


def split_to_budget(
    text: str, budget: int, count: Callable[[str], int], *, offsets: Sequence[int] | None = None
) -> list[Chunk]:
    """Split ``text`` into consecutive chunks of at most ``budget`` tokens each.

    Structure boundaries are preferred (see the module docstring); pieces are then packed
    greedily, in order, so that each chunk is as close to the budget as the boundaries allow.

    Args:
        text: The text to split.
        budget: Most tokens per chunk (counted on the chunk's exact text).
        count: Token counter.
        offsets: Start offsets of the tokens of ``text``, to count most spans without
            tokenizing them again; only for tokenizers that qualify (see :func:`span_counter`).

    Raises:
        ValueError: ``budget`` is smaller than 1.
    """
    if budget < 1:
        raise ValueError(f"budget must be at least 1 token, got {budget}")
    if not text:
        return []
    span = span_counter(text, count, offsets)
    pieces = _pieces(text, 0, len(text), budget, span, 0)
    starts_section = {m.start() for m in _HEADING.finditer(text)}
    groups: list[list[tuple[int, int, int]]] = []
    for piece in pieces:
        used = sum(n for _, _, n in groups[-1]) if groups else 0
        # Fill chunks close to the budget, but end one at a heading once it is 3/4 full.
        if (
            groups
            and used + piece[2] <= budget
            and not (piece[0] in starts_section and used >= budget * 3 // 4)
        ):
            groups[-1].append(piece)
        else:
            groups.append([piece])
    spans: list[tuple[int, int, int]] = []
    for group in groups:
        a, b = group[0][0], group[-1][1]
        n = span(a, b) if len(group) > 1 else group[0][2]
        # Tokens of a join can differ from the sum at the seams: confirm, else keep apart.
        spans.extend([(a, b, n)] if n <= budget else group)
    headings = [(m.start(), m.group(1).strip()) for m in _HEADING.finditer(text)]
    chunks = []
    for a, b, n in spans:
        section = ""
        for pos, title in headings:
            if pos > a:
                break
            section = title
        chunks.append(Chunk(text=text[a:b], start=a, end=b, tokens=n, section=section))
    return chunks
