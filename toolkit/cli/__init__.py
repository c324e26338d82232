"""``llama-toolkit`` command line: ask, chat, agent, doctor, models, summarize, translate, ingest,
index, ui.

Each command group is a module of this package with a ``register(subparsers)`` that adds its
sub-commands, each with a ``handler(args) -> exit code``; :func:`build_parser` composes them and
:func:`main` runs the chosen handler. The command modules share :mod:`toolkit.cli.io` and
:mod:`toolkit.cli.options` and never import this package.

Exit codes: 0 success, 1 a toolkit error (one line on stderr), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from toolkit.cli import agent, chat, documents, models, rag, ui
from toolkit.errors import ToolkitError

__all__ = ["build_parser", "main"]

_GROUPS = (chat, agent, models, documents, rag, ui)  # the order of the commands in --help


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="llama-toolkit",
        description="Run Llama 3.2 (or the embedded SmolLM2-135M) locally through LangChain.",
        epilog="Settings come from LLAMA_TOOLKIT_* environment variables and .env; see the README.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in _GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
