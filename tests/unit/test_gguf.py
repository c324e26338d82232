from __future__ import annotations

from pathlib import Path

import pytest
from gguf_writer import LLAMA_32_1B, LLAMA_32_3B, write_gguf

from toolkit.backends.context import resolve_n_ctx
from toolkit.errors import ConfigurationError, InvalidModelFileError, ModelNotFoundError
from toolkit.gguf import read_gguf_info, validate_gguf_path


def test_reads_scalars_and_skips_arrays(tmp_path: Path) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "m.gguf", LLAMA_32_3B))
    assert info.version == 3
    assert info.architecture == "llama"
    assert info.name == "Llama 3.2 3B Instruct"
    assert info.context_length == 131072
    assert info.rope_freq_base == 500000.0
    assert info.chat_template is not None and "bos_token" in info.chat_template
    assert "tokenizer.ggml.tokens" not in info.metadata  # arrays are skipped, the rest still parsed
    # 28 layers * 8 kv heads * (128 + 128) * 2 bytes
    assert info.kv_bytes_per_token() == 28 * 8 * 256 * 2


def test_reads_the_embedded_model(embedded_model: str) -> None:
    info = read_gguf_info(embedded_model)
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.rope_freq_base == 100000.0
    assert info.chat_template and "<|im_start|>" in info.chat_template


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"GGUF model file not found: .*nope\.gguf - check the path"):
        validate_gguf_path(tmp_path / "nope.gguf")


def test_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(InvalidModelFileError, match="is a folder, not a GGUF model file"):
        validate_gguf_path(tmp_path)


def test_not_a_gguf(tmp_path: Path) -> None:
    p = tmp_path / "model.safetensors"
    p.write_bytes(b'{"__metadata__": {}}')
    with pytest.raises(
        InvalidModelFileError,
        match=r"model\.safetensors is not a GGUF model file \(it starts with b'\{\"__', not b'GGUF'\) - convert it",
    ):
        validate_gguf_path(p)


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.gguf"
    p.write_bytes(b"")
    with pytest.raises(InvalidModelFileError, match="not a GGUF model file"):
        validate_gguf_path(p)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = write_gguf(tmp_path / "locked.gguf", LLAMA_32_1B)

    def deny(self: Path, *a: object, **k: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(InvalidModelFileError, match=r"cannot read GGUF model file .*Permission denied"):
        validate_gguf_path(p)


def test_truncated_header(tmp_path: Path) -> None:
    full = write_gguf(tmp_path / "full.gguf", LLAMA_32_3B).read_bytes()
    p = tmp_path / "cut.gguf"
    p.write_bytes(full[:200])
    with pytest.raises(InvalidModelFileError, match="damaged or truncated GGUF"):
        read_gguf_info(p)


def test_version_1_rejected(tmp_path: Path) -> None:
    p = write_gguf(tmp_path / "v1.gguf", {}, version=1)
    with pytest.raises(InvalidModelFileError, match="version 1"):
        read_gguf_info(p)


def test_auto_context_is_the_trained_context_when_it_fits(embedded_model: str) -> None:
    assert resolve_n_ctx(read_gguf_info(embedded_model), None, 2048) == 8192


@pytest.mark.parametrize(
    ("meta", "budget_mb", "expected"),
    [
        # 3B: 114,688 bytes/token -> 2 GiB holds 18,724 tokens -> 18,688 (multiple of 256)
        (LLAMA_32_3B, 2048, 18688),
        # 16 GiB holds 149,796 tokens: the trained 131,072 wins
        (LLAMA_32_3B, 16384, 131072),
        # 1B: 32,768 bytes/token -> 2 GiB holds 65,536
        (LLAMA_32_1B, 2048, 65536),
        (LLAMA_32_1B, 4096, 131072),
        (LLAMA_32_1B, 64, 2048),
    ],
)
def test_auto_context_is_capped_by_the_kv_budget(
    tmp_path: Path, meta: dict[str, object], budget_mb: int, expected: int
) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "m.gguf", meta))
    assert resolve_n_ctx(info, None, budget_mb) == expected


def test_explicit_context_is_honoured_up_to_the_trained_one(tmp_path: Path) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "m.gguf", LLAMA_32_3B))
    assert resolve_n_ctx(info, 131072, 64) == 131072  # the user raised it past the budget
    with pytest.raises(
        ConfigurationError, match=r"n_ctx \(LLAMA_TOOLKIT_N_CTX\) = 200000 is larger than .*131072"
    ):
        resolve_n_ctx(info, 200000, 2048)
