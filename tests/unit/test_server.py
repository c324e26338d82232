"""The OpenAI-compatible server on scripted fake models (no real model, no network)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fakes import ScriptedChatModel, ScriptedToolModel, calling
from fastapi.testclient import TestClient
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field

from toolkit.backends.cancel import current_token
from toolkit.errors import GenerationLimitError
from toolkit.server.app import create_app
from toolkit.server.run import check_host
from toolkit.settings import get_settings

USER = [{"role": "user", "content": "hello there"}]


class FakeEmbeddings(Embeddings):
    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(len(t)), 0.5, -1.0] for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class SlowModel(BaseChatModel):
    """Streams ``n`` tokens, each after ``release`` is set once per token, stopping if cancelled."""

    n: int = 1000
    delay: float = 0.0
    raise_on_cancel: bool = False
    generated: int = 0
    cancelled_by: str = ""
    gate: Any = Field(default_factory=threading.Event)
    done: Any = Field(default_factory=threading.Event)

    @property
    def _llm_type(self) -> str:
        return "slow"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        if self.delay:  # a long answer, token by token
            text = "".join(str(c.message.content) for c in self._stream(messages))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
        self.gate.wait(10)
        return ChatResult(generations=[ChatGeneration(message=AIMessage("slow"))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        try:
            token = current_token()
            for i in range(self.n):
                if token is not None and token.cancelled:
                    self.cancelled_by = token.reason
                    if self.raise_on_cancel:
                        raise GenerationLimitError(f"generation cancelled: {token.reason}")
                    return
                if self.delay:
                    time.sleep(self.delay)
                self.generated += 1
                yield ChatGenerationChunk(message=AIMessageChunk(content=f" t{i}"))
        finally:
            self.done.set()


def client(fake: BaseChatModel | None = None, **settings: Any) -> TestClient:
    s = get_settings(**settings)
    app = create_app(
        s, model=fake or ScriptedChatModel(respond=lambda t: f"echo {t}"), embeddings=FakeEmbeddings()
    )
    return TestClient(app)


def sse_events(text: str) -> list[Any]:
    out = []
    for block in text.split("\n\n"):
        if block.startswith("data: "):
            data = block[len("data: ") :]
            out.append(data if data == "[DONE]" else json.loads(data))
    return out


def test_chat_completion_shape_and_options() -> None:
    model = ScriptedChatModel(respond=lambda t: f"echo {t}")
    with client(model) as c:
        r = c.post(
            "/v1/chat/completions",
            json={
                "model": "m",
                "messages": [
                    {"role": "system", "content": "be brief"},
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "part one "}, {"type": "text", "text": "two"}],
                    },
                ],
                "temperature": 0,
                "max_tokens": 99999,
                "stop": "x",
            },
        )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "echo part one two"}
    assert body["choices"][0]["finish_reason"] == "stop"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert model.prompts[-1][0].content == "be brief"


def test_max_tokens_is_capped_to_the_setting() -> None:
    from toolkit.server.wire import generation_options

    assert generation_options({"max_tokens": 10**6}, cap=64)["max_tokens"] == 64
    assert generation_options({"max_completion_tokens": 8}, cap=64)["max_tokens"] == 8


def test_stream_sse_chunks_usage_and_done() -> None:
    with client() as c:
        r = c.post(
            "/v1/chat/completions",
            json={"messages": USER, "stream": True, "stream_options": {"include_usage": True}},
        )
    assert r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert all(ch["object"] == "chat.completion.chunk" for ch in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks if ch["choices"])
    assert text == "echo hello there"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and "usage" in chunks[-1]


def test_tool_call_round_trip() -> None:
    model = ScriptedToolModel(script=[calling(("weather", {"city": "Paris"})), "It is sunny in Paris."])
    tools = [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    with client(model) as c:
        r = c.post("/v1/chat/completions", json={"messages": USER, "tools": tools, "tool_choice": "required"})
        choice = r.json()["choices"][0]
        assert choice["finish_reason"] == "tool_calls"
        call = choice["message"]["tool_calls"][0]
        assert call["type"] == "function" and call["function"]["name"] == "weather"
        assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
        follow = [*USER, choice["message"], {"role": "tool", "tool_call_id": call["id"], "content": "sunny"}]
        r2 = c.post("/v1/chat/completions", json={"messages": follow, "tools": tools})
    assert r2.json()["choices"][0]["message"]["content"] == "It is sunny in Paris."
    tool_msg = model.prompts[-1][-1]
    assert isinstance(tool_msg, ToolMessage) and tool_msg.tool_call_id == call["id"]
    assert model.prompts[-1][-2].tool_calls[0]["args"] == {"city": "Paris"}
    assert model.bindings[0][1] == "required" and "weather" in model.bindings[0][0][0]


def test_streamed_tool_calls() -> None:
    model = ScriptedToolModel(script=[calling(("weather", {"city": "Oslo"}))])
    tools = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]
    with client(model) as c:
        r = c.post(
            "/v1/chat/completions",
            json={
                "messages": USER,
                "tools": tools,
                "stream": True,
                "tool_choice": {"type": "function", "function": {"name": "weather"}},
            },
        )
    chunks = sse_events(r.text)[:-1]
    calls = [
        ch["choices"][0]["delta"]["tool_calls"]
        for ch in chunks
        if ch["choices"][0]["delta"].get("tool_calls")
    ]
    assert calls[0][0]["index"] == 0 and json.loads(calls[0][0]["function"]["arguments"]) == {"city": "Oslo"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert model.bindings[0][1] == "weather"


def test_embeddings_float_and_base64() -> None:
    with client() as c:
        f = c.post("/v1/embeddings", json={"input": ["ab", "abcd"], "model": "e"}).json()
        b = c.post("/v1/embeddings", json={"input": "abc", "encoding_format": "base64"}).json()
        bad = c.post("/v1/embeddings", json={"input": [1, 2]})
    assert f["object"] == "list" and [d["embedding"] for d in f["data"]] == [
        [2.0, 0.5, -1.0],
        [4.0, 0.5, -1.0],
    ]
    assert list(struct.unpack("<3f", base64.b64decode(b["data"][0]["embedding"]))) == [3.0, 0.5, -1.0]
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_models_and_health() -> None:
    with client(ScriptedChatModel(respond=str), model="/x/Some-Model.Q4.gguf") as c:
        ids = [m["id"] for m in c.get("/v1/models").json()["data"]]
        health = c.get("/health")
    assert ids[0] == "Some-Model.Q4" and "summarize" in ids and "translate:fr" in ids
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_api_key_required_on_v1() -> None:
    with client(api_key="s3cret") as c:
        assert c.post("/v1/chat/completions", json={"messages": USER}).status_code == 401
        wrong = c.get("/v1/models", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
        assert c.get("/v1/models", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/health").status_code == 200


def test_body_too_large_is_413() -> None:
    with client(serve_max_request_bytes=1024) as c:
        big = {"messages": [{"role": "user", "content": "x" * 5000}]}
        r = c.post("/v1/chat/completions", json=big)
        streamed = c.post(
            "/v1/chat/completions",
            content=iter([b"{" + b" " * 600, b" " * 600 + b"}"]),
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"
    assert streamed.status_code == 413


def test_errors_in_openai_shape() -> None:
    with client() as c:
        empty = c.post("/v1/chat/completions", json={"messages": []})
        role = c.post("/v1/chat/completions", json={"messages": [{"role": "wizard", "content": "x"}]})
        junk = c.post("/v1/chat/completions", content=b"not json")
        lang = c.post("/v1/chat/completions", json={"model": "translate:klingonese-xx", "messages": USER})
    for r in (empty, role, junk, lang):
        assert r.status_code == 400, r.text
        assert set(r.json()["error"]) >= {"message", "type", "code"}


@pytest.mark.parametrize("queue", [0, 1])
def test_full_queue_gives_429_with_retry_after(queue: int) -> None:
    model = SlowModel()
    app = create_app(get_settings(serve_queue_size=queue), model=model, embeddings=FakeEmbeddings())

    async def go() -> list[Any]:
        import httpx

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            app.state.toolkit.name = "slow"
            first = [
                asyncio.create_task(c.post("/v1/chat/completions", json={"messages": USER}))
                for _ in range(queue + 1)
            ]
            while app.state.toolkit.queue.pending < queue + 1:
                await asyncio.sleep(0.01)
            over = await c.post("/v1/chat/completions", json={"messages": USER})
            model.gate.set()
            return [over, *[await t for t in first]]

    over, *rest = asyncio.run(go())
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert over.json()["error"]["type"] == "rate_limit_exceeded"
    assert all(r.status_code == 200 for r in rest)


@contextlib.contextmanager
def uvicorn_app(app: Any) -> Iterator[str]:
    """``app`` served by a real uvicorn on a free loopback port, in a thread; yields its URL."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_disconnect_mid_stream_stops_generation() -> None:
    # A real uvicorn and a real socket: the client reads three tokens and hangs up. The model
    # (10 ms a token, 5000 tokens: 50 s if nothing stopped it) must see its token cancelled.
    model = SlowModel(n=5000, delay=0.01)
    app = create_app(get_settings(), model=model, embeddings=FakeEmbeddings())
    state = app.state.toolkit
    state.name = "slow"
    with uvicorn_app(app) as url, httpx.Client(base_url=url, timeout=20) as c:
        with c.stream("POST", "/v1/chat/completions", json={"messages": USER, "stream": True}) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            tokens = 0
            while tokens < 3:
                tokens += '"content": " t' in next(lines)
        t0 = time.monotonic()
        assert model.done.wait(10), "generation went on after the client hung up"
        stopped_after = time.monotonic() - t0
        wait_for(lambda: state.queue.pending == 0 and state.runs == [])
        made, cancelled_by = model.generated, model.cancelled_by
        model.n = 3  # the model is free for the next request at once
        assert c.post("/v1/chat/completions", json={"messages": USER}).status_code == 200
    print(f"disconnect: stopped {stopped_after:.2f} s after the hang-up, {made} of 5000 tokens made")
    assert made < 1000, "generation went on after the hang-up"
    assert cancelled_by in ("", "client gone")  # closed on its thread, or stopped by the token


def wait_for(condition: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_a_client_that_stops_reading_loses_the_model_after_the_idle_timeout() -> None:
    # Straight ASGI: the client's socket accepts the first body chunk and then nothing, as a
    # client that stops reading (TCP back-pressure) looks to the app. The model must be freed.
    model = SlowModel(n=100_000)
    app = create_app(get_settings(model_idle_timeout=0.5), model=model, embeddings=FakeEmbeddings())
    state = app.state.toolkit

    async def go() -> float:
        body = json.dumps({"messages": USER, "stream": True}).encode()
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/chat/completions", "raw_path": b"/v1/chat/completions",
            "query_string": b"", "root_path": "", "headers": [(b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2), "state": {},
        }  # fmt: skip
        sent = [False]
        stuck = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # never disconnects
            raise AssertionError

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.body" and message.get("body"):
                stuck.set()
                await asyncio.Event().wait()  # never takes more

        async with app.router.lifespan_context(app):
            task = asyncio.create_task(app(scope, receive, send))
            await stuck.wait()
            t0 = time.monotonic()
            while state.queue.pending or not model.done.is_set():
                assert time.monotonic() - t0 < 10, "the stalled client kept the model"
                await asyncio.sleep(0.02)
            freed = time.monotonic() - t0
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return freed

    freed = asyncio.run(go())
    print(f"stalled client: model freed {freed:.2f} s after the client stopped reading")
    assert 0.3 < freed < 5 and model.generated < 100_000


@contextlib.contextmanager
def one_stream_running(**settings: Any) -> Iterator[tuple[httpx.Client, httpx.Response]]:
    """A real server whose slow model is busy with one open stream (its first line read)."""
    model = SlowModel(n=5000, delay=0.01)
    app = create_app(get_settings(**settings), model=model, embeddings=FakeEmbeddings())
    with (
        uvicorn_app(app) as url,
        httpx.Client(base_url=url, timeout=20) as c,
        c.stream("POST", "/v1/chat/completions", json={"messages": USER, "stream": True}) as first,
    ):
        lines = first.iter_lines()  # kept: a dropped iterator closes the connection
        next(lines)
        yield c, first


def test_streamed_request_over_a_full_queue_is_a_429_not_a_200() -> None:
    with one_stream_running(serve_queue_size=0) as (c, first):
        second = c.post("/v1/chat/completions", json={"messages": USER, "stream": True})
    assert first.status_code == 200
    assert second.status_code == 429, second.text[:300]
    assert second.json()["error"]["type"] == "rate_limit_exceeded"


def test_the_request_deadline_cancels_a_long_run() -> None:
    model = SlowModel(n=5000, delay=0.01, raise_on_cancel=True)
    with client(model, serve_request_timeout=0.5) as c:
        t0 = time.monotonic()
        r = c.post("/v1/chat/completions", json={"messages": USER})
        took = time.monotonic() - t0
    assert r.status_code == 504, r.text
    assert "LLAMA_TOOLKIT_SERVE_REQUEST_TIMEOUT" in r.json()["error"]["message"]
    assert took < 10 and model.generated < 5000


def test_a_waiter_gives_up_after_the_queue_timeout() -> None:
    with one_stream_running(serve_queue_timeout=0.3) as (c, _):
        waited = c.post("/v1/chat/completions", json={"messages": USER})
    assert waited.status_code == 429 and "Retry-After" in waited.headers


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"messages": ["hi"]}, "message objects"),
        ({"messages": "hi"}, "message objects"),
        ({"messages": USER, "n": 3}, "n must be 1"),
        ({"messages": USER, "model": 7}, "model must be a string"),
        ({"messages": USER, "response_format": "json"}, "response_format must be an object"),
        ({"messages": USER, "stream": True, "stream_options": []}, "stream_options must be an object"),
        ({"messages": USER, "stop": [1]}, "stop must be"),
        ({"messages": USER, "stop": ["a"] * 20}, "stop must be"),
        ({"messages": USER, "temperature": "hot"}, "temperature"),
        ({"messages": USER, "temperature": 9}, "temperature"),
        ({"messages": USER, "seed": 1.5}, "seed"),
        ({"messages": [{"role": "user", "content": "x"}] * 1001}, "at most 1000"),
        ({"messages": USER, "tools": [{"type": "function"}] * 2}, "each tool"),
        ({"messages": USER, "tools": "x"}, "tools must be"),
        ({"messages": [*USER, {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1]"}}]}]},
         "JSON object"),
        ({"messages": [*USER, {"role": "assistant", "tool_calls": ["x"]}]}, "each tool call"),
    ],
)  # fmt: skip
def test_malformed_fields_are_a_400_that_says_what_to_send(body: dict[str, Any], fragment: str) -> None:
    with client() as c:
        r = c.post("/v1/chat/completions", json=body)
    assert r.status_code == 400, r.text
    assert fragment in r.json()["error"]["message"]


def _schema_tool(parameters: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "f", "parameters": parameters}}


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "items": {"type": "string"}, "minItems": 100_000},
        {"type": "string", "maxLength": 10**9},
        {"type": "string", "pattern": "a{1000000}"},
        {"type": "object", "properties": {"x": {"type": "string", "description": "y" * 70_000}}},
        json.loads('{"type": "array", "items": ' * 40 + '{"type": "string"}' + "}" * 40),
    ],
)
def test_schemas_that_would_make_a_huge_grammar_are_refused(schema: dict[str, Any]) -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}
    with client() as c:
        t0 = time.monotonic()
        as_tool = c.post("/v1/chat/completions", json={"messages": USER, "tools": [_schema_tool(schema)]})
        as_format = c.post("/v1/chat/completions", json={"messages": USER, "response_format": fmt})
        took = time.monotonic() - t0
    assert as_tool.status_code == 400 and as_format.status_code == 400, (as_tool.text, as_format.text)
    assert took < 2


def test_errors_never_show_server_paths(tmp_path: Any) -> None:
    from toolkit.errors import ModelNotFoundError
    from toolkit.server.errors import describe

    secret = str(tmp_path / "srv" / "private" / "weights.gguf")
    message = describe(ModelNotFoundError(f"GGUF model file not found: {secret} - check the path"))["message"]
    assert str(tmp_path) not in message and "weights.gguf" in message


def test_the_grammar_cache_is_bounded() -> None:
    from toolkit.backends.llamacpp import grammar

    for i in range(grammar._GRAMMAR_CACHE_SIZE + 10):
        grammar.compiled_grammar(f'root ::= "{i}"')
    assert len(grammar._GRAMMARS) == grammar._GRAMMAR_CACHE_SIZE


def test_non_loopback_host_needs_a_key() -> None:
    from toolkit.errors import ConfigurationError

    check_host("127.0.0.1", get_settings())
    check_host("::1", get_settings())
    check_host("0.0.0.0", get_settings(api_key="k"))
    with pytest.raises(ConfigurationError, match="API key"):
        check_host("0.0.0.0", get_settings())


def test_cli_refuses_open_host_without_key(capsys: pytest.CaptureFixture[str]) -> None:
    from toolkit.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "LLAMA_TOOLKIT_API_KEY" in err


def test_rag_capability_cites_and_returns_sources(tmp_path: Any) -> None:
    from retrievers import ingest, open_index

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "audit.txt").write_text("The 2023 audit found three missing invoices in the Oslo office.")
    ingest([folder], open_index("notes"))
    model = ScriptedChatModel(respond=lambda t: "Three invoices were missing [1].")
    with client(model) as c:
        ids = [m["id"] for m in c.get("/v1/models").json()["data"]]
        r = c.post(
            "/v1/chat/completions",
            json={
                "model": "rag:notes",
                "messages": [
                    {"role": "user", "content": "Where is the office?"},
                    {"role": "assistant", "content": "Oslo."},
                    {"role": "user", "content": "What did the 2023 audit find?"},
                ],
            },
        )
        ask = [{"role": "user", "content": "What did the 2023 audit find?"}]
        s = c.post("/v1/chat/completions", json={"model": "rag:notes", "stream": True, "messages": ask})
        missing = c.post("/v1/chat/completions", json={"model": "rag:nothere", "messages": USER})
    assert "rag:notes" in ids
    body = r.json()
    assert body["model"] == "rag:notes" and "[1]" in body["choices"][0]["message"]["content"]
    src = body["sources"][0]
    assert src["n"] == 1 and src["name"] == "audit.txt" and "invoices" in src["text"]
    assert set(src) == {"n", "name", "page", "section", "text"}  # the file's name, not its server path
    assert "Where is the office?" in " ".join(str(m.content) for m in model.prompts[0])  # history sent
    first = sse_events(s.text)[0]
    assert first["sources"][0]["n"] == 1  # streamed: the sources ride on the first chunk
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model_not_found"


def test_summarize_and_translate_capabilities() -> None:
    model = ScriptedChatModel(respond=lambda t: "SHORT")
    with client(model) as c:
        summ = c.post("/v1/chat/completions", json={"model": "summarize", "messages": USER})
        tr = c.post("/v1/chat/completions", json={"model": "translate:de", "messages": USER, "stream": True})
    assert summ.json()["choices"][0]["message"]["content"] == "SHORT"
    assert summ.json()["model"] == "summarize"
    text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in sse_events(tr.text)[:-1])
    assert text == "SHORT"
    assert any("German" in str(m.content) or "de" in str(m.content) for m in model.prompts[-1])
