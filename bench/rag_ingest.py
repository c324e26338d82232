"""Ingestion speed: our idempotent ingest against Chroma's own path and against LangChain's.

One run, on a generated corpus of Markdown files (seeded) that chunks into >= 2,000 chunks,
each contender timed twice in the order ours, chroma, same, same, chroma, ours (after a warm-up):

  ours      ``retrievers.ingestion.ingest(folder, index)``: load, chunk, hash, embed, store;
  chroma    ``Chroma.from_documents(chunks, embedding=None)``: Chroma's own path - the
            collection embeds with chromadb's default embedder (``ONNXMiniLM_L6_V2``, every
            text padded to 256 tokens, batches of 32), pointed at our very model.onnx and
            tokenizer.json (all-MiniLM-L6-v2 int8), so both sides compute the same vectors
            (checked: the cosine of each pair on a sample is printed);
  same      ``Chroma.from_documents(chunks, embedding=MiniLMEmbeddings())``: our embedder
            object driven by LangChain, what is left is the store and the driving;
  re-ingest ``ingest(folder, index)`` again with nothing changed (after ours #2).
The baselines get the very chunks ours produced (loading and chunking are not timed for them).

Printed: chunks/s for each, ours ÷ chroma (target >= 1.5), ours ÷ same (no target: both make
the same embedding calls, ~92% of the time, so it shows what ingest's reading, chunking,
hashing and manifest cost around them, work the baselines are spared), re-ingest time ÷
first ingest time (target <= 0.05), and the padding fraction of each side's embedder batches
(padding ÷ all processed tokens, from the tokenizer alone): Chroma's fixed 256, ours in document
order (the embedder before issue 17), ours with length buckets per ``DocumentIndex.add`` write.
Only ratios measured in the same run mean anything. onnxruntime's session options are measured
one by one in ``bench/embed_tuning.py``.

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


def chroma_default_embedder(folder: Path) -> Any:
    """chromadb's default embedder, reading our MiniLM files instead of downloading its own.

    ``ONNXMiniLM_L6_V2`` looks for its files in ``DOWNLOAD_PATH/onnx`` (and downloads them when
    ``model.onnx``, ``tokenizer.json`` or the four small config files are missing, which fails
    offline); the two that it reads are linked to ours, the others it only checks for.
    """
    from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

    from toolkit.backends.embeddings.minilm import minilm_files

    model, tokenizer = minilm_files()
    onnx = folder / ONNXMiniLM_L6_V2.EXTRACTED_FOLDER_NAME
    onnx.mkdir(parents=True)
    for name in ("config.json", "special_tokens_map.json", "tokenizer_config.json", "vocab.txt"):
        (onnx / name).write_text("{}", encoding="utf-8")  # checked for, never read
    (onnx / "model.onnx").symlink_to(model)
    (onnx / "tokenizer.json").symlink_to(tokenizer)
    ONNXMiniLM_L6_V2.DOWNLOAD_PATH = folder  # the class attribute the default embedder reads
    return ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])


def padding_table(embeddings: Any, texts: list[str], window: int) -> list[tuple[str, float]]:
    """Padding fractions of the batches each side runs on ``texts`` (in document order)."""
    from toolkit.backends.embeddings.batching import padded_tokens, plan_batches

    lengths = embeddings.token_lengths(texts)
    size, budget = embeddings.batch_size, embeddings.batch_tokens

    def fraction(sort: bool, step: int) -> float:
        padded = 0
        for start in range(0, len(lengths), step):
            part = lengths[start : start + step]
            padded += padded_tokens(part, plan_batches(part, batch_size=size, batch_tokens=budget, sort=sort))
        return 1 - sum(lengths) / padded if padded else 0.0

    fixed = 256  # ONNXMiniLM_L6_V2 pads and truncates every text to 256 tokens
    chroma = 1 - sum(min(n, fixed) for n in lengths) / (fixed * len(lengths)) if lengths else 0.0
    return [
        ("chroma: every text padded to 256", chroma),
        (f"ours before issue 17: input order per {window}-chunk write", fraction(False, window)),
        (f"ours: length buckets per {window}-chunk write", fraction(True, window)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=200, help="generated Markdown files")
    parser.add_argument("--paragraphs", type=int, default=30, help="paragraphs per file")
    args = parser.parse_args(argv)

    import numpy as np
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
        chroma_embedder = chroma_default_embedder(tmp / "chroma-onnx")

        def ours(name: str) -> tuple[float, DocumentIndex, IngestReport]:
            t0 = time.perf_counter()  # opening the store is timed, as Chroma.from_documents' is
            index = DocumentIndex(name, embeddings=embeddings, path=tmp / name)
            result = ingest([folder], index)
            assert not result.failed, result.failed
            return time.perf_counter() - t0, index, result

        def baseline(name: str, docs: list[Document], embedding: Any) -> float:
            t0 = time.perf_counter()
            store = Chroma.from_documents(
                docs,
                embedding,
                collection_name=name,
                persist_directory=str(tmp / name),
                collection_metadata={"hnsw:space": "cosine"},
            )
            elapsed = time.perf_counter() - t0
            assert store._collection.count() == len(docs)
            return elapsed

        # Warm both onnxruntime sessions with chunk-sized batches: no first run may pay it.
        sample = [report(args.paragraphs, seed=10_000 + i) for i in range(4)]
        sample = [p for text in sample for p in text.split("\n\n")][:96]
        ours_vectors = np.array(embeddings.embed_documents(sample))
        chroma_vectors = np.array(chroma_embedder(sample))
        cosines = (ours_vectors * chroma_vectors).sum(axis=1)

        # Round robin, then reversed: drift of a shared machine weighs on every side alike.
        t_ours1, index, first = ours("ours-1")
        chunks = index.count()
        docs = [Document(page_content=d.page_content, metadata=d.metadata) for d in index.get_documents()]
        t_chroma1 = baseline("chroma-1", docs, None)
        t_same1 = baseline("same-1", docs, embeddings)
        t_same2 = baseline("same-2", docs, embeddings)
        t_chroma2 = baseline("chroma-2", docs, None)
        t_ours2, index, second = ours("ours-2")
        t0 = time.perf_counter()
        again = ingest([folder], index)
        t_again = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    padding = padding_table(embeddings, [d.page_content for d in docs], index.batch_size)
    lengths = embeddings.token_lengths([d.page_content for d in docs])
    rows = [
        ("ours, first ingest #1", t_ours1, first.summary()),
        ("chroma: Chroma.from_documents(embedding=None) #1", t_chroma1, "Chroma's default embedder"),
        ("same: Chroma.from_documents(our embedder) #1", t_same1, "our MiniLMEmbeddings"),
        ("same: Chroma.from_documents(our embedder) #2", t_same2, "our MiniLMEmbeddings"),
        ("chroma: Chroma.from_documents(embedding=None) #2", t_chroma2, "Chroma's default embedder"),
        ("ours, first ingest #2", t_ours2, second.summary()),
    ]
    t_ours = (t_ours1 + t_ours2) / 2
    t_chroma, t_same = (t_chroma1 + t_chroma2) / 2, (t_same1 + t_same2) / 2
    print(f"corpus: {args.files} files, {chunks} chunks, embedder {embeddings.model_id}")
    print(
        f"chunk tokens ([CLS]/[SEP] included): median {int(np.median(lengths))}, max {max(lengths)}; "
        f"ours vs Chroma's embedder on {len(sample)} texts: cosine min {cosines.min():.6f}\n"
    )
    print("| run (in this order) | seconds | chunks/s | report |")
    print("|---|---|---|---|")
    for label, seconds, note in rows:
        print(f"| {label} | {seconds:.1f} | {chunks / seconds:.1f} | {note} |")
    print(f"| ours, re-ingest unchanged | {t_again:.2f} | - | {again.summary()} |")
    print("\nSummary")
    print(f"  chunks                                 {chunks}   (target >= 2000)")
    print(
        f"  chunks/s ours ÷ chroma (own path)       {t_chroma / t_ours:.3f}   (target >= 1.5; "
        f"pairs {t_chroma1 / t_ours1:.3f}, {t_chroma2 / t_ours2:.3f})"
    )
    print(
        f"  chunks/s ours ÷ same (our embedder)     {t_same / t_ours:.3f}   (no target: the same embedding call; "
        f"pairs {t_same1 / t_ours1:.3f}, {t_same2 / t_ours2:.3f})"
    )
    print(f"  re-ingest ÷ first ingest time           {t_again / t_ours2:.4f}   (target <= 0.05)")
    print("\nPadding fraction of the embedder's batches (padding ÷ processed tokens)")
    for label, value in padding:
        print(f"  {label:<56} {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
