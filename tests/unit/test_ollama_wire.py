"""The Ollama backend against a loopback server that speaks Ollama's REST API.

Every test checks what actually goes over the wire: the JSON bodies the server received
(``/api/show``, ``/api/chat``), and how the server's answers and failures come back to
the caller. Nothing here needs a real Ollama or the internet.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from toolkit import cli, profiling
from toolkit.backends.factory import chat_model_from_settings, get_chat_model
from toolkit.backends.ollama import ToolkitChatOllama, build_chat_ollama
from toolkit.errors import (
    BackendUnavailableError,
    ConfigurationError,
    ModelNotPulledError,
    OllamaUnreachableError,
    UnsupportedInputError,
)
from toolkit.settings import get_settings

# --------------------------------------------------------------------------- fake server

# Llama 3.2 3B as `ollama show --verbose` reports it (no attention.key_length: the head
# dimension comes from embedding_length / head_count = 3072 / 24 = 128).
LLAMA32_INFO: dict[str, Any] = {
    "general.architecture": "llama",
    "general.basename": "Llama-3.2",
    "general.finetune": "Instruct",
    "general.size_label": "3B",
    "general.parameter_count": 3212749888,
    "llama.context_length": 131072,
    "llama.block_count": 28,
    "llama.attention.head_count": 24,
    "llama.attention.head_count_kv": 8,
    "llama.embedding_length": 3072,
    "llama.feed_forward_length": 8192,
    "llama.rope.freq_base": 500000,
}
# Llama 3.2 Vision 11B ("mllama"): 40 layers, 32 heads, 8 KV heads, 4096 embedding.
VISION_INFO: dict[str, Any] = {
    "general.architecture": "mllama",
    "mllama.context_length": 131072,
    "mllama.block_count": 40,
    "mllama.attention.head_count": 32,
    "mllama.attention.head_count_kv": 8,
    "mllama.embedding_length": 4096,
}
# Llama 3 8B: only 8192 tokens of trained context.
LLAMA3_INFO: dict[str, Any] = {
    "general.architecture": "llama",
    "llama.context_length": 8192,
    "llama.block_count": 32,
    "llama.attention.head_count": 32,
    "llama.attention.head_count_kv": 8,
    "llama.embedding_length": 4096,
}

DETAILS = {
    "parent_model": "",
    "format": "gguf",
    "family": "llama",
    "families": ["llama"],
    "parameter_size": "3.2B",
    "quantization_level": "Q4_K_M",
}

ANSWER_PARTS = ["Hello", ",", " world", "!"]
PROMPT_EVAL_COUNT = 26
EVAL_COUNT = len(ANSWER_PARTS)

# A 1x1 transparent PNG.
PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="


def _show_payload(info: dict[str, Any] | None, capabilities: list[str]) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "license": "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT",
        "modelfile": "FROM /root/.ollama/models/blobs/sha256-dde5aa3fc5ff",
        "parameters": 'stop "<|start_header_id|>"\nstop "<|end_header_id|>"\nstop "<|eot_id|>"',
        "template": "<|start_header_id|>system<|end_header_id|>...",
        "details": DETAILS,
        "capabilities": capabilities,
        "modified_at": "2025-01-15T10:00:00.000000000Z",
    }
    if info is not None:
        payload["model_info"] = info
    return payload


def _base_name(tag: str) -> str:
    return tag[: -len(":latest")] if tag.endswith(":latest") else tag


class FakeOllama:
    """Ollama's /api/tags, /api/show and streaming /api/chat, recording every JSON body."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.url = f"http://127.0.0.1:{server.port}"
        # tag -> /api/show payload; the models "pulled" on this server.
        self.models: dict[str, dict[str, Any]] = {
            "llama3.2": _show_payload(LLAMA32_INFO, ["completion", "tools"]),
            "llama3.2-vision": _show_payload(VISION_INFO, ["completion", "vision"]),
        }
        self.deleted: set[str] = set()  # answer /api/show but 404 on /api/chat
        self.chat_status: int | None = None  # force an HTTP error on /api/chat
        self.chat_error = ""
        self.mid_stream_error: str | None = None
        self.chat_delay = 0.0
        self.handshake: threading.Event | None = None  # stream waits for it after chunk 1
        self.handshake_ok: bool | None = None
        self.requests: list[tuple[str, Any]] = []
        server.expect_request("/api/tags", method="GET").respond_with_handler(self._tags)
        server.expect_request("/api/show", method="POST").respond_with_handler(self._show)
        server.expect_request("/api/chat", method="POST").respond_with_handler(self._chat)

    # -- recorded traffic
    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [body for p, body in self.requests if p == path]

    def chat_body(self) -> dict[str, Any]:
        bodies = self.bodies("/api/chat")
        assert len(bodies) == 1, f"expected one /api/chat request, got {len(bodies)}"
        return bodies[0]

    def options(self) -> dict[str, Any]:
        return self.chat_body()["options"]

    # -- handlers
    def _tags(self, request: Request) -> Response:
        self.requests.append((request.path, None))
        models = [
            {
                "name": f"{tag}:latest",
                "model": f"{tag}:latest",
                "modified_at": "2025-01-15T10:00:00.000000000Z",
                "size": 2019393189,
                "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
                "details": DETAILS,
            }
            for tag in self.models
        ]
        return Response(json.dumps({"models": models}), mimetype="application/json")

    def _show(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((request.path, body))
        tag = _base_name(body["model"])
        if tag not in self.models:
            return _error(404, f"model '{body['model']}' not found")
        return Response(json.dumps(self.models[tag]), mimetype="application/json")

    def _chat(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((request.path, body))
        tag = _base_name(body["model"])
        if self.chat_status is not None:
            return _error(self.chat_status, self.chat_error)
        if tag not in self.models or tag in self.deleted:
            return _error(404, f'model "{body["model"]}" not found, try pulling it first')
        if self.chat_delay:
            threading.Event().wait(self.chat_delay)
        return Response(self._ndjson(body["model"]), mimetype="application/x-ndjson")

    def _ndjson(self, model: str) -> Iterator[bytes]:
        created = "2025-01-15T10:00:0{}.000000000Z"
        for i, part in enumerate(ANSWER_PARTS):
            line = {
                "model": model,
                "created_at": created.format(i),
                "message": {"role": "assistant", "content": part},
                "done": False,
            }
            yield (json.dumps(line) + "\n").encode()
            if i == 0 and self.handshake is not None:
                # Wait until the client has handed chunk 1 to the caller: proves streaming.
                self.handshake_ok = self.handshake.wait(5.0)
            if i == 1 and self.mid_stream_error is not None:
                yield (json.dumps({"error": self.mid_stream_error}) + "\n").encode()
                return
        final = {
            "model": model,
            "created_at": created.format(len(ANSWER_PARTS)),
            "message": {"role": "assistant", "content": ""},
            "done_reason": "stop",
            "done": True,
            "total_duration": 512_000_000,
            "load_duration": 20_000_000,
            "prompt_eval_count": PROMPT_EVAL_COUNT,
            "prompt_eval_duration": 90_000_000,
            "eval_count": EVAL_COUNT,
            "eval_duration": 400_000_000,
        }
        yield (json.dumps(final) + "\n").encode()


def _error(status: int, message: str) -> Response:
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


@pytest.fixture
def ollama(httpserver: HTTPServer) -> Iterator[FakeOllama]:
    fake = FakeOllama(httpserver)
    yield fake
    httpserver.check_assertions()  # no request went to a path the fake does not serve


@pytest.fixture
def dead_host() -> str:
    """A loopback URL with nothing listening (connection refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- expectations


def expected_auto_ctx(info: dict[str, Any], budget_mb: int) -> int:
    """The documented rule, written out independently of the toolkit's code."""
    arch = info["general.architecture"]
    layers = info[f"{arch}.block_count"]
    heads = info[f"{arch}.attention.head_count"]
    kv_heads = info[f"{arch}.attention.head_count_kv"]
    head_dim = info[f"{arch}.embedding_length"] // heads
    per_token = layers * kv_heads * (2 * head_dim) * 2  # K and V, f16
    trained = info[f"{arch}.context_length"]
    tokens = budget_mb * 1024 * 1024 // per_token
    return trained if tokens >= trained else max(512, tokens // 256 * 256)


def test_expected_auto_ctx_for_llama32_3b() -> None:
    # 28 layers x 8 KV heads x 256 x 2 bytes = 112 KiB per token; 2 GiB holds 18724 tokens.
    assert 28 * 8 * (2 * 128) * 2 == 114_688
    assert expected_auto_ctx(LLAMA32_INFO, 2048) == 18688


def _build(host: str, *, check: bool = True, timeout: float = 10.0, **overrides: Any) -> ToolkitChatOllama:
    """build_chat_ollama on Settings for ``host``; ``overrides`` are settings."""
    values: dict[str, Any] = {
        "backend": "ollama",
        "ollama_host": host,
        "model": "llama3.2",
        "n_ctx": None,
        "kv_cache_budget_mb": 2048,
        "temperature": 0.7,
        "top_p": 0.95,
        "max_tokens": 512,
        "seed": None,
        "n_gpu_layers": None,
        "n_threads": None,
        "request_timeout": timeout,
    }
    values.update(overrides)
    return build_chat_ollama(get_settings(**values), check=check)


# --------------------------------------------------------------------------- request bodies


def test_get_chat_model_with_ollama_host_env_sends_exact_request(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OLLAMA_HOST as users write it: no scheme, Ollama's own client format.
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{ollama.server.port}")
    llm = get_chat_model(
        backend="ollama", temperature=0.2, top_p=0.9, seed=42, max_tokens=64, n_gpu_layers=10
    )
    assert isinstance(llm, ToolkitChatOllama)
    assert llm.base_url == ollama.url
    assert llm.capabilities == ["completion", "tools"]
    assert ollama.bodies("/api/show") == [{"model": "llama3.2"}]
    assert ollama.bodies("/api/chat") == []  # building only checks; it does not generate

    answer = llm.invoke([SystemMessage("Be brief."), HumanMessage("Say hello")])

    assert answer.content == "Hello, world!"
    assert ollama.chat_body() == {
        "model": "llama3.2",
        "stream": True,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Say hello"},
        ],
        "tools": [],
        "options": {
            "num_ctx": expected_auto_ctx(LLAMA32_INFO, 2048),
            "num_gpu": 10,
            "num_predict": 64,
            "temperature": 0.2,
            "seed": 42,
            "top_p": 0.9,
            "repeat_penalty": 1.1,
        },
    }
    assert ollama.options()["num_ctx"] == 18688


def test_ollama_host_override_wins_over_env(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, dead_host: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", dead_host)
    llm = get_chat_model(backend="ollama", ollama_host=ollama.url, model="llama3.2", n_ctx=4096)
    llm.invoke("Hi")
    body = ollama.chat_body()
    assert body["model"] == "llama3.2"
    assert body["stream"] is True
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    # Settings defaults: temperature 0.7, top_p 0.95, repeat_penalty 1.1, max_tokens 512, no
    # seed, no num_gpu.
    assert body["options"] == {
        "num_ctx": 4096,
        "num_predict": 512,
        "temperature": 0.7,
        "top_p": 0.95,
        "repeat_penalty": 1.1,
    }


def test_env_prefix_host_and_settings_reach_the_wire(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_BACKEND", "ollama")
    monkeypatch.setenv("LLAMA_TOOLKIT_OLLAMA_HOST", ollama.url)
    monkeypatch.setenv("LLAMA_TOOLKIT_N_CTX", "2048")
    monkeypatch.setenv("LLAMA_TOOLKIT_TEMPERATURE", "0")
    get_chat_model().invoke("Hi")
    options = ollama.options()
    assert options["num_ctx"] == 2048
    assert options["temperature"] == 0.0


@pytest.mark.parametrize(
    ("n_gpu_layers", "expected"),
    [(None, None), (-1, None), (0, 0), (12, 12)],
    ids=["unset", "all", "cpu", "twelve"],
)
def test_num_gpu_only_sent_for_a_layer_count(
    ollama: FakeOllama, n_gpu_layers: int | None, expected: int | None
) -> None:
    _build(ollama.url, n_gpu_layers=n_gpu_layers, n_threads=6).invoke("Hi")
    options = ollama.options()
    assert options.get("num_gpu") == expected
    assert ("num_gpu" in options) is (expected is not None)
    assert options["num_thread"] == 6


@pytest.mark.parametrize(
    ("check", "n_ctx", "budget_mb", "info", "expected"),
    [
        (True, None, 2048, LLAMA32_INFO, expected_auto_ctx(LLAMA32_INFO, 2048)),
        (True, None, 512, LLAMA32_INFO, 4608),  # 4681 tokens fit, rounded down to 256s
        (True, None, 64, LLAMA32_INFO, 512),  # never below 512
        (True, None, 16384, LLAMA32_INFO, 131072),  # everything fits: the trained context
        (True, None, 2048, VISION_INFO, expected_auto_ctx(VISION_INFO, 2048)),
        (True, 4096, 2048, LLAMA32_INFO, 4096),
        (True, 131072, 64, LLAMA32_INFO, 131072),  # an explicit size ignores the budget
        (True, None, 2048, None, 8192),  # no model_info: the toolkit's fallback
        (False, None, 2048, LLAMA32_INFO, 8192),  # not checked: fallback, still explicit
        (False, 3000, 2048, LLAMA32_INFO, 3000),
    ],
    ids=[
        "auto-2GiB",
        "auto-512MiB",
        "auto-64MiB",
        "auto-16GiB",
        "auto-mllama",
        "explicit",
        "explicit-over-budget",
        "no-model-info",
        "unchecked-auto",
        "unchecked-explicit",
    ],
)
def test_num_ctx_is_always_sent(
    ollama: FakeOllama,
    check: bool,
    n_ctx: int | None,
    budget_mb: int,
    info: dict[str, Any] | None,
    expected: int,
) -> None:
    ollama.models["llama3.2"] = _show_payload(info, ["completion"])
    llm = _build(ollama.url, n_ctx=n_ctx, kv_cache_budget_mb=budget_mb, check=check)
    assert llm.num_ctx == expected
    llm.invoke("Hi")
    assert ollama.options()["num_ctx"] == expected
    assert len(ollama.bodies("/api/show")) == (1 if check else 0)


def test_auto_ctx_for_vision_shapes_is_13056() -> None:
    # 40 x 8 x 256 x 2 = 160 KiB per token; 2 GiB / 160 KiB = 13107 -> 13056.
    assert expected_auto_ctx(VISION_INFO, 2048) == 13056


def test_n_ctx_above_trained_context_names_the_model(ollama: FakeOllama) -> None:
    ollama.models["llama3"] = _show_payload(LLAMA3_INFO, ["completion"])
    with pytest.raises(ConfigurationError, match=r"larger than llama3's trained context of 8192"):
        _build(ollama.url, model="llama3", n_ctx=16384)
    assert ollama.bodies("/api/chat") == []


def test_per_call_options_reach_the_wire(ollama: FakeOllama) -> None:
    llm = _build(ollama.url, n_ctx=4096)
    llm.invoke("Hi", stop=["\n\n"])
    assert ollama.options()["stop"] == ["\n\n"]
    assert ollama.options()["num_ctx"] == 4096


# --------------------------------------------------------------------------- answers


def test_invoke_returns_text_and_usage(ollama: FakeOllama) -> None:
    answer = _build(ollama.url).invoke("Say hello")
    assert isinstance(answer, AIMessage)
    assert answer.content == "Hello, world!"
    assert answer.usage_metadata == {
        "input_tokens": PROMPT_EVAL_COUNT,
        "output_tokens": EVAL_COUNT,
        "total_tokens": PROMPT_EVAL_COUNT + EVAL_COUNT,
    }
    meta = answer.response_metadata
    assert meta["model_name"] == "llama3.2"
    assert meta["done_reason"] == "stop"
    assert meta["eval_duration"] == 400_000_000
    assert ollama.chat_body()["stream"] is True


def test_stream_yields_chunks_in_order_as_they_arrive(ollama: FakeOllama) -> None:
    ollama.handshake = threading.Event()
    llm = _build(ollama.url)
    chunks: list[AIMessageChunk] = []
    for chunk in llm.stream("Say hello"):
        chunks.append(chunk)
        if len(chunks) == 1:
            assert chunk.content == ANSWER_PARTS[0]
            ollama.handshake.set()  # the server sends the rest only now
    assert ollama.handshake_ok is True, "the first chunk only arrived after the whole answer"

    texts = [c.content for c in chunks if c.content]
    assert texts == ANSWER_PARTS
    assert "".join(texts) == "Hello, world!"
    # Only Ollama's final `done` line carries the counts, after every piece of text.
    (counted,) = [i for i, c in enumerate(chunks) if c.usage_metadata]
    assert counted > max(i for i, c in enumerate(chunks) if c.content)
    assert chunks[counted].response_metadata["done"] is True
    assert chunks[counted].response_metadata["done_reason"] == "stop"
    assert chunks[counted].usage_metadata == {
        "input_tokens": PROMPT_EVAL_COUNT,
        "output_tokens": EVAL_COUNT,
        "total_tokens": PROMPT_EVAL_COUNT + EVAL_COUNT,
    }
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    assert full.content == "Hello, world!"
    assert full.usage_metadata is not None
    assert full.usage_metadata["total_tokens"] == PROMPT_EVAL_COUNT + EVAL_COUNT
    body = ollama.chat_body()
    assert body["stream"] is True
    assert body["options"]["num_ctx"] == expected_auto_ctx(LLAMA32_INFO, 2048)


async def test_ainvoke_returns_text_and_usage(ollama: FakeOllama) -> None:
    llm = _build(ollama.url, n_ctx=4096, seed=7)
    answer = await llm.ainvoke("Say hello")
    assert answer.content == "Hello, world!"
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == PROMPT_EVAL_COUNT
    assert answer.usage_metadata["output_tokens"] == EVAL_COUNT
    body = ollama.chat_body()
    assert body["model"] == "llama3.2"
    assert body["stream"] is True
    assert body["options"]["num_ctx"] == 4096
    assert body["options"]["seed"] == 7


async def test_astream_yields_chunks_in_order(ollama: FakeOllama) -> None:
    llm = _build(ollama.url)
    chunks = [chunk async for chunk in llm.astream("Say hello")]
    assert [c.content for c in chunks if c.content] == ANSWER_PARTS
    (counted,) = [c for c in chunks if c.usage_metadata]
    assert counted.usage_metadata is not None
    assert counted.usage_metadata["input_tokens"] == PROMPT_EVAL_COUNT
    assert counted.usage_metadata["output_tokens"] == EVAL_COUNT
    body = ollama.chat_body()
    assert body["stream"] is True
    assert body["options"]["num_ctx"] == expected_auto_ctx(LLAMA32_INFO, 2048)


def test_per_call_model_override_is_sent_and_traced(ollama: FakeOllama) -> None:
    llm = _build(ollama.url, n_ctx=4096)
    llm.invoke("Hi", model="llama3.2-vision")
    assert ollama.chat_body()["model"] == "llama3.2-vision"
    assert llm._get_ls_params(model="llama3.2-vision")["ls_model_name"] == "llama3.2-vision"
    assert llm._get_ls_params()["ls_model_name"] == "llama3.2"


# --------------------------------------------------------------------------- images

IMAGE_BLOCKS = {
    "image_url-data-url": {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
    "v1-image-base64": {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
}


def _image_message(block_id: str) -> HumanMessage:
    return HumanMessage(content=[{"type": "text", "text": "What is this?"}, IMAGE_BLOCKS[block_id]])


@pytest.mark.parametrize("block_id", list(IMAGE_BLOCKS))
def test_image_reaches_a_vision_model(ollama: FakeOllama, block_id: str) -> None:
    llm = _build(ollama.url, model="llama3.2-vision", n_ctx=4096)
    assert llm.capabilities == ["completion", "vision"]
    llm.invoke([_image_message(block_id)])
    (message,) = ollama.chat_body()["messages"]
    assert message["role"] == "user"
    assert message["images"] == [PNG_B64]  # bare base64: the data-URL prefix is stripped
    # langchain-ollama joins list content with a leading newline per text block.
    assert message["content"] == "\nWhat is this?"
    assert ollama.chat_body()["model"] == "llama3.2-vision"


@pytest.mark.parametrize("block_id", list(IMAGE_BLOCKS))
@pytest.mark.parametrize("mode", ["invoke", "stream", "ainvoke", "astream"])
async def test_image_to_text_model_is_refused_before_any_request(
    ollama: FakeOllama, block_id: str, mode: str
) -> None:
    llm = _build(ollama.url)
    assert llm.capabilities == ["completion", "tools"]
    with pytest.raises(UnsupportedInputError, match=r"`llama3.2` cannot read images.*llama3.2-vision"):
        await _call(llm, mode, [_image_message(block_id)])
    assert ollama.bodies("/api/chat") == []


def test_text_only_list_content_to_text_model_is_fine(ollama: FakeOllama) -> None:
    _build(ollama.url).invoke([HumanMessage(content=[{"type": "text", "text": "Hi"}])])
    (message,) = ollama.chat_body()["messages"]
    assert message == {"role": "user", "content": "\nHi"}  # empty `images` is dropped


# --------------------------------------------------------------------------- failures


async def _call(llm: Any, mode: str, prompt: Any) -> str:
    if mode == "invoke":
        return llm.invoke(prompt).content
    if mode == "stream":
        return "".join(c.content for c in llm.stream(prompt))
    if mode == "ainvoke":
        return (await llm.ainvoke(prompt)).content
    return "".join([c.content async for c in llm.astream(prompt)])


MODES = ["invoke", "stream", "ainvoke", "astream"]


def test_model_not_pulled_at_get_chat_model(ollama: FakeOllama) -> None:
    del ollama.models["llama3.2"]
    with pytest.raises(ModelNotPulledError, match=r"ollama pull llama3\.2"):
        get_chat_model(backend="ollama", ollama_host=ollama.url)
    assert ollama.bodies("/api/show") == [{"model": "llama3.2"}]
    assert ollama.bodies("/api/chat") == []


def test_not_pulled_error_chains_ollamas_error(ollama: FakeOllama) -> None:
    import ollama as ollama_lib

    with pytest.raises(ModelNotPulledError, match=r"ollama pull qwen2\.5:7b") as info:
        get_chat_model(backend="ollama", ollama_host=ollama.url, model="qwen2.5:7b")
    cause = info.value.__cause__
    assert isinstance(cause, ollama_lib.ResponseError)
    assert cause.status_code == 404
    assert cause.error == "model 'qwen2.5:7b' not found"


def test_server_down_at_get_chat_model(dead_host: str) -> None:
    with pytest.raises(OllamaUnreachableError, match="not reachable") as info:
        get_chat_model(backend="ollama", ollama_host=dead_host)
    message = str(info.value)
    assert "ollama serve" in message
    assert dead_host in message
    assert isinstance(info.value, ConnectionError)  # BackendUnavailableError is a ConnectionError


def test_server_down_via_ollama_host_env(dead_host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", dead_host)
    with pytest.raises(OllamaUnreachableError, match=r"not reachable.*ollama serve"):
        get_chat_model(backend="ollama")


@pytest.mark.parametrize("mode", MODES)
async def test_server_down_at_call_time(dead_host: str, mode: str) -> None:
    llm = _build(dead_host, check=False)  # built without contacting the server
    with pytest.raises(OllamaUnreachableError, match=r"not reachable.*ollama serve"):
        await _call(llm, mode, "Hi")


def test_server_down_after_an_unchecked_factory_build(dead_host: str) -> None:
    settings = get_settings(backend="ollama", ollama_host=dead_host, n_ctx=4096)
    llm = chat_model_from_settings(settings, check=False)
    assert isinstance(llm, ToolkitChatOllama)
    assert llm.num_ctx == 4096
    with pytest.raises(OllamaUnreachableError, match=r"not reachable.*ollama serve"):
        llm.invoke("Hi")


@pytest.mark.parametrize("mode", MODES)
async def test_model_deleted_after_the_check(ollama: FakeOllama, mode: str) -> None:
    llm = _build(ollama.url)
    ollama.deleted.add("llama3.2")  # `ollama rm llama3.2` between the check and the call
    with pytest.raises(ModelNotPulledError, match=r"ollama pull llama3\.2"):
        await _call(llm, mode, "Hi")
    assert ollama.chat_body()["model"] == "llama3.2"


@pytest.mark.parametrize("mode", MODES)
async def test_server_error_at_call_time(ollama: FakeOllama, mode: str) -> None:
    ollama.chat_status = 500
    ollama.chat_error = "llama runner process has terminated: signal: killed"
    llm = _build(ollama.url)
    with pytest.raises(BackendUnavailableError, match=r"answered 500: llama runner process has terminated"):
        await _call(llm, mode, "Hi")


def test_error_line_in_the_middle_of_a_stream(ollama: FakeOllama) -> None:
    ollama.mid_stream_error = "an error was encountered while running the model: unexpected EOF"
    llm = _build(ollama.url)
    seen: list[str] = []
    with pytest.raises(BackendUnavailableError, match="unexpected EOF") as info:
        for chunk in llm.stream("Hi"):
            seen.append(str(chunk.content))
    assert not isinstance(info.value, ModelNotPulledError)
    assert seen == ANSWER_PARTS[:2]  # what arrived before the error was delivered


def test_slow_server_times_out_with_a_clear_error(ollama: FakeOllama) -> None:
    ollama.chat_delay = 0.6
    llm = _build(ollama.url, timeout=0.2)
    with pytest.raises(BackendUnavailableError, match=r"did not answer in time.*REQUEST_TIMEOUT"):
        llm.invoke("Hi")


# --------------------------------------------------------------------------- CLI


def _lines(out: str) -> dict[str, str]:
    facts = {}
    for line in out.splitlines():
        key, _, value = line.partition("  ")
        facts[key.strip()] = value.strip()
    return facts


def test_doctor_ready(ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["doctor", "--backend", "ollama"]) == 0
    facts = _lines(capsys.readouterr().out)
    assert facts["backend"] == "ollama"
    assert facts["Ollama host"] == ollama.url
    assert facts["Ollama"] == "reachable"
    assert facts["Ollama models"] == "llama3.2:latest, llama3.2-vision:latest"
    assert facts["model"] == "llama3.2"
    assert facts["status"] == "ready"
    assert ollama.requests == [("/api/tags", None)]


@pytest.mark.parametrize("model", ["qwen2.5", "llama3"])  # "llama3" is not "llama3.2"
def test_doctor_model_not_pulled(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any, model: str
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["doctor", "--backend", "ollama", "--model", model]) == 1
    facts = _lines(capsys.readouterr().out)
    assert facts["Ollama"] == "reachable"
    assert facts["model"] == f"{model} - not pulled: run `ollama pull {model}`"
    assert facts["status"].startswith("NOT READY")


def test_doctor_server_down(dead_host: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("OLLAMA_HOST", dead_host)
    assert cli.main(["doctor", "--backend", "ollama"]) == 1
    facts = _lines(capsys.readouterr().out)
    assert "not reachable" in facts["Ollama"]
    assert "ollama serve" in facts["Ollama"]
    assert facts["status"].startswith("NOT READY")


def test_models_lists_pulled_models(ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    ollama_lines = [line.split(None, 1)[1] for line in out.splitlines() if line.startswith("ollama ")]
    # backend auto picks the pulled llama3.2 and the listing marks it
    assert ollama_lines == ["llama3.2:latest  <- auto", "llama3.2-vision:latest"]


def test_models_with_nothing_pulled(ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    ollama.models.clear()
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    assert f"none pulled at {ollama.url} - run `ollama pull llama3.2`" in out


def test_models_server_down(dead_host: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("OLLAMA_HOST", dead_host)
    # Listing is informational: the embedded model is still usable, so the exit code is 0.
    assert cli.main(["models"]) == 0
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if line.startswith("ollama ")]
    assert "not reachable" in line
    assert "ollama serve" in line


def test_ask_streams_from_ollama(ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["ask", "--backend", "ollama", "--n-ctx", "4096", "--stats", "Say", "hello"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Hello, world!\n"
    assert f"[{PROMPT_EVAL_COUNT} prompt tokens, {EVAL_COUNT} generated" in captured.err
    assert ollama.chat_body()["messages"] == [{"role": "user", "content": "Say hello"}]
    assert ollama.options()["num_ctx"] == 4096


def test_ask_model_not_pulled_is_one_line_error(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["ask", "--backend", "ollama", "--model", "mistral", "hi"]) == 1
    err = capsys.readouterr().err
    assert err == "error: model `mistral` is not pulled - run `ollama pull mistral`\n"


def test_ask_profile_shows_the_servers_own_timings(
    ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["ask", "--backend", "ollama", "--n-ctx", "4096", "--profile", "Say", "hello"]) == 0
    err = capsys.readouterr().err.splitlines()
    rows = {line.split()[0]: line.split() for line in err[err.index(profiling.TITLE) + 2 :]}
    # The final line's nanoseconds: load 20 ms, prompt 90 ms for 26 tokens, decode 400 ms for 4.
    assert rows["load"][1] == "0.020"
    assert rows["prompt"][1] == "0.090" and rows["prompt"][4:6] == [str(PROMPT_EVAL_COUNT), "tokens"]
    assert rows["prompt"][-2:] == [f"{PROMPT_EVAL_COUNT / 0.09:,.1f}", "tokens/s"]
    assert rows["decode"][1] == "0.400" and rows["decode"][4:6] == [str(EVAL_COUNT), "tokens"]
    assert rows["decode"][-2:] == ["10.0", "tokens/s"]
