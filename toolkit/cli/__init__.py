"""``llama-toolkit`` command line: ask, chat, agent, doctor, models, pull, summarize, translate,
ingest, index, ui, serve.

Each command group is a module of this package with a ``register(subparsers)`` that adds its
sub-commands, each with a ``handler(args) -> exit code``; :func:`build_parser` composes them and
:func:`main` runs the chosen handler. The command modules share :mod:`toolkit.cli.io` and
:mod:`toolkit.cli.options` and never import this package.

``--profile`` (on ``ask``, ``summarize``, ``translate`` and ``ingest``) prints where the time went
on stderr after the command (:mod:`toolkit.profiling`), also after an error or Ctrl-C.

Exit codes: 0 success, 1 a toolkit error (one line on stderr), 2 bad usage, 130 interrupted.
No exception ends in a traceback: toolkit errors, file errors (``OSError``), text that is not
UTF-8 and Ctrl-C each end in one line on stderr. An answer cut short by a deadline or a token
cap (:class:`~toolkit.errors.GenerationLimitError`) is printed before its error line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from toolkit.cli import agent, chat, documents, models, pull, rag, serve, ui
from toolkit.cli.io import check_utf8_args, error
from toolkit.errors import GenerationLimitError, ToolkitError

__all__ = ["build_parser", "main"]

_GROUPS = (chat, agent, models, pull, documents, rag, ui, serve)  # the order of the commands in --help


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
    if not getattr(args, "profile", False):
        return _run(args)
    from toolkit import profiling

    run = profiling.Session()
    try:
        with profiling.session() as run:
            return _run(args)
    finally:  # after an error or Ctrl-C too: the time spent until then
        print(run.report(), file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    """The chosen command's handler, every failure turned into one line and an exit code."""
    try:
        check_utf8_args(args)
        return int(args.handler(args))
    except ToolkitError as exc:
        _show_partial(exc)
        error(str(exc))
        return 1
    except KeyboardInterrupt:
        error("interrupted (Ctrl-C)")
        return 130
    except BrokenPipeError:
        return 0
    except UnicodeError as exc:
        error(
            f"the input is not valid UTF-8 text ({getattr(exc, 'reason', exc)}) - convert it to UTF-8, e.g. with iconv"
        )
        return 1
    except OSError as exc:
        if exc.filename:
            error(
                f"{exc.strerror or exc} ({exc.filename}) - check the path and its permissions, then try again"
            )
        else:
            error(f"{exc or exc.strerror} ({type(exc).__name__}) - nothing was written; try again")
        return 1


def _show_partial(exc: ToolkitError) -> None:
    """Print the answer a deadline or token cap cut short, unless it was streamed already."""
    if isinstance(exc, GenerationLimitError) and exc.partial and not getattr(exc, "partial_shown", False):
        sys.stdout.write(exc.partial.rstrip("\n") + "\n")
        sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
