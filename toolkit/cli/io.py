"""Terminal I/O the commands share: the prompt from the arguments or stdin, typed lines,
streamed answers, one-line errors and output files written atomically."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

__all__ = ["error", "fail", "input_lines", "read_prompt", "stream_answer", "write_atomically"]


def error(message: str) -> None:
    """Print ``error: message`` as one line on stderr."""
    print(f"error: {message}", file=sys.stderr)


def fail(message: str) -> int:
    """Print ``error: message`` on stderr; returns the exit code of a toolkit error, 1."""
    error(message)
    return 1


def read_prompt(args: argparse.Namespace) -> str | None:
    """The prompt from the arguments or stdin; None (after a one-line error) if there is none."""
    prompt = " ".join(args.prompt).strip()
    if not prompt or prompt == "-":
        if sys.stdin is None or sys.stdin.isatty():
            error('give a prompt, e.g. llama-toolkit ask "Tell me a joke", or pipe one on stdin')
            return None
        prompt = sys.stdin.read().strip()
        if not prompt:
            error("the prompt read from stdin is empty")
            return None
    return prompt


def input_lines() -> Iterator[str]:
    """Non-blank lines typed at ``you> `` (no prompt when stdin is not a terminal), stripped,
    until end of input."""
    prompt = "you> " if sys.stdin.isatty() else ""
    while True:
        try:
            line = input(prompt).strip()
        except EOFError:
            return
        if line:
            yield line


def stream_answer(llm: Any, messages: list[Any], out: TextIO) -> tuple[str, Any]:
    """Stream ``llm``'s answer to ``messages`` into ``out``, ending the line.

    Returns:
        The answer's text and the sum of its chunks (for its usage and response metadata).
    """
    parts: list[str] = []
    last = None
    for chunk in llm.stream(messages):
        text = chunk.content if isinstance(chunk.content, str) else ""
        if text:
            out.write(text)
            out.flush()
            parts.append(text)
        last = chunk if last is None else last + chunk
    out.write("\n")
    out.flush()
    return "".join(parts), last


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` (ending in a newline) to ``path`` through a temporary file beside it."""
    # A failed run must not leave a half-written file over the user's previous output.
    target = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
