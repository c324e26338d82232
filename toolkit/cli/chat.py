"""``llama-toolkit ask`` (one prompt, streamed) and ``llama-toolkit chat`` (a conversation)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from toolkit.cli.io import error, input_lines, read_prompt, stream_answer
from toolkit.cli.options import Subparsers, add_model_options, add_profile_option, overrides

__all__ = ["CHAT_HELP", "register", "run_ask", "run_chat"]

CHAT_HELP = "commands: /reset clears the conversation, /exit quits (Ctrl-D too)"


def register(sub: Subparsers) -> None:
    """Add ``ask`` and ``chat`` to the CLI's sub-parsers."""
    ask = sub.add_parser(
        "ask",
        help="answer one prompt, streaming to stdout",
        description="Answer one prompt, streaming the answer to stdout. "
        "With no PROMPT (or '-') the prompt is read from stdin.",
    )
    ask.add_argument("prompt", nargs="*", help="the prompt (words are joined with spaces)")
    ask.add_argument("--system", "-s", help="system prompt")
    ask.add_argument("--stats", action="store_true", help="print token counts and speed to stderr")
    ask.add_argument(
        "--rag", action="store_true", help="answer from your ingested documents, citing them [1], [2]..."
    )
    ask.add_argument("--collection", help="document collection for --rag (default: LLAMA_TOOLKIT_COLLECTION)")
    ask.add_argument("-k", type=int, default=5, help="chunks to retrieve for --rag (default 5)")
    add_profile_option(ask)
    add_model_options(ask).set_defaults(handler=run_ask)

    chat = sub.add_parser(
        "chat",
        help="interactive chat that keeps history",
        description="Interactive chat with streaming answers. " + CHAT_HELP + ".",
    )
    chat.add_argument("--system", "-s", help="system prompt")
    add_model_options(chat).set_defaults(handler=run_chat)


def run_ask(args: argparse.Namespace) -> int:
    """``ask [PROMPT]`` (or ``ask --rag``); returns the exit code."""
    if args.rag:
        from toolkit.cli.rag import run_rag_ask

        return run_rag_ask(args)

    from langchain_core.messages import HumanMessage, SystemMessage

    from toolkit.backends.factory import get_chat_model

    prompt = read_prompt(args)
    if prompt is None:
        return 2
    llm = get_chat_model(**overrides(args))
    messages: list[Any] = [SystemMessage(args.system)] if args.system else []
    messages.append(HumanMessage(prompt))
    _, last = stream_answer(llm, messages, sys.stdout)
    if args.stats and last is not None:
        usage = last.usage_metadata or {}
        speed = (last.response_metadata or {}).get("tokens_per_second")
        print(
            f"[{usage.get('input_tokens', '?')} prompt tokens, {usage.get('output_tokens', '?')} "
            f"generated, {speed or '?'} tokens/s]",
            file=sys.stderr,
        )
    return 0


def run_chat(args: argparse.Namespace) -> int:
    """``chat``: one conversation, a line per message, until ``/exit`` or end of input."""
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

    from toolkit.backends.factory import get_chat_model
    from toolkit.errors import ContextOverflowError, GenerationLimitError

    llm = get_chat_model(**overrides(args))
    base: list[BaseMessage] = [SystemMessage(args.system)] if args.system else []
    history: list[BaseMessage] = list(base)
    interactive = sys.stdin.isatty()
    print(f"llama-toolkit chat - {CHAT_HELP}", file=sys.stderr)
    for text in input_lines():
        if text in ("/exit", "/quit"):
            return 0
        if text == "/reset":
            history = list(base)
            print("(conversation cleared)", file=sys.stderr)
            continue
        if text.startswith("/"):
            print(f"unknown command {text.split()[0]} - {CHAT_HELP}", file=sys.stderr)
            continue
        history.append(HumanMessage(text))
        if interactive:
            sys.stdout.write("assistant> ")
        try:
            answer, _ = stream_answer(llm, history, sys.stdout)
        except ContextOverflowError as exc:
            history.pop()
            error(f"{exc}. Type /reset to start a new conversation.")
            continue
        except GenerationLimitError as exc:  # a deadline or token cap: keep the partial answer, go on
            error(str(exc))
            answer = exc.partial
        history.append(AIMessage(answer))
    return 0
