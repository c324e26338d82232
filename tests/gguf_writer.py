"""Write small GGUF files for tests (header and metadata; tensors optional)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any


def _string(s: str) -> bytes:
    data = s.encode()
    return struct.pack("<Q", len(data)) + data


def _value(v: Any) -> tuple[int, bytes]:
    if isinstance(v, bool):
        return 7, struct.pack("<?", v)
    if isinstance(v, int):
        return (4, struct.pack("<I", v)) if 0 <= v < 2**32 else (11, struct.pack("<q", v))
    if isinstance(v, float):
        return 6, struct.pack("<f", v)
    if isinstance(v, str):
        return 8, _string(v)
    if isinstance(v, list):
        if all(isinstance(x, str) for x in v):
            return 9, struct.pack("<IQ", 8, len(v)) + b"".join(_string(x) for x in v)
        if all(isinstance(x, float) for x in v):
            return 9, struct.pack("<IQ", 6, len(v)) + b"".join(struct.pack("<f", x) for x in v)
        return 9, struct.pack("<IQ", 5, len(v)) + b"".join(struct.pack("<i", x) for x in v)
    raise TypeError(type(v))


def write_gguf(path: Path, metadata: dict[str, Any], *, version: int = 3) -> Path:
    out = bytearray(b"GGUF" + struct.pack("<I", version) + struct.pack("<QQ", 0, len(metadata)))
    for key, value in metadata.items():
        vtype, payload = _value(value)
        out += _string(key) + struct.pack("<I", vtype) + payload
    path.write_bytes(bytes(out))
    return path


LLAMA_32_3B = {
    "general.architecture": "llama",
    "general.name": "Llama 3.2 3B Instruct",
    "llama.context_length": 131072,
    "llama.block_count": 28,
    "llama.attention.head_count": 24,
    "llama.attention.head_count_kv": 8,
    "llama.embedding_length": 3072,
    "llama.rope.freq_base": 500000.0,
    "tokenizer.ggml.tokens": ["a", "b", "<|eot_id|>"],
    "tokenizer.ggml.scores": [0.0, 0.1, 0.2],
    "tokenizer.ggml.token_type": [1, 1, 3],
    "tokenizer.chat_template": "{{ bos_token }}{% for m in messages %}{{ m['content'] }}{% endfor %}",
}

LLAMA_32_1B = {
    **LLAMA_32_3B,
    "general.name": "Llama 3.2 1B Instruct",
    "llama.block_count": 16,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
    "llama.embedding_length": 2048,
}
