"""Retrieval latency at 1K and at 100K chunks, and their ratio.

Two Chroma stores are filled: one with 1,000 chunks, one with 100,000. Every chunk text is
real (generated reports, seeded) and its vector is the real MiniLM embedding of one of 1,000
base chunks; the 100K store repeats each base chunk 100 times with a distinct suffix in
the text and a small random perturbation of the vector (re-normalised), so that embedding
100,000 chunks on a small CPU is not what the bench waits for. Queries are embedded for real
at query time. The retriever is the default hybrid one (dense + BM25, reciprocal rank
fusion), plus dense alone for reference.

Printed: median latency per mode and size, the BM25 index build time (paid once per index
version, not per query), and median 100K ÷ median 1K (target <= 3).

    python bench/rag_query.py
    python bench/rag_query.py --big 20000 --queries 30
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import CITIES, PROJECTS, TOPICS, report

QUESTIONS = [
    f"What did project {p} on {t} achieve in {c}?"
    for p, t, c in zip(PROJECTS, TOPICS * 2, CITIES, strict=False)
]


def fill(index: object, base: list[tuple[str, dict, list[float]]], copies: int) -> None:
    import numpy as np

    noise = np.random.default_rng(1)
    collection = index.collection  # type: ignore[attr-defined]
    batch: list[tuple[str, str, dict, list[float]]] = []

    def flush() -> None:
        if batch:
            collection.add(
                ids=[b[0] for b in batch],
                documents=[b[1] for b in batch],
                metadatas=[b[2] for b in batch],
                embeddings=[b[3] for b in batch],
            )
            batch.clear()

    for c in range(copies):
        for i, (text, meta, vector) in enumerate(base):
            v = np.asarray(vector)
            if c:  # copy 0 is the real embedding; the others are near it
                v = v + 0.02 * noise.standard_normal(len(v))
            v = v / np.linalg.norm(v)
            batch.append(
                (
                    f"c{c}-{i}",
                    f"{text} (copy {c})" if c else text,
                    {**meta, "chunk_index": i, "copy": c},
                    v.tolist(),
                )
            )
            if len(batch) >= 5000:
                flush()
    flush()


def timed(retriever: object, queries: list[str], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        for q in queries:
            t0 = time.perf_counter()
            retriever.invoke(q)  # type: ignore[attr-defined]
            out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=1000, help="chunks in the small store")
    parser.add_argument("--big", type=int, default=100_000, help="chunks in the big store")
    parser.add_argument("--queries", type=int, default=len(QUESTIONS), help="distinct queries")
    parser.add_argument("--repeat", type=int, default=3, help="passes over the queries")
    args = parser.parse_args(argv)

    from langchain_core.documents import Document

    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingestion import chunk_documents
    from retrievers.search import HybridRetriever
    from retrievers.store import DocumentIndex

    embeddings = MiniLMEmbeddings()
    docs = [
        Document(page_content=report(40, seed=s), metadata={"source": f"/corpus/report-{s}.md"})
        for s in range(60)
    ]
    chunks = chunk_documents(docs, count_tokens=embeddings.count_tokens)[: args.small]
    if len(chunks) < args.small:
        raise SystemExit(f"only {len(chunks)} base chunks; raise the corpus size")
    t0 = time.perf_counter()
    vectors = embeddings.embed_documents([c.page_content for c in chunks])
    t_embed = time.perf_counter() - t0
    base = [(c.page_content, dict(c.metadata), v) for c, v in zip(chunks, vectors, strict=True)]
    queries = (QUESTIONS * (args.queries // len(QUESTIONS) + 1))[: args.queries]

    tmp = Path(tempfile.mkdtemp(prefix="rag-query-bench-"))
    results: dict[tuple[str, int], list[float]] = {}
    builds: dict[int, float] = {}
    try:
        for size in (args.small, args.big):
            index = DocumentIndex(f"bench{size}", embeddings=embeddings, path=tmp / str(size))
            t0 = time.perf_counter()
            fill(index, base, size // args.small)
            t_fill = time.perf_counter() - t0
            print(f"store of {index.count()} chunks filled in {t_fill:.1f} s", flush=True)
            hybrid = HybridRetriever(index=index, k=5)
            t0 = time.perf_counter()
            hybrid.invoke("warm up: builds the BM25 index once")
            builds[size] = time.perf_counter() - t0
            for mode in ("hybrid", "dense"):
                retriever = HybridRetriever(index=index, k=5, mode=mode)  # type: ignore[arg-type]
                timed(retriever, queries[:3], 1)  # warm caches
                results[(mode, size)] = timed(retriever, queries, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(
        f"\nbase chunks embedded for real: {args.small} in {t_embed:.1f} s; {len(queries)} queries x {args.repeat}\n"
    )
    print("| mode | chunks | median ms | p25 | p75 | max | first query (BM25 build) s |")
    print("|---|---|---|---|---|---|---|")
    for (mode, size), ms in results.items():
        q = statistics.quantiles(ms, n=4)
        build = f"{builds[size]:.2f}" if mode == "hybrid" else "-"
        print(
            f"| {mode} | {size} | {statistics.median(ms):.1f} | {q[0]:.1f} | {q[2]:.1f} | {max(ms):.1f} | {build} |"
        )
    print("\nSummary")
    for mode in ("hybrid", "dense"):
        ratio = statistics.median(results[(mode, args.big)]) / statistics.median(results[(mode, args.small)])
        target = "   (target <= 3)" if mode == "hybrid" else ""
        print(f"  {mode:6s} median latency {args.big} ÷ {args.small} chunks   {ratio:.2f}{target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
