"""``llama-toolkit ingest``, ``llama-toolkit index`` and ``llama-toolkit ask --rag``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from toolkit.cli.io import error, read_prompt
from toolkit.cli.options import Subparsers, add_profile_option, overrides

__all__ = ["register", "run_index_command", "run_ingest_command", "run_rag_ask"]


def register(sub: Subparsers) -> None:
    """Add ``ingest`` and ``index`` to the CLI's sub-parsers (``ask --rag`` is ``ask``'s option)."""
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
    add_profile_option(ingest)
    ingest.set_defaults(handler=run_ingest_command)

    index = sub.add_parser(
        "index",
        help="list, inspect or delete document collections",
        description="Manage the document collections that `ingest` builds.",
    )
    index.add_argument("action", choices=["list", "stats", "delete"], help="what to do")
    index.add_argument("name", nargs="?", help="collection (stats: default LLAMA_TOOLKIT_COLLECTION)")
    index.set_defaults(handler=run_index_command)


def _index_overrides(args: argparse.Namespace) -> dict[str, Any]:
    name = getattr(args, "collection", None) or getattr(args, "name", None)
    return {"collection": name} if name else {}


def run_ingest_command(args: argparse.Namespace) -> int:
    """``ingest PATH...``; returns the exit code (1 when every file failed)."""
    from retrievers.manifest import noop_report
    from toolkit import profiling

    # Nothing to do (every file unchanged, per the store's manifest): answer without Chroma.
    with profiling.phase("read"):  # the files checked against the manifest
        quick = noop_report(
            args.paths, include=args.include, exclude=args.exclude, sync=args.sync, **_index_overrides(args)
        )
    if quick is not None:
        print(f"{quick[0]}: {quick[1].summary()}")
        return 0
    from retrievers.ingestion import ingest
    from retrievers.store import open_index
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


def run_index_command(args: argparse.Namespace) -> int:
    """``index list|stats|delete [NAME]``; returns the exit code."""
    if args.action == "list":
        from retrievers.listing import list_indexes  # no chromadb, no LangChain: answers fast

        names = list_indexes()
        for name in names:
            print(name)
        if not names:
            print("no collections yet - run `llama-toolkit ingest PATH...`", file=sys.stderr)
        return 0
    from retrievers.store import delete_index, open_index

    if args.action == "delete":
        if not args.name:
            error("name the collection to delete: llama-toolkit index delete NAME")
            return 2
        delete_index(args.name)
        print(f"deleted collection {args.name}")
        return 0
    stats = open_index(create=False, **_index_overrides(args)).stats()  # never creates a collection
    width = max(len(k) for k in stats)
    for key, value in stats.items():
        print(f"{key:<{width}}  {value}")
    return 0


def run_rag_ask(args: argparse.Namespace) -> int:
    """``ask --rag QUESTION``: stream the answer, then list its sources."""
    from retrievers.rag import RagSource, format_sources, rag_chain
    from retrievers.search import MAX_K, MAX_QUERY_CHARS, HybridRetriever, check_k
    from retrievers.store import open_index
    from toolkit.backends.factory import get_chat_model

    check_k(args.k, "-k", MAX_K)  # before reading stdin or loading anything
    question = read_prompt(args)
    if question is None:
        return 2
    if len(question) > MAX_QUERY_CHARS:  # before loading the embedder and the model
        error(
            f"the question is {len(question):,} characters, over the {MAX_QUERY_CHARS:,} limit - shorten it"
        )
        return 1
    index = open_index(create=False, **_index_overrides(args))  # never creates a collection
    if index.count() == 0:
        error(f"the collection `{index.name}` is empty - run `llama-toolkit ingest PATH...` first")
        return 1
    chain = rag_chain(get_chat_model(**overrides(args)), HybridRetriever(index=index, k=args.k))
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
