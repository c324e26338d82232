"""``llama-toolkit summarize`` and ``llama-toolkit translate``."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from toolkit.cli.io import check_out, fail, save_output, save_partial
from toolkit.cli.options import Subparsers, add_model_options, add_profile_option, overrides
from toolkit.errors import ConfigurationError, ToolkitError

if TYPE_CHECKING:
    from langchain_core.documents import Document

__all__ = ["parse_glossary", "read_input", "register", "run_document_command"]


def _length(value: str) -> str | int:
    if value in ("short", "medium", "long"):
        return value
    try:
        words = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use short, medium, long or a number of words") from None
    if words < 1:
        raise argparse.ArgumentTypeError("the number of words must be at least 1")
    return words


def register(sub: Subparsers) -> None:
    """Add ``summarize`` and ``translate`` to the CLI's sub-parsers."""
    summarize = sub.add_parser(
        "summarize",
        help="summarize a document of any length",
        description="Summarize a .txt, .md, .pdf, .html or .docx file (or stdin with '-'), however "
        "long: it is split into parts that fit the model's window, and every part is read.",
    )
    summarize.add_argument("file", nargs="?", default="-", help="the document; '-' or none: stdin")
    summarize.add_argument(
        "--length", default="medium", type=_length, help="short, medium, long, or a number of words"
    )
    summarize.add_argument(
        "--style", default="paragraph", choices=["paragraph", "bullets", "key_points"], help="output style"
    )
    summarize.add_argument("--lang", help="language of the summary (name or ISO code)")
    summarize.add_argument("--focus", help="a question the summary should answer")
    summarize.add_argument("--out", "-o", help="write the summary to this file instead of stdout")
    add_profile_option(summarize)
    add_model_options(summarize).set_defaults(handler=run_document_command)

    translate = sub.add_parser(
        "translate",
        help="translate a document, keeping its Markdown structure",
        description="Translate a document (or stdin with '-') of any length. Markdown structure, "
        "code blocks, URLs and numbers are kept.",
    )
    translate.add_argument("file", nargs="?", default="-", help="the document; '-' or none: stdin")
    translate.add_argument("--to", required=True, help="target language: name or ISO code, e.g. fr")
    translate.add_argument("--from", dest="source", help="source language (default: detected)")
    translate.add_argument(
        "--glossary",
        action="append",
        default=[],
        metavar="TERM[=TRANSLATION]",
        help="translate TERM a fixed way, or keep it as is without '='; repeatable",
    )
    translate.add_argument("--out", "-o", help="write the translation to this file instead of stdout")
    add_profile_option(translate)
    add_model_options(translate).set_defaults(handler=run_document_command)


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


def _chain(args: argparse.Namespace) -> Any:
    """The summarize or translate chain the arguments ask for, on the configured model."""
    from toolkit.backends.factory import get_chat_model

    llm = get_chat_model(**overrides(args))
    if args.command == "summarize":
        from toolkit.chains.summarize import summarize_chain

        return summarize_chain(
            llm, length=args.length, style=args.style, language=args.lang, focus=args.focus
        )
    from toolkit.chains.translate import translate_chain

    return translate_chain(llm, to=args.to, source=args.source, glossary=parse_glossary(args.glossary))


def run_document_command(args: argparse.Namespace) -> int:
    """Run ``summarize`` or ``translate``; returns the exit code."""
    from toolkit.progress import ProgressBar

    check_out(args.out)  # before any model time is spent: a bad --out fails now, not at the end
    docs = read_input(args.file)
    chain = _chain(args)
    progress = ProgressBar(sys.stderr)
    config: Any = {"callbacks": [progress]}
    parts: list[str] = []
    try:
        for piece in chain.stream(docs, config=config):
            parts.append(piece)
            if not args.out:
                sys.stdout.write(piece)
                sys.stdout.flush()
    except (ToolkitError, KeyboardInterrupt) as exc:
        if not (args.out and "".join(parts).strip()):
            raise
        return _keep_partial(args.out, "".join(parts), exc)
    finally:
        progress.close()
    if args.out:
        return save_output(args.out, "".join(parts))  # saved elsewhere, never lost, if it fails now
    sys.stdout.write("\n")
    return 0


def _keep_partial(out: str, text: str, exc: BaseException) -> int:
    """Save the output a failed or interrupted run got so far; one line says why and where."""
    saved = save_partial(out, text)
    where = f"the output so far is saved in {saved}" if saved else "the output so far could not be saved"
    if isinstance(exc, KeyboardInterrupt):
        fail(f"interrupted (Ctrl-C) - {where}")
        return 130
    return fail(f"{exc} - {where}")
