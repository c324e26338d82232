"""The real embedders: LangChain's integration suite for MiniLM and for llama.cpp on the
embedded SmolLM2 GGUF, the GGUF embedder's own behaviour, and a throughput report.

SmolLM2-135M is a chat model; mean-pooled it is a weak embedder, but a real one, and the
only GGUF the toolkit ships.
"""

from __future__ import annotations

import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from corpus import FILLER
from langchain_core.embeddings import Embeddings
from langchain_tests.integration_tests import EmbeddingsIntegrationTests

from toolkit import ChatLlama
from toolkit.backends.embeddings import LlamaCppEmbeddings, MiniLMEmbeddings, get_embeddings
from toolkit.backends.llamacpp.runtime import loaded_models, unload_all
from toolkit.embedded import embedded_model_path
from toolkit.errors import ContextOverflowError

pytestmark = pytest.mark.integration

GGUF_CTX = 512  # small window: the suite needs short texts only, and it keeps the load light


class TestMiniLMEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return MiniLMEmbeddings


class TestLlamaCppEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return LlamaCppEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model_path": str(embedded_model_path()), "n_ctx": GGUF_CTX}


@pytest.fixture(scope="module")
def smol() -> LlamaCppEmbeddings:
    return LlamaCppEmbeddings(model_path=str(embedded_model_path()), n_ctx=GGUF_CTX)


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_gguf_embedder_facts(smol: LlamaCppEmbeddings, embedded_model: str) -> None:
    assert smol.model_id == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert smol.dimension == 576  # SmolLM2-135M's n_embd
    assert smol.max_tokens == GGUF_CTX
    assert smol.count_tokens("") == 0
    assert 2 <= smol.count_tokens("Hello world") <= 3
    again = LlamaCppEmbeddings(model_path=embedded_model, n_ctx=GGUF_CTX)
    assert again.loaded is smol.loaded  # one llama.cpp context per file and settings


def test_gguf_embedder_is_in_the_one_model_registry(embedded_model: str) -> None:
    embedder = LlamaCppEmbeddings(model_path=embedded_model, n_ctx=GGUF_CTX)
    chat = ChatLlama(model_path=embedded_model, n_ctx=GGUF_CTX, max_tokens=4, temperature=0.0)
    assert chat.invoke("Hi").usage_metadata is not None
    assert {id(m) for m in loaded_models()} >= {id(embedder.loaded), id(chat.loaded)}
    assert embedder.loaded is not chat.loaded  # same file and window, but an embedder's context
    assert embedder.loaded.key.embedding and not chat.loaded.key.embedding
    before = embedder.loaded
    vector = embedder.embed_query("llamas")
    unload_all()  # frees chat and embedding models alike
    assert loaded_models() == [] and before.closed
    assert cosine(embedder.embed_query("llamas"), vector) > 0.9999  # loaded again on demand
    assert embedder.loaded is not before


def test_gguf_vectors_are_unit_length_ordered_and_batch_independent(smol: LlamaCppEmbeddings) -> None:
    texts = ["A cat sits on the mat", "", "Quarterly revenue rose 4%", FILLER[0], "ok", FILLER[3]]
    batched = smol.embed_documents(texts)
    assert len(batched) == len(texts)
    assert np.allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-4)
    for text, vector in zip(texts, batched, strict=True):
        assert cosine(vector, smol.embed_query(text)) > 0.999, text


def test_gguf_embedder_is_safe_across_threads(smol: LlamaCppEmbeddings) -> None:
    texts = [f"{FILLER[i % len(FILLER)]} ({i})" for i in range(8)]
    expected = smol.embed_documents(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(smol.embed_query, texts))
    assert all(cosine(a, b) > 0.999 for a, b in zip(got, expected, strict=True))


def test_gguf_semantic_sanity(smol: LlamaCppEmbeddings) -> None:
    cat, kitten, revenue = smol.embed_documents(
        ["A cat sits on the mat", "A kitten is sitting on a rug", "Quarterly revenue rose 4%"]
    )
    assert cosine(cat, kitten) > cosine(cat, revenue)


def test_gguf_text_longer_than_the_window_is_refused(smol: LlamaCppEmbeddings) -> None:
    long = " ".join(FILLER) * 5
    assert smol.count_tokens(long) > GGUF_CTX
    with pytest.raises(
        ContextOverflowError, match=rf"text 1 has \d+ tokens but .* embeds at most {GGUF_CTX}"
    ):
        smol.embed_documents(["short", long])
    assert len(smol.embed_query("still usable afterwards")) == 576


def test_get_embeddings_loads_a_gguf(embedded_model: str) -> None:
    embedder = get_embeddings(embedded_model)
    assert isinstance(embedder, LlamaCppEmbeddings)
    assert len(embedder.embed_query("llamas")) == 576


def _texts_of(tokens: int, count: int, model: MiniLMEmbeddings) -> list[str]:
    rng = random.Random(11)
    texts = []
    for _ in range(count):
        text = ""
        while model.count_tokens(text) < tokens:
            text += rng.choice(FILLER) + " "
        texts.append(text.strip())
    return texts


def test_minilm_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints texts/s (no timing assertion: the machine is shared)."""
    model = MiniLMEmbeddings()
    model.embed_query("warm up")
    short = [f"note {i}: the llama carried {i % 7} bags to the market" for i in range(256)]
    long = _texts_of(200, 64, model)
    lines = []
    for name, texts in (("256 short texts", short), ("64 ~200-token texts", long)):
        start = time.perf_counter()
        vectors = model.embed_documents(texts)
        seconds = time.perf_counter() - start
        assert len(vectors) == len(texts) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        lines.append(f"MiniLM {name}: {len(texts) / seconds:.0f} texts/s ({seconds:.2f} s)")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
