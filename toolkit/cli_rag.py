"""``llama-toolkit ingest``, ``llama-toolkit index`` and ``llama-toolkit ask --rag``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["run_index_command", "run_rag_ask"]


def _index_overrides(args: argparse.Namespace) -> dict[str, Any]:
    name = getattr(args, "collection", None) or getattr(args, "name", None)
    return {"collection": name} if name else {}


def run_index_command(args: argparse.Namespace) -> int:
    """``ingest PATH...`` or ``index list|stats|delete``; returns the exit code."""
    from retrievers.store import delete_index, list_indexes, open_index

    if args.command == "ingest":
        from retrievers.ingestion import ingest
        from toolkit.progress import ProgressBar

        index = open_index(**_index_overrides(args))
        bar = ProgressBar(sys.stderr, min_total=2)

        def on_progress(stage: str, done: int, total: int) -> None:
            bar.show("indexing files", done, total, unit="file")

        try:
            report = ingest(
                args.paths,
                index,
                include=args.include,
                exclude=args.exclude,
                sync=args.sync,
                on_progress=on_progress,
            )
        finally:
            bar.close()
        for path, reason in report.failed:
            print(f"failed: {path}: {reason}", file=sys.stderr)
        print(f"{index.name}: {report.summary()}")
        return 0 if not report.failed or (report.added or report.updated or report.unchanged) else 1
    if args.action == "list":
        names = list_indexes()
        for name in names:
            print(name)
        if not names:
            print("no collections yet - run `llama-toolkit ingest PATH...`", file=sys.stderr)
        return 0
    if args.action == "delete":
        if not args.name:
            print("error: name the collection to delete: llama-toolkit index delete NAME", file=sys.stderr)
            return 2
        delete_index(args.name)
        print(f"deleted collection {args.name}")
        return 0
    stats = open_index(**_index_overrides(args)).stats()
    width = max(len(k) for k in stats)
    for key, value in stats.items():
        print(f"{key:<{width}}  {value}")
    return 0


def run_rag_ask(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """``ask --rag QUESTION``: stream the answer, then list its sources."""
    from retrievers.rag import RagSource, format_sources, rag_chain
    from retrievers.search import HybridRetriever
    from retrievers.store import open_index
    from toolkit.cli import read_prompt
    from toolkit.factory import get_chat_model

    question = read_prompt(args)
    if question is None:
        return 2
    index = open_index(**_index_overrides(args))
    if index.count() == 0:
        print(
            f"error: the collection `{index.name}` is empty - run `llama-toolkit ingest PATH...` first",
            file=sys.stderr,
        )
        return 1
    chain = rag_chain(get_chat_model(**overrides), HybridRetriever(index=index, k=args.k))
    sources: list[RagSource] = []
    for chunk in chain.stream({"question": question}):
        if "sources" in chunk:
            sources = chunk["sources"]
        if chunk.get("answer"):
            sys.stdout.write(chunk["answer"])
            sys.stdout.flush()
    sys.stdout.write("\n")
    if sources:
        print("\nSources:\n" + format_sources(sources))
    return 0
