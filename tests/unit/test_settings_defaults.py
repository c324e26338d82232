"""One default per setting: ``Settings`` declares it, both backends take it from there.

``ChatLlama`` has fields named like the settings; the Ollama builder reads a ``Settings``.
Each test below fails if a backend grows its own literal default or drops a setting on
the way to the model (try it: change ``ChatLlama.top_p``'s default, or send a constant
``temperature`` from ``build_chat_ollama``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from toolkit.backends.llamacpp import ChatLlama
from toolkit.backends.ollama import ToolkitChatOllama, build_chat_ollama
from toolkit.backends.ollama.client import FALLBACK_CTX
from toolkit.settings import DEFAULT_OLLAMA_MODEL, Settings, get_settings
from unit.test_ollama_wire import LLAMA32_INFO, FakeOllama, expected_auto_ctx

SETTINGS = Settings.model_fields


def _default(name: str) -> Any:
    return SETTINGS[name].get_default(call_default_factory=True)


# Every setting, by what it configures. A new setting fails test_every_setting_is_placed
# until it is put here, so no setting is silently ignored by a backend.
LLAMACPP_ONLY = {"n_batch", "chat_template", "model_wait_timeout", "model_idle_timeout"}
OLLAMA_ONLY = {"ollama_host", "request_timeout", "request_deadline"}
OPENAI_ONLY = {"base_url", "openai_api_key"}
BOTH = {
    "model",
    "n_ctx",
    "kv_cache_budget_mb",
    "n_gpu_layers",
    "n_threads",
    "temperature",
    "top_p",
    "repeat_penalty",
    "max_tokens",
    "seed",
}
NOT_MODEL_OPTIONS = {
    "backend",
    "data_dir",
    "embeddings",
    "chroma_path",
    "chroma_host",
    "collection",
    "store_lock_timeout",
    "workspace_deny",
    "ui_allow_server_paths",
    "ui_password",
    "ollama_probe_timeout",  # backend choice (toolkit.backends.auto), not a model option
    "api_key",  # `llama-toolkit serve`
    "serve_queue_size",
    "serve_max_request_bytes",
    "serve_queue_timeout",
    "serve_request_timeout",
}

# A valid value for each model setting that differs from its default.
OTHER_VALUES: dict[str, Any] = {
    "n_ctx": 4096,
    "kv_cache_budget_mb": 512,
    "n_gpu_layers": 5,
    "n_threads": 3,
    "n_batch": 256,
    "temperature": 0.2,
    "top_p": 0.5,
    "repeat_penalty": 1.3,
    "max_tokens": 77,
    "seed": 7,
    "chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}",
    "request_timeout": 12.5,
    "request_deadline": 40.0,
    "model_wait_timeout": 7.5,
    "model_idle_timeout": 9.5,
}


def test_every_setting_is_placed() -> None:
    groups = (LLAMACPP_ONLY, OLLAMA_ONLY, OPENAI_ONLY, BOTH, NOT_MODEL_OPTIONS)
    assert set().union(*groups) == set(SETTINGS)
    assert sum(len(g) for g in groups) == len(SETTINGS)  # no setting in two groups


@pytest.mark.parametrize("name", sorted(OTHER_VALUES))
def test_other_values_are_valid_and_not_the_default(name: str) -> None:
    value = OTHER_VALUES[name]
    assert value != _default(name)
    assert getattr(get_settings(**{name: value}), name) == value


# --------------------------------------------------------------------------- llama.cpp

LLAMA_SHARED = sorted((LLAMACPP_ONLY | BOTH) - {"model"})  # `model` is ChatLlama.model_path


def test_chatllama_fields_are_named_like_the_settings() -> None:
    assert set(LLAMA_SHARED) <= set(ChatLlama.model_fields)
    assert set(ChatLlama.model_fields) & set(SETTINGS) == set(LLAMA_SHARED)


@pytest.mark.parametrize("name", LLAMA_SHARED)
def test_chatllama_default_is_the_settings_default(name: str) -> None:
    assert ChatLlama.model_fields[name].default == _default(name)


def test_chatllama_from_default_settings_has_the_defaults(embedded_model: str) -> None:
    llm = ChatLlama.from_settings(get_settings())
    assert llm.model_path == embedded_model
    for name in LLAMA_SHARED:
        assert getattr(llm, name) == _default(name), name


@pytest.mark.parametrize("name", LLAMA_SHARED)
def test_chatllama_from_settings_passes_the_setting(name: str) -> None:
    llm = ChatLlama.from_settings(get_settings(**{name: OTHER_VALUES[name]}))
    assert getattr(llm, name) == OTHER_VALUES[name]


def test_chatllama_from_settings_passes_the_model(tmp_path: Path, embedded_model: str) -> None:
    other = tmp_path / "other.gguf"
    other.symlink_to(embedded_model)
    assert ChatLlama.from_settings(get_settings(model=str(other))).model_path == str(other)


def test_chatllama_from_settings_overrides_win(embedded_model: str) -> None:
    llm = ChatLlama.from_settings(get_settings(temperature=0.2), temperature=0.9, top_k=5)
    assert (llm.temperature, llm.top_k) == (0.9, 5)


# --------------------------------------------------------------------------- Ollama


@pytest.fixture
def ollama(httpserver: HTTPServer) -> Iterator[FakeOllama]:
    yield FakeOllama(httpserver)
    httpserver.check_assertions()


def _options(llm: ToolkitChatOllama) -> dict[str, Any]:
    return {
        "ollama_host": llm.base_url,
        "model": llm.model,
        "n_ctx": llm.num_ctx,
        "temperature": llm.temperature,
        "top_p": llm.top_p,
        "repeat_penalty": llm.repeat_penalty,
        "max_tokens": llm.num_predict,
        "seed": llm.seed,
        "n_gpu_layers": llm.num_gpu,
        "n_threads": llm.num_thread,
        "request_timeout": llm.client_kwargs.get("timeout"),
        "request_deadline": llm.request_deadline,
    }


OLLAMA_PASSED = sorted((OLLAMA_ONLY | BOTH) - {"model", "ollama_host"})  # these two: tests below


def _expected(name: str) -> tuple[str, Any]:
    """The model option a non-default ``name`` shows in, and its value there."""
    if name == "kv_cache_budget_mb":  # it sizes the automatic context
        return "n_ctx", expected_auto_ctx(LLAMA32_INFO, OTHER_VALUES[name])
    return name, OTHER_VALUES[name]


def test_ollama_from_default_settings_has_the_defaults(ollama: FakeOllama) -> None:
    llm = build_chat_ollama(get_settings(backend="ollama", ollama_host=ollama.url))
    options = _options(llm)
    assert set(options) == (OLLAMA_ONLY | BOTH) - {"kv_cache_budget_mb"}
    assert options.pop("ollama_host") == ollama.url
    assert options.pop("model") == DEFAULT_OLLAMA_MODEL
    assert options.pop("n_ctx") == expected_auto_ctx(LLAMA32_INFO, _default("kv_cache_budget_mb"))
    for name, value in options.items():
        assert value == _default(name), name


def test_unchecked_ollama_sends_the_fallback_context(ollama: FakeOllama) -> None:
    llm = build_chat_ollama(get_settings(backend="ollama", ollama_host=ollama.url), check=False)
    assert llm.num_ctx == FALLBACK_CTX
    assert ollama.requests == []


@pytest.mark.parametrize("name", OLLAMA_PASSED)
def test_ollama_builder_passes_the_setting(ollama: FakeOllama, name: str) -> None:
    settings = get_settings(backend="ollama", ollama_host=ollama.url, **{name: OTHER_VALUES[name]})
    option, expected = _expected(name)
    assert _options(build_chat_ollama(settings))[option] == expected


def test_ollama_builder_passes_the_model(ollama: FakeOllama) -> None:
    llm = build_chat_ollama(get_settings(backend="ollama", ollama_host=ollama.url, model="llama3.2-vision"))
    assert llm.model == "llama3.2-vision"
    assert ollama.bodies("/api/show") == [{"model": "llama3.2-vision"}]


def test_ollama_builder_overrides_win(ollama: FakeOllama) -> None:
    llm = ToolkitChatOllama.from_settings(
        get_settings(backend="ollama", ollama_host=ollama.url, temperature=0.2),
        temperature=0.9,
        keep_alive="1m",
    )
    assert (llm.temperature, llm.keep_alive) == (0.9, "1m")
