from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.errors import ConfigurationError
from toolkit.settings import Settings, get_settings, normalize_ollama_host


def test_defaults_need_no_configuration(embedded_model: str) -> None:
    s = get_settings()
    assert s.backend == "auto"  # resolved by toolkit.backends.auto; tests/unit/test_auto_backend.py
    assert s.model is None
    assert s.resolved_model() == embedded_model
    assert Path(s.resolved_model()).name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert s.n_ctx is None and s.n_gpu_layers is None and s.n_threads is None
    assert s.n_batch >= 512
    assert s.ollama_host == "http://127.0.0.1:11434"


def test_ollama_default_model() -> None:
    assert get_settings(backend="ollama").resolved_model() == "llama3.2"


def test_env_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_BACKEND", "ollama")
    monkeypatch.setenv("LLAMA_TOOLKIT_MODEL", "llama3.2:1b")
    monkeypatch.setenv("LLAMA_TOOLKIT_N_CTX", "16384")
    monkeypatch.setenv("LLAMA_TOOLKIT_TEMPERATURE", "0.1")
    monkeypatch.setenv("LLAMA_TOOLKIT_SEED", "42")
    monkeypatch.setenv("LLAMA_TOOLKIT_DATA_DIR", str(tmp_path / "d"))
    s = get_settings()
    assert (s.backend, s.model, s.n_ctx, s.temperature, s.seed) == ("ollama", "llama3.2:1b", 16384, 0.1, 42)
    assert s.data_dir == tmp_path / "d"


def test_overrides_beat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_TEMPERATURE", "0.1")
    assert get_settings(temperature=1.5).temperature == 1.5


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    # the autouse fixture chdirs into tmp_path
    (tmp_path / ".env").write_text("LLAMA_TOOLKIT_MAX_TOKENS=77\nLLAMA_TOOLKIT_N_GPU_LAYERS=-1\n")
    s = get_settings()
    assert s.max_tokens == 77
    assert s.n_gpu_layers == -1


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("example.com", "http://example.com:11434"),
        ("example.com:8080", "http://example.com:8080"),
        ("https://example.com", "https://example.com:443"),
        ("http://[::1]:11434/", "http://[::1]:11434"),
        ("127.0.0.1:11435", "http://127.0.0.1:11435"),
    ],
)
def test_ollama_host_normalized(env: str, expected: str) -> None:
    assert normalize_ollama_host(env) == expected


def test_ollama_host_env_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.1.2.3:9999")
    assert get_settings().ollama_host == "http://10.1.2.3:9999"
    monkeypatch.setenv("LLAMA_TOOLKIT_OLLAMA_HOST", "127.0.0.1:7777")
    assert get_settings().ollama_host == "http://127.0.0.1:7777"
    assert get_settings(ollama_host="localhost").ollama_host == "http://localhost:11434"


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("n_ctx", 5, r"n_ctx \(LLAMA_TOOLKIT_N_CTX\): Input should be greater than or equal to 256"),
        ("n_ctx", 10**6, r"n_ctx \(LLAMA_TOOLKIT_N_CTX\)"),
        ("temperature", -1, r"temperature \(LLAMA_TOOLKIT_TEMPERATURE\)"),
        ("backend", "vllm", r"backend \(LLAMA_TOOLKIT_BACKEND\).*'auto', 'llamacpp', 'ollama' or 'openai'"),
        ("n_gpu_layers", -2, r"n_gpu_layers \(LLAMA_TOOLKIT_N_GPU_LAYERS\)"),
        ("max_tokens", 0, r"max_tokens \(LLAMA_TOOLKIT_MAX_TOKENS\)"),
        ("ollama_host", "ftp://x", r"ollama_host \(LLAMA_TOOLKIT_OLLAMA_HOST or OLLAMA_HOST\)"),
    ],
)
def test_invalid_values_name_the_setting(name: str, value: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        get_settings(**{name: value})


def test_invalid_env_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_N_THREADS", "many")
    with pytest.raises(ConfigurationError, match=r"n_threads \(LLAMA_TOOLKIT_N_THREADS\).*'many'"):
        get_settings()


def test_unknown_override_suggests_the_right_name() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown setting `temprature`.*did you mean `temperature`"):
        get_settings(temprature=0.2)


def test_unknown_env_variable_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_NCTX", "4096")
    with pytest.raises(ConfigurationError, match=r"unknown setting `nctx` in the environment.*`n_ctx`"):
        get_settings()


def test_every_field_is_documented() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name


def test_resolved_model_for_a_named_backend(embedded_model: str) -> None:
    assert get_settings().resolved_model("ollama") == "llama3.2"
    assert get_settings(backend="ollama").resolved_model("llamacpp") == embedded_model
    assert get_settings(model="qwen2.5").resolved_model("ollama") == "qwen2.5"
