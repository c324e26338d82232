"""Ingestion speed: our idempotent ingest against ``Chroma.from_documents``, same embedder.

One run, on a generated corpus of Markdown files (seeded) that chunks into >= 2,000 chunks:

  ours      ``retrievers.ingest.ingest(folder, index)``: load, chunk, hash, embed, store;
  baseline  ``langchain_chroma.Chroma.from_documents(chunks, embedding)`` on the very chunks
            ours produced (loading and chunking are not timed for it), same embedder;
  re-ingest ``ingest(folder, index)`` again with nothing changed.

Printed: chunks/s for each, ours ÷ baseline (target >= 1.0), and re-ingest time ÷ first
ingest time (target <= 0.05). Only ratios measured in the same run mean anything.

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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200, help="generated Markdown files")
    parser.add_argument("--paragraphs", type=int, default=30, help="paragraphs per file")
    args = parser.parse_args(argv)

    from langchain_chroma import Chroma

    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingest import ingest
    from retrievers.store import DocumentIndex

    embeddings = MiniLMEmbeddings()
    embeddings.embed_query("warm up")  # load the ONNX session outside the timings
    tmp = Path(tempfile.mkdtemp(prefix="rag-ingest-bench-"))
    try:
        folder = tmp / "corpus"
        folder.mkdir()
        for i in range(args.files):
            (folder / f"report-{i:04d}.md").write_text(report(args.paragraphs, seed=i), encoding="utf-8")

        index = DocumentIndex("bench", embeddings=embeddings, path=tmp / "ours")
        t0 = time.perf_counter()
        first = ingest([folder], index)
        t_first = time.perf_counter() - t0
        chunks = index.count()
        assert not first.failed, first.failed

        docs = index.get_documents()
        texts_meta = [(d.page_content, d.metadata) for d in docs]
        from langchain_core.documents import Document

        baseline_docs = [Document(page_content=t, metadata=m) for t, m in texts_meta]
        t0 = time.perf_counter()
        Chroma.from_documents(
            baseline_docs,
            embeddings,
            collection_name="baseline",
            persist_directory=str(tmp / "baseline"),
            collection_metadata={"hnsw:space": "cosine"},
        )
        t_base = time.perf_counter() - t0

        t0 = time.perf_counter()
        again = ingest([folder], index)
        t_again = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"corpus: {args.files} files, {chunks} chunks, embedder {embeddings.model_id}\n")
    print("| run | seconds | chunks/s | report |")
    print("|---|---|---|---|")
    print(f"| ours (first ingest) | {t_first:.1f} | {chunks / t_first:.1f} | {first.summary()} |")
    print(
        f"| Chroma.from_documents | {t_base:.1f} | {chunks / t_base:.1f} | same chunks, no loading/chunking |"
    )
    print(f"| ours (re-ingest, unchanged) | {t_again:.2f} | - | {again.summary()} |")
    print("\nSummary")
    print(f"  chunks                                 {chunks}   (target >= 2000)")
    print(f"  chunks/s ours ÷ Chroma.from_documents   {t_base / t_first:.3f}   (target >= 1.0)")
    print(f"  re-ingest ÷ first ingest time           {t_again / t_first:.4f}   (target <= 0.05)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
