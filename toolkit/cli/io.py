"""Terminal I/O the commands share: the prompt from the arguments or stdin, typed lines,
streamed answers, one-line errors, and output files: checked before any model time is spent,
written atomically, and saved elsewhere (never lost) when they still cannot be written."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from toolkit.errors import ConfigurationError, GenerationLimitError, UnsupportedInputError

__all__ = [
    "check_out",
    "check_utf8_args",
    "error",
    "fail",
    "input_lines",
    "read_prompt",
    "save_output",
    "save_partial",
    "stream_answer",
    "write_atomically",
]


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
    until end of input; a line that is not UTF-8 is skipped with a one-line error."""
    prompt = "you> " if sys.stdin.isatty() else ""
    while True:
        try:
            line = input(prompt).strip()
        except EOFError:
            return
        except UnicodeDecodeError:  # one bad line must not end the conversation
            error("that line is not valid UTF-8 text and was skipped - type it again")
            continue
        if line:
            yield line


def stream_answer(llm: Any, messages: list[Any], out: TextIO) -> tuple[str, Any]:
    """Stream ``llm``'s answer to ``messages`` into ``out``, ending the line.

    Returns:
        The answer's text and the sum of its chunks (for its usage and response metadata).
    """
    parts: list[str] = []
    last = None
    try:
        for chunk in llm.stream(messages):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                out.write(text)
                out.flush()
                parts.append(text)
            last = chunk if last is None else last + chunk
    except GenerationLimitError as exc:
        # Show the rest of the partial answer (text the stream had not handed over yet), end
        # its line, and tell main() it is on the screen.
        shown = "".join(parts)
        if exc.partial.startswith(shown):
            out.write(exc.partial[len(shown) :])
        exc.partial_shown = True  # type: ignore[attr-defined]
        raise
    finally:
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


def check_utf8_args(args: argparse.Namespace) -> None:
    """Refuse a command-line value that is not valid UTF-8 text (the shell passed raw bytes).

    Python hands such bytes over as lone surrogates, which no model, file or terminal takes.

    Raises:
        UnsupportedInputError: naming the option and the first bad byte.
    """
    for name, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, str):
                continue
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = item[exc.start].encode("utf-8", "surrogateescape")
                what = "the prompt" if name == "prompt" else f"--{name.replace('_', '-')}"
                raise UnsupportedInputError(
                    f"{what} is not valid UTF-8 (byte 0x{bad.hex()} at character {exc.start + 1}) - "
                    "pass UTF-8 text (check the terminal's encoding, e.g. LANG=C.UTF-8)"
                ) from None


def check_out(path: str | None) -> None:
    """Check that ``--out`` can be written, before any model time is spent on it.

    Raises:
        ConfigurationError: ``path`` is a folder, its folder does not exist, or nothing can
            be created there (read-only, no permission).
    """
    if not path:
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise ConfigurationError(f"--out {path} is a folder - give a file name, e.g. {target / 'output.md'}")
    folder = target.parent
    if not folder.is_dir():
        raise ConfigurationError(f"the folder of --out {path} does not exist - create it or pick another")
    if target.exists() and not os.access(target, os.W_OK):
        raise ConfigurationError(f"--out {path} is not writable - pick another file")
    try:  # the only check that holds for root and read-only file systems: create a file there
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot write in the folder of --out {path} ({exc.strerror or exc}) - pick another folder"
        ) from None
    os.close(fd)
    Path(probe).unlink(missing_ok=True)


def _fallbacks(target: Path, kind: str = "unsaved") -> Iterator[Path]:
    """Where an output that cannot be written to ``target`` is saved instead, in order."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{target.stem or 'output'}.{kind}-{stamp}{target.suffix or '.txt'}"
    yield target.with_name(name)
    try:
        from toolkit.settings import get_settings

        yield Path(get_settings().data_dir).expanduser() / "unsaved" / name
    except Exception:  # a broken setting must not lose the output
        pass
    yield Path(tempfile.gettempdir()) / name


def _save_elsewhere(target: Path, text: str, kind: str) -> Path | None:
    """Save ``text`` in the first fallback place for ``target`` that takes it; None if none does."""
    for fallback in _fallbacks(target, kind):
        try:
            if fallback.parent != target.parent:  # never recreate a folder that vanished
                fallback.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(str(fallback), text)
        except OSError:
            continue
        return fallback
    return None


def save_partial(path: str, text: str) -> Path | None:
    """Save the part of an output a failed run got to, beside ``path`` (which keeps its old
    content) or in the data or temp folder.

    Returns:
        Where it was saved, or None if nowhere could take it.
    """
    return _save_elsewhere(Path(path).expanduser(), text, "partial")


def save_output(path: str, text: str) -> int:
    """Write ``text`` to ``path``; if that fails, save it next to it (or in the data or temp
    folder) and say where, so no output is lost.

    Returns:
        The exit code: 0 written as asked, 1 saved elsewhere (after a one-line error).
    """
    target = Path(path).expanduser()
    try:
        write_atomically(path, text)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        fallback = _save_elsewhere(target, text, "unsaved")
        if fallback is not None:
            return fail(f"could not write --out {path} ({reason}) - the output is saved in {fallback}")
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return fail(f"could not write --out {path} ({reason}) or save it anywhere - it is printed above")
    print(f"wrote {path}", file=sys.stderr)
    return 0
