"""Ingestion speed: our idempotent ingest against ``Chroma.from_documents``, same embedder.

One run, on a generated corpus of Markdown files (seeded) that chunks into >= 2,000 chunks,
each side timed twice in the order ours, baseline, baseline, ours (after a warm-up):

  ours      ``retrievers.ingestion.ingest(folder, index)``: load, chunk, hash, embed, store;
  baseline  ``langchain_chroma.Chroma.from_documents(chunks, embedding)`` on the very chunks
            ours produced (loading and chunking are not timed for it), same embedder;
  re-ingest ``ingest(folder, index)`` again with nothing changed (after ours #2).

Printed: chunks/s for each, ours ÷ baseline over both pairs (target >= 1.0), and re-ingest time ÷ first
ingest time (target <= 0.05). Only ratios measured in the same run mean anything. Also the padding
fraction of the embedder's batches (padding ÷ all processed tokens, from the tokenizer alone): in
document order, as ingest sends them (length buckets within each ``DocumentIndex.add`` call of
``batch_size`` chunks), and in one bucketed call over all chunks (what ``Chroma.from_documents`` gets).

    python bench/rag_ingest.py                 # ~200 files, >= 2,000 chunks, MiniLM int8
    python bench/rag_ingest.py --files 400
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import report


def padding_table(embeddings: Any, texts: list[str], window: int) -> list[tuple[str, float]]:
    """Padding fractions of the batches the embedder would run on ``texts`` (in document order)."""
    from toolkit.backends.embeddings.batching import padded_tokens, plan_batches

    lengths = embeddings.token_lengths(texts)
    size, budget = embeddings.batch_size, embeddings.batch_tokens

    def fraction(sort: bool, step: int) -> float:
        padded = 0
        for start in range(0, len(lengths), step):
            part = lengths[start : start + step]
            padded += padded_tokens(part, plan_batches(part, batch_size=size, batch_tokens=budget, sort=sort))
        return 1 - sum(lengths) / padded if padded else 0.0

    return [
        ("document order (no buckets)", fraction(False, len(lengths) or 1)),
        (f"ingest: buckets per {window}-chunk write", fraction(True, window)),
        ("one bucketed call over all chunks", fraction(True, len(lengths) or 1)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200, help="generated Markdown files")
    parser.add_argument("--paragraphs", type=int, default=30, help="paragraphs per file")
    args = parser.parse_args(argv)

    from langchain_chroma import Chroma
    from langchain_core.documents import Document

    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingestion import IngestReport, ingest
    from retrievers.store import DocumentIndex

    embeddings = MiniLMEmbeddings()
    tmp = Path(tempfile.mkdtemp(prefix="rag-ingest-bench-"))
    try:
        folder = tmp / "corpus"
        folder.mkdir()
        for i in range(args.files):
            (folder / f"report-{i:04d}.md").write_text(report(args.paragraphs, seed=i), encoding="utf-8")

        def ours(name: str) -> tuple[float, DocumentIndex, IngestReport]:
            t0 = time.perf_counter()  # opening the store is timed, as Chroma.from_documents' is
            index = DocumentIndex(name, embeddings=embeddings, path=tmp / name)
            result = ingest([folder], index)
            assert not result.failed, result.failed
            return time.perf_counter() - t0, index, result

        def baseline(name: str, docs: list[Document]) -> float:
            t0 = time.perf_counter()
            Chroma.from_documents(
                docs,
                embeddings,
                collection_name=name,
                persist_directory=str(tmp / name),
                collection_metadata={"hnsw:space": "cosine"},
            )
            return time.perf_counter() - t0

        # Warm onnxruntime's memory arena with chunk-sized batches: the first run must not pay it.
        sample = [report(args.paragraphs, seed=10_000 + i) for i in range(4)]
        embeddings.embed_documents([p for text in sample for p in text.split("\n\n")][:96])

        # ABBA order: drift of a shared machine (and any warm-up left) weighs on both sides alike.
        t_ours1, index, first = ours("ours-1")
        chunks = index.count()
        baseline_docs = [
            Document(page_content=d.page_content, metadata=d.metadata) for d in index.get_documents()
        ]
        t_base1 = baseline("baseline-1", baseline_docs)
        t_base2 = baseline("baseline-2", baseline_docs)
        t_ours2, index, second = ours("ours-2")
        t0 = time.perf_counter()
        again = ingest([folder], index)
        t_again = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    padding = padding_table(embeddings, [d.page_content for d in baseline_docs], index.batch_size)
    t_ours, t_base = (t_ours1 + t_ours2) / 2, (t_base1 + t_base2) / 2
    print(f"corpus: {args.files} files, {chunks} chunks, embedder {embeddings.model_id}\n")
    print("| run (in this order) | seconds | chunks/s | report |")
    print("|---|---|---|---|")
    print(f"| ours, first ingest #1 | {t_ours1:.1f} | {chunks / t_ours1:.1f} | {first.summary()} |")
    print(
        f"| Chroma.from_documents #1 | {t_base1:.1f} | {chunks / t_base1:.1f} | same chunks, no loading/chunking |"
    )
    print(
        f"| Chroma.from_documents #2 | {t_base2:.1f} | {chunks / t_base2:.1f} | same chunks, no loading/chunking |"
    )
    print(f"| ours, first ingest #2 | {t_ours2:.1f} | {chunks / t_ours2:.1f} | {second.summary()} |")
    print(f"| ours, re-ingest unchanged | {t_again:.2f} | - | {again.summary()} |")
    print("\nSummary")
    print(f"  chunks                                 {chunks}   (target >= 2000)")
    print(
        f"  chunks/s ours ÷ Chroma.from_documents   {t_base / t_ours:.3f}   (target >= 1.0; "
        f"pairs {t_base1 / t_ours1:.3f}, {t_base2 / t_ours2:.3f})"
    )
    print(f"  re-ingest ÷ first ingest time           {t_again / t_ours2:.4f}   (target <= 0.05)")
    print("\nPadding fraction of the embedder's batches (padding ÷ processed tokens)")
    for label, value in padding:
        print(f"  {label:<40} {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
