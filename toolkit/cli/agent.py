"""``llama-toolkit agent``: a tool-calling agent that prints each step as it happens.

    $ llama-toolkit agent "What is 17% of 2,340 kg in pounds?"
    -> calculator(expression="0.17 * 2340")
       <- 397.8
    -> convert_units(value=397.8, from_unit="kg", to_unit="lb")
       <- 397.8 kg = 877.0 lb
    17% of 2,340 kg is 397.8 kg, about 877 pounds.

With no question it reads one question per line from stdin (a conversation with memory)
until end of input or ``exit``.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from toolkit.cli.io import error, fail, input_lines
from toolkit.cli.options import Subparsers, add_model_options, overrides

__all__ = ["register", "run_agent_command"]

_RESULT_CHARS = 300
_EXIT_WORDS = ("exit", "quit", "/exit", "/quit")
_INTERACTIVE_HELP = "one question per line; exit or Ctrl-D quits"


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("use a number of seconds") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return number


def register(sub: Subparsers) -> None:
    """Add ``agent`` to the CLI's sub-parsers."""
    agent = sub.add_parser(
        "agent",
        help="answer with tools (calculator, dates, units, your documents), showing each step",
        description="Answer a question with a tool-calling agent, printing each tool call, its "
        "result, then the answer. With no QUESTION: one question per line from stdin, in one "
        f"conversation ({_INTERACTIVE_HELP}); '-' reads a single question from stdin.",
    )
    agent.add_argument("question", nargs="*", help="the question (words are joined with spaces)")
    agent.add_argument(
        "--max-steps", type=_positive_int, default=8, help="model calls allowed per question (default 8)"
    )
    agent.add_argument(
        "--tool-timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="time each tool call may take (default 30)",
    )
    agent.add_argument(
        "--research",
        action="store_true",
        help="answer only from your ingested documents, citing them [1], [2]...",
    )
    agent.add_argument(
        "--collection", help="document collection for --research (default: LLAMA_TOOLKIT_COLLECTION)"
    )
    agent.add_argument(
        "-k", type=_positive_int, default=4, help="passages per search for --research (default 4)"
    )
    agent.add_argument("--workspace", metavar="DIR", help="let the agent list and read the files in DIR")
    add_model_options(agent).set_defaults(handler=run_agent_command)


def _shorten(text: str) -> str:
    line = " ".join(text.split())
    if len(line) <= _RESULT_CHARS:
        return line
    return f"{line[:_RESULT_CHARS]}... [{len(line) - _RESULT_CHARS:,} more characters]"


def _call(name: str, args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in args.items())
    return f"{name}({shown})"


class _Printer:
    """Writes steps to ``out``: tool calls, shortened results, then the streamed answer."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.mid_line = False

    def _end_line(self) -> None:
        if self.mid_line:
            self.out.write("\n")
            self.out.flush()
            self.mid_line = False

    def _line(self, text: str) -> None:
        self._end_line()
        self.out.write(text + "\n")
        self.out.flush()

    def run(self, agent: Any, question: str, thread_id: str) -> int:
        """Stream one turn; returns 0 for an answer, 1 for none (empty, or step limit)."""
        from agents.steps import AnswerStep, TokenStep, ToolCallStep, ToolResultStep, stream_steps

        code: int | None = None
        for step in stream_steps(agent, question, thread_id=thread_id):
            if isinstance(step, TokenStep):
                self.out.write(step.text)
                self.out.flush()
                self.mid_line = not step.text.endswith("\n")
            elif isinstance(step, ToolCallStep):
                self._line(f"-> {_call(step.name, step.args)}")
            elif isinstance(step, ToolResultStep):
                self._line(f"   <- {_shorten(step.content)}")
            elif isinstance(step, AnswerStep):
                if not step.streamed and step.text:
                    self.out.write(step.text)
                    self.mid_line = True
                self._end_line()
                code = 0
                if step.step_limit:
                    code = fail("the step limit was reached - raise --max-steps or ask something simpler")
                elif not step.text.strip():
                    code = fail("the model gave an empty answer")
        self._end_line()
        return fail("the agent stopped without an answer") if code is None else code


def _build(args: argparse.Namespace, model_options: dict[str, Any]) -> Any | None:
    """The agent the options ask for; None (after a one-line error) if it cannot work."""
    from toolkit.backends.factory import get_chat_model

    if not args.research:
        from agents.assistant import create_assistant

        workspace = Path(args.workspace).expanduser() if args.workspace else None
        return create_assistant(
            get_chat_model(**model_options),
            max_steps=args.max_steps,
            tool_timeout=args.tool_timeout,
            memory=True,
            workspace=workspace,
        )
    from agents.research import create_research_agent
    from retrievers.search import HybridRetriever
    from retrievers.store import list_indexes, open_index
    from toolkit.settings import get_settings

    name = args.collection or get_settings().collection
    if name not in list_indexes():  # open_index would create it, empty
        fail(f"there is no collection `{name}` - run `llama-toolkit ingest PATH...` first")
        return None
    index = open_index(name)
    if index.count() == 0:
        fail(f"the collection `{name}` is empty - run `llama-toolkit ingest PATH...` first")
        return None
    return create_research_agent(
        get_chat_model(**model_options),
        HybridRetriever(index=index, k=args.k),
        max_steps=args.max_steps,
        tool_timeout=args.tool_timeout,
        memory=True,
    )


def _interactive(agent: Any, printer: _Printer) -> int:
    from toolkit.errors import ContextOverflowError

    thread_id = uuid.uuid4().hex
    print(f"llama-toolkit agent - {_INTERACTIVE_HELP}", file=sys.stderr)
    for question in input_lines():
        if question.lower() in _EXIT_WORDS:
            return 0
        try:
            printer.run(agent, question, thread_id)
        except ContextOverflowError as exc:
            thread_id = uuid.uuid4().hex  # the old conversation no longer fits the window
            print(f"error: {exc}. Starting a new conversation.", file=sys.stderr)
    return 0


def run_agent_command(args: argparse.Namespace) -> int:
    """``agent [QUESTION]``; returns the exit code."""
    if args.research and args.workspace:
        error("--workspace does not apply to --research: the research agent has no file tools")
        return 2
    if args.workspace and not Path(args.workspace).expanduser().is_dir():
        error(f"the workspace {args.workspace} is not a folder")
        return 2
    question = " ".join(args.question).strip()
    if question == "-":
        question = sys.stdin.read().strip()
        if not question:
            error("the question read from stdin is empty")
            return 2
    agent = _build(args, overrides(args))
    if agent is None:
        return 1
    printer = _Printer(sys.stdout)
    if not question:
        return _interactive(agent, printer)
    return printer.run(agent, question, uuid.uuid4().hex)
