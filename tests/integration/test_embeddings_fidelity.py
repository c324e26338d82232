"""The int8 ONNX MiniLM against the full-precision sentence-transformers model it came from."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import report
from minilm_reference import ReferenceMiniLM

from retrievers.embeddings import MiniLMEmbeddings

SHORT = [
    "hi",
    "What is the capital of France?",
    "Mount Kelvara erupted in 1883 and buried the valley town of Orsk in ash.",
    "def square(x):\n    return x ** 2  # the square",
    "Ünïcödé café naïve — “quotes”",
    "日本語のテキスト",
    "SELECT name FROM users WHERE id = 42;",
    "https://example.com/a/b?c=d",
]


def test_int8_embeddings_match_full_precision(minilm_fp32: Path) -> None:
    chunks = [p for seed in (1, 2) for p in report(16, seed=seed).split("\n\n")]
    texts = SHORT + chunks
    ref = ReferenceMiniLM(minilm_fp32).embed(texts)
    ours = np.asarray(MiniLMEmbeddings().embed_documents(texts))
    cos = (ref * ours).sum(axis=1)
    worst = texts[int(cos.argmin())]
    print(
        f"\ncosine int8 vs fp32 over {len(texts)} texts: mean {cos.mean():.5f}, median "
        f"{np.median(cos):.5f}, min {cos.min():.5f} ({worst[:30]!r}); "
        f"document chunks: mean {cos[len(SHORT) :].mean():.5f}, min {cos[len(SHORT) :].min():.5f}"
    )
    assert cos.mean() >= 0.9993
    assert cos[len(SHORT) :].min() >= 0.9993  # the chunks RAG actually embeds
    assert cos.min() >= 0.998  # two-letter greetings lose the most to int8
