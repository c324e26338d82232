"""Read a GGUF file's header without loading the model.

Used to reject files that are not GGUF with a clear message, and to size the context
window from the model's own hyper-parameters before llama.cpp allocates anything.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from toolkit.errors import InvalidModelFileError, ModelNotFoundError

__all__ = ["GGUFInfo", "read_gguf_info", "validate_gguf_path"]

_MAGIC = b"GGUF"
# value type -> struct format for scalars
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9
_MAX_STRING = 64 * 1024 * 1024  # a chat template is a few KB; this only guards corrupt files


@dataclass(frozen=True)
class GGUFInfo:
    """What the toolkit needs from a GGUF header (arrays such as the vocabulary are skipped)."""

    path: Path
    version: int
    metadata: dict[str, Any] = field(repr=False)

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "unknown"))

    def _arch(self, key: str) -> Any:
        return self.metadata.get(f"{self.architecture}.{key}")

    @property
    def name(self) -> str:
        return str(self.metadata.get("general.name") or self.path.stem)

    @property
    def context_length(self) -> int | None:
        value = self._arch("context_length")
        return int(value) if value is not None else None

    @property
    def rope_freq_base(self) -> float | None:
        value = self._arch("rope.freq_base")
        return float(value) if value is not None else None

    @property
    def chat_template(self) -> str | None:
        value = self.metadata.get("tokenizer.chat_template")
        return str(value) if value else None

    def kv_bytes_per_token(self) -> int | None:
        """Bytes of f16 KV cache one token of context costs, from the model's shape."""
        layers = self._arch("block_count")
        heads = self._arch("attention.head_count")
        kv_heads = self._arch("attention.head_count_kv") or heads
        embd = self._arch("embedding_length")
        if not (layers and heads and embd):
            return None
        key_len = self._arch("attention.key_length") or int(embd) // int(heads)
        value_len = self._arch("attention.value_length") or key_len
        return int(layers) * int(kv_heads) * (int(key_len) + int(value_len)) * 2


def validate_gguf_path(path: str | os.PathLike[str]) -> Path:
    """Check that ``path`` names a readable GGUF file, or raise a clear error."""
    p = Path(path).expanduser()
    if not p.exists():
        raise ModelNotFoundError(
            f"GGUF model file not found: {p} - check the path, or set LLAMA_TOOLKIT_MODEL "
            "(leave it empty to use the embedded SmolLM2-135M)"
        )
    if p.is_dir():
        raise InvalidModelFileError(f"{p} is a folder, not a GGUF model file - name the .gguf file inside it")
    try:
        with p.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise InvalidModelFileError(f"cannot read GGUF model file {p}: {exc.strerror or exc}") from exc
    if magic != _MAGIC:
        raise InvalidModelFileError(
            f"{p} is not a GGUF model file (it starts with {magic!r}, not b'GGUF') - "
            "convert it with llama.cpp's convert_hf_to_gguf.py or download a .gguf build"
        )
    return p


def read_gguf_info(path: str | os.PathLike[str]) -> GGUFInfo:
    """Read the header metadata of a GGUF file (scalars and strings; arrays skipped)."""
    p = validate_gguf_path(path)
    try:
        with p.open("rb") as f:
            f.read(4)
            (version,) = struct.unpack("<I", _read(f, 4))
            if version == 1:
                raise InvalidModelFileError(
                    f"{p} is GGUF version 1, which llama.cpp no longer reads - re-convert it"
                )
            _tensors, n_kv = struct.unpack("<QQ", _read(f, 16))
            metadata: dict[str, Any] = {}
            for _ in range(n_kv):
                key = _read_string(f)
                (vtype,) = struct.unpack("<I", _read(f, 4))
                value = _read_value(f, vtype)
                if value is not _SKIPPED:
                    metadata[key] = value
    except InvalidModelFileError:
        raise
    except (OSError, struct.error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidModelFileError(f"{p} is a damaged or truncated GGUF file: {exc}") from exc
    return GGUFInfo(path=p, version=version, metadata=metadata)


_SKIPPED = object()


def _read(f: BinaryIO, n: int) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise ValueError("unexpected end of file")
    return data


def _read_string(f: BinaryIO) -> str:
    (n,) = struct.unpack("<Q", _read(f, 8))
    if n > _MAX_STRING:
        raise ValueError(f"string of {n} bytes in header")
    return _read(f, n).decode("utf-8")


def _read_value(f: BinaryIO, vtype: int) -> Any:
    if vtype in _SCALARS:
        fmt = _SCALARS[vtype]
        return struct.unpack(fmt, _read(f, struct.calcsize(fmt)))[0]
    if vtype == _STRING:
        return _read_string(f)
    if vtype == _ARRAY:
        (etype, count) = struct.unpack("<IQ", _read(f, 12))
        if etype in _SCALARS:
            f.seek(struct.calcsize(_SCALARS[etype]) * count, os.SEEK_CUR)
        elif etype == _STRING:
            for _ in range(count):
                (n,) = struct.unpack("<Q", _read(f, 8))
                f.seek(n, os.SEEK_CUR)
        else:
            for _ in range(count):
                _read_value(f, etype)
        return _SKIPPED
    raise ValueError(f"unknown GGUF value type {vtype}")
