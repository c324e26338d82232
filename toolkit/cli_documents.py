"""``llama-toolkit summarize`` and ``llama-toolkit translate``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.documents import Document

from toolkit.errors import ConfigurationError

__all__ = ["parse_glossary", "read_input", "run_document_command"]


def read_input(file: str) -> list[Document]:
    """The document named on the command line, or stdin for ``-``."""
    from toolkit.documents import load_bytes, load_document

    if file != "-":
        return load_document(file)
    if sys.stdin is None or sys.stdin.isatty():
        raise ConfigurationError("give a FILE, or pipe the text on stdin (e.g. `cat report.txt | ...`)")
    return load_bytes(sys.stdin.buffer.read(), name="<stdin>")


def parse_glossary(entries: list[str]) -> dict[str, str]:
    """``TERM=TRANSLATION`` entries (or ``TERM`` to keep it) as a glossary."""
    glossary = {}
    for entry in entries:
        term, sep, translation = entry.partition("=")
        term = term.strip()
        if not term:
            raise ConfigurationError(f"glossary entry {entry!r} has no term - use TERM=TRANSLATION or TERM")
        glossary[term] = translation.strip() if sep else term
    return glossary


def _write_atomically(path: str, text: str) -> None:
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


def run_document_command(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """Run ``summarize`` or ``translate``; returns the exit code."""
    from toolkit.factory import get_chat_model
    from toolkit.progress import ProgressBar

    docs = read_input(args.file)
    if args.out and not Path(args.out).expanduser().parent.is_dir():
        raise ConfigurationError(f"the folder of --out {args.out} does not exist")
    llm = get_chat_model(**overrides)
    chain: Any
    if args.command == "summarize":
        from toolkit.chains.summarize import summarize_chain

        chain = summarize_chain(
            llm, length=args.length, style=args.style, language=args.lang, focus=args.focus
        )
    else:
        from toolkit.chains.translate import translate_chain

        chain = translate_chain(llm, to=args.to, source=args.source, glossary=parse_glossary(args.glossary))
    progress = ProgressBar(sys.stderr)
    config: Any = {"callbacks": [progress]}
    parts: list[str] = []
    try:
        for piece in chain.stream(docs, config=config):
            parts.append(piece)
            if not args.out:
                sys.stdout.write(piece)
                sys.stdout.flush()
    finally:
        progress.close()
    if args.out:
        _write_atomically(args.out, "".join(parts))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write("\n")
    return 0
