"""Putting retrieved text into a prompt so that it cannot pose as the prompt's own structure."""

from __future__ import annotations

import re

__all__ = ["one_line", "quote_source_text"]

# A line of a chunk that looks like a source header (``[2] other.md``), the question's
# separator or a heading of the prompt: a document must not add a source or a question.
_FORGED = re.compile(r"^[ \t]*(\[\d+\]|---+|Question:|Sources:)", re.MULTILINE)


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) made one space."""
    return " ".join(text.split())


def quote_source_text(text: str) -> str:
    """``text`` with lines that would look like prompt structure quoted (``> [2] ...``)."""
    return _FORGED.sub(lambda m: "> " + m.group(0).lstrip(), text)
