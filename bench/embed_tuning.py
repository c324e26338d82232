"""The MiniLM embedder's settings, each changed alone: what each one is worth on this machine.

The same chunks (a generated corpus, cut by ingest's own chunker: up to 200 tokens) are embedded
by ``MiniLMEmbeddings`` with its defaults and with one setting changed at a time: onnxruntime's
graph optimisation level, intra-op threads, memory arena and memory pattern
(``OnnxTuning``), length buckets, and the padded-token budget per batch. Every variant has
its own onnxruntime session, warmed before timing; variants are timed round robin, ``--rounds``
times, and each is reported as the median of its runs ÷ the default's (> 1: the default is
faster). Only ratios from the same run mean anything.

    python bench/embed_tuning.py                 # 400 chunks, 3 rounds
    python bench/embed_tuning.py --chunks 800 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import report

VARIANTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    # label, MiniLMEmbeddings fields, OnnxTuning fields
    ("default", {}, {}),
    ("graph optimisation: extended", {}, {"optimization": "extended"}),
    ("graph optimisation: basic", {}, {"optimization": "basic"}),
    ("graph optimisation: disabled", {}, {"optimization": "disable"}),
    ("intra-op threads: 1", {}, {"intra_op_threads": 1}),
    ("memory arena: off", {}, {"mem_arena": False}),
    ("memory pattern: off", {}, {"mem_pattern": False}),
    ("length buckets: off (input order)", {"length_buckets": False}, {}),
    ("batch_tokens: 256", {"batch_tokens": 256}, {}),
    ("batch_tokens: 4096", {"batch_tokens": 4096}, {}),
    ("batch_tokens: 16384 (32 texts a batch)", {"batch_tokens": 16384, "batch_size": 32}, {}),
]


def chunks(n: int) -> list[str]:
    """``n`` chunks of generated reports, cut as ingest cuts them."""
    from langchain_core.documents import Document

    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingestion import chunk_documents

    counter = MiniLMEmbeddings()
    out: list[str] = []
    seed = 0
    while len(out) < n:
        doc = Document(page_content=report(30, seed=seed), metadata={"source": f"report-{seed}.md"})
        cut = chunk_documents([doc], count_tokens=counter.count_tokens, token_starts=counter.token_starts)
        out += [c.page_content for c in cut]
        seed += 1
    return out[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    from retrievers.embeddings import MiniLMEmbeddings
    from toolkit.backends.embeddings.minilm import OnnxTuning
    from toolkit.hardware import physical_cores

    texts = chunks(args.chunks)
    embedders = [
        (label, MiniLMEmbeddings(**fields, tuning=OnnxTuning(**tuning))) for label, fields, tuning in VARIANTS
    ]
    for _, embedder in embedders:
        embedder.embed_documents(texts[:64])  # loads and warms its session
    times: dict[str, list[float]] = {label: [] for label, _ in embedders}
    for _ in range(args.rounds):
        for label, embedder in embedders:
            t0 = time.perf_counter()
            embedder.embed_documents(texts)
            times[label].append(time.perf_counter() - t0)

    lengths = embedders[0][1].token_lengths(texts)
    base = statistics.median(times["default"])
    print(
        f"{len(texts)} chunks, {sum(lengths)} tokens (median {int(statistics.median(lengths))} a chunk), "
        f"{args.rounds} rounds, physical cores {physical_cores()}\n"
        f"default: {OnnxTuning()} with batch_size {embedders[0][1].batch_size}, "
        f"batch_tokens {embedders[0][1].batch_tokens}, length buckets on\n"
    )
    print("| variant (one change from the default) | median s | chunks/s | time ÷ default's |")
    print("|---|---|---|---|")
    for label, _ in embedders:
        median = statistics.median(times[label])
        print(f"| {label} | {median:.2f} | {len(texts) / median:.1f} | {median / base:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
