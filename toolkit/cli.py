"""``llama-toolkit`` command line: ask, chat, agent, summarize, translate, ingest, doctor, models, ui.

Exit codes: 0 success, 1 a toolkit error (one line on stderr), 2 bad usage, 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from toolkit.errors import ToolkitError

__all__ = ["build_parser", "main"]

_CHAT_HELP = "commands: /reset clears the conversation, /exit quits (Ctrl-D too)"


def _add_model_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model options (override LLAMA_TOOLKIT_* settings)")
    g.add_argument("--backend", choices=["llamacpp", "ollama"], help="model backend")
    g.add_argument("--model", "-m", help="GGUF path (llamacpp) or Ollama tag such as llama3.2")
    g.add_argument("--n-ctx", type=int, help="context window in tokens")
    g.add_argument("--n-gpu-layers", type=int, help="layers offloaded to the GPU (-1 all, 0 none)")
    g.add_argument("--temperature", "-t", type=float, help="sampling temperature")
    g.add_argument("--max-tokens", type=int, help="most tokens per answer")
    g.add_argument("--seed", type=int, help="sampling seed for repeatable answers")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    names = ("backend", "model", "n_ctx", "n_gpu_layers", "temperature", "max_tokens", "seed")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="llama-toolkit",
        description="Run Llama 3.2 (or the embedded SmolLM2-135M) locally through LangChain.",
        epilog="Settings come from LLAMA_TOOLKIT_* environment variables and .env; see the README.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
    _add_model_options(ask)

    chat = sub.add_parser(
        "chat",
        help="interactive chat that keeps history",
        description="Interactive chat with streaming answers. " + _CHAT_HELP + ".",
    )
    chat.add_argument("--system", "-s", help="system prompt")
    _add_model_options(chat)

    from toolkit.cli_agent import add_agent_parser

    _add_model_options(add_agent_parser(sub))

    doctor = sub.add_parser(
        "doctor",
        help="show backend, model, context, GPU and Ollama facts",
        description="Show what the toolkit would use and whether it works here.",
    )
    _add_model_options(doctor)

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
    _add_model_options(summarize)

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
    _add_model_options(translate)

    ingest = sub.add_parser(
        "ingest",
        help="index files and folders for `ask --rag`",
        description="Index files and folders (recursively) into a Chroma collection. Unchanged files "
        "are skipped, changed ones replaced; one bad file never stops the run.",
    )
    ingest.add_argument("paths", nargs="+", help="files and folders")
    ingest.add_argument("--collection", help="collection name (default: LLAMA_TOOLKIT_COLLECTION)")
    ingest.add_argument("--sync", action="store_true", help="also remove files that no longer exist")
    ingest.add_argument("--include", action="append", default=[], metavar="GLOB", help="only matching files")
    ingest.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip matching files")

    index = sub.add_parser(
        "index",
        help="list, inspect or delete document collections",
        description="Manage the document collections that `ingest` builds.",
    )
    index.add_argument("action", choices=["list", "stats", "delete"], help="what to do")
    index.add_argument("name", nargs="?", help="collection (stats: default LLAMA_TOOLKIT_COLLECTION)")

    models = sub.add_parser(
        "models",
        help="list the models you can use",
        description="List the embedded model, GGUF files in the data folder "
        "and the models pulled on the Ollama server.",
    )
    _add_model_options(models)

    from toolkit.cli_ui import add_ui_parser

    _add_model_options(add_ui_parser(sub))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "ask" and args.rag:
            from toolkit.cli_rag import run_rag_ask

            return run_rag_ask(args, _overrides(args))
        if args.command == "ask":
            return _ask(args)
        if args.command in ("ingest", "index"):
            from toolkit.cli_rag import run_index_command

            return run_index_command(args)
        if args.command == "chat":
            return _chat(args)
        if args.command == "agent":
            from toolkit.cli_agent import run_agent_command

            return run_agent_command(args, _overrides(args))
        if args.command == "doctor":
            from toolkit.doctor import run_doctor

            return run_doctor(_overrides(args), sys.stdout)
        if args.command in ("summarize", "translate"):
            from toolkit.cli_documents import run_document_command

            return run_document_command(args, _overrides(args))
        if args.command == "ui":
            from toolkit.cli_ui import run_ui_command

            return run_ui_command(args, _overrides(args))
        if args.command == "models":
            from toolkit.doctor import run_models

            return run_models(_overrides(args), sys.stdout)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return 2


def _stream_answer(llm: Any, messages: list[Any], out: TextIO) -> tuple[str, Any]:
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


def read_prompt(args: argparse.Namespace) -> str | None:
    """The prompt from the arguments or stdin; None (after a one-line error) if there is none."""
    prompt = " ".join(args.prompt).strip()
    if not prompt or prompt == "-":
        if sys.stdin is None or sys.stdin.isatty():
            print(
                'error: give a prompt, e.g. llama-toolkit ask "Tell me a joke", or pipe one on stdin',
                file=sys.stderr,
            )
            return None
        prompt = sys.stdin.read().strip()
        if not prompt:
            print("error: the prompt read from stdin is empty", file=sys.stderr)
            return None
    return prompt


def _ask(args: argparse.Namespace) -> int:
    from langchain_core.messages import HumanMessage, SystemMessage

    from toolkit.factory import get_chat_model

    prompt = read_prompt(args)
    if prompt is None:
        return 2
    llm = get_chat_model(**_overrides(args))
    messages: list[Any] = [SystemMessage(args.system)] if args.system else []
    messages.append(HumanMessage(prompt))
    _, last = _stream_answer(llm, messages, sys.stdout)
    if args.stats and last is not None:
        usage = last.usage_metadata or {}
        speed = (last.response_metadata or {}).get("tokens_per_second")
        print(
            f"[{usage.get('input_tokens', '?')} prompt tokens, {usage.get('output_tokens', '?')} "
            f"generated, {speed or '?'} tokens/s]",
            file=sys.stderr,
        )
    return 0


def _chat(args: argparse.Namespace) -> int:
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

    from toolkit.errors import ContextOverflowError
    from toolkit.factory import get_chat_model

    llm = get_chat_model(**_overrides(args))
    base: list[BaseMessage] = [SystemMessage(args.system)] if args.system else []
    history: list[BaseMessage] = list(base)
    interactive = sys.stdin.isatty()
    print(f"llama-toolkit chat - {_CHAT_HELP}", file=sys.stderr)
    for text in input_lines():
        if text in ("/exit", "/quit"):
            return 0
        if text == "/reset":
            history = list(base)
            print("(conversation cleared)", file=sys.stderr)
            continue
        if text.startswith("/"):
            print(f"unknown command {text.split()[0]} - {_CHAT_HELP}", file=sys.stderr)
            continue
        history.append(HumanMessage(text))
        if interactive:
            sys.stdout.write("assistant> ")
        try:
            answer, _ = _stream_answer(llm, history, sys.stdout)
        except ContextOverflowError as exc:
            history.pop()
            print(f"error: {exc}. Type /reset to start a new conversation.", file=sys.stderr)
            continue
        history.append(AIMessage(answer))
    return 0


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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
