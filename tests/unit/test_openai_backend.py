"""The ``openai`` backend against a loopback server that speaks OpenAI's chat API.

Every test checks what goes over the wire (the JSON bodies and headers the server received)
or how the server's answers and failures come back to the caller. No real model, no internet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage, ToolMessage
from pydantic import BaseModel
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from toolkit.backends.factory import chat_model_from_settings, get_chat_model
from toolkit.backends.openai import NO_API_KEY, ToolkitChatOpenAI, list_openai_models
from toolkit.errors import (
    BackendUnavailableError,
    ConfigurationError,
    ModelBusyError,
    ModelNotPulledError,
    OpenAIUnreachableError,
)
from toolkit.settings import get_settings

MODEL = "llama-3.2-3b-instruct"
OTHER = "qwen2.5-7b"
CALL_TEXT = '{"name": "get_weather", "parameters": {"city": "Paris"}}'


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(zone: str) -> str:
    """The time in a time zone."""
    return f"noon in {zone}"


class Person(BaseModel):
    """A person."""

    name: str
    age: int


# --------------------------------------------------------------------------- fake server


class FakeOpenAI:
    """``GET /v1/models`` and ``POST /v1/chat/completions`` (plain and SSE), recording each request."""

    def __init__(self, server: HTTPServer) -> None:
        self.url = f"http://127.0.0.1:{server.port}/v1"
        self.models: list[dict[str, Any]] = [
            {"id": MODEL, "object": "model", "owned_by": "me", "max_model_len": 8192},
            {"id": OTHER, "object": "model", "owned_by": "me"},
        ]
        self.content: str | None = "Hello, world!"  # the next answer's text
        self.tool_calls: list[dict[str, Any]] | None = None  # ... or native calls
        self.streamed_call: list[str] | None = None  # argument pieces of one streamed call
        self.status: int | None = None  # force an HTTP error on every request
        self.error = ""
        self.requests: list[tuple[str, dict[str, Any] | None, dict[str, str]]] = []
        server.expect_request("/v1/models", method="GET").respond_with_handler(self._models)
        server.expect_request("/v1/chat/completions", method="POST").respond_with_handler(self._chat)
        # What a server answers for a path it does not serve (a base URL without /v1).
        server.expect_request("/models").respond_with_data('{"detail": "Not Found"}', status=404)

    def bodies(self) -> list[dict[str, Any]]:
        return [b for p, b, _ in self.requests if p.endswith("/chat/completions") and b is not None]

    def body(self) -> dict[str, Any]:
        bodies = self.bodies()
        assert len(bodies) == 1, f"expected one chat request, got {len(bodies)}"
        return bodies[0]

    def _failed(self) -> Response | None:
        if self.status is None:
            return None
        payload = {"error": {"message": self.error, "type": "error", "code": self.status}}
        return Response(json.dumps(payload), status=self.status, mimetype="application/json")

    def _models(self, request: Request) -> Response:
        self.requests.append((request.path, None, dict(request.headers)))
        failed = self._failed()
        if failed is not None:
            return failed
        return Response(json.dumps({"object": "list", "data": self.models}), mimetype="application/json")

    def _chat(self, request: Request) -> Response:
        body = request.get_json()
        self.requests.append((request.path, body, dict(request.headers)))
        failed = self._failed()
        if failed is not None:
            return failed
        if body.get("stream"):
            return Response(self._sse(body), mimetype="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": self.content}
        if self.tool_calls:
            message["tool_calls"] = self.tool_calls
        payload = {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17},
        }
        return Response(json.dumps(payload), mimetype="application/json")

    def _sse(self, body: dict[str, Any]) -> Iterator[bytes]:
        text = self.content or ""
        parts: list[Any] = [text[i : i + 4] for i in range(0, len(text), 4)]
        # As llama-cpp-python's server streams a call: name and id repeated in every chunk.
        call = {"index": 0, "id": "call_7", "type": "function", "function": {"name": "get_weather"}}
        calls = [{**call, "function": {**call["function"], "arguments": a}} for a in self.streamed_call or ()]
        for i, part in enumerate(parts or calls):
            if calls:
                delta = {"role": "assistant", "content": None, "tool_calls": [part]}
            else:
                delta = {"role": "assistant", "content": part} if i == 0 else {"content": part}
            chunk = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1700000000,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            yield f"data: {json.dumps(chunk)}\n\n".encode()
        yield b"data: [DONE]\n\n"


@pytest.fixture
def fake(httpserver: HTTPServer) -> FakeOpenAI:
    return FakeOpenAI(httpserver)


def _llm(fake: FakeOpenAI, **settings: Any) -> ToolkitChatOpenAI:
    return ToolkitChatOpenAI.from_settings(get_settings(backend="openai", base_url=fake.url, **settings))


def _free_url() -> str:
    from openai_servers import free_port

    return f"http://127.0.0.1:{free_port()}/v1"


# --------------------------------------------------------------------------- settings -> model


def test_settings_reach_the_model_and_the_request(fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_TOOLKIT_BACKEND", "openai")
    monkeypatch.setenv("LLAMA_TOOLKIT_BASE_URL", fake.url)
    monkeypatch.setenv("LLAMA_TOOLKIT_OPENAI_API_KEY", "sk-local-123")
    monkeypatch.setenv("LLAMA_TOOLKIT_MODEL", OTHER)
    for name, value in {"TEMPERATURE": "0.2", "TOP_P": "0.8", "MAX_TOKENS": "77", "SEED": "42"}.items():
        monkeypatch.setenv(f"LLAMA_TOOLKIT_{name}", value)
    monkeypatch.setenv("LLAMA_TOOLKIT_REQUEST_TIMEOUT", "12.5")
    monkeypatch.setenv("LLAMA_TOOLKIT_N_CTX", "16384")
    llm = get_chat_model()
    assert isinstance(llm, ToolkitChatOpenAI)
    assert (llm.model_name, llm.openai_api_base, llm.request_timeout) == (OTHER, fake.url, 12.5)
    assert llm.openai_api_key is not None and llm.openai_api_key.get_secret_value() == "sk-local-123"
    assert llm.context_window == 16384  # n_ctx wins over what the server declares
    assert llm.invoke("Hi").content == "Hello, world!"
    body = fake.body()
    assert body["model"] == OTHER
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (0.2, 0.8, 77, 42)
    assert "max_completion_tokens" not in body  # llama.cpp's servers ignore it
    assert "tools" not in body and "tool_choice" not in body
    headers = next(h for p, _, h in fake.requests if p.endswith("/chat/completions"))
    assert headers["Authorization"] == "Bearer sk-local-123"


def test_unset_model_is_the_first_listed_and_no_key_sends_a_placeholder(fake: FakeOpenAI) -> None:
    llm = _llm(fake)
    assert llm.model_name == MODEL
    assert llm.context_window == 8192  # the entry's max_model_len (vLLM's field)
    assert llm.max_tokens == get_settings().max_tokens
    llm.invoke([SystemMessage("Be brief."), HumanMessage("Hi")])
    assert [m["role"] for m in fake.body()["messages"]] == ["system", "user"]
    assert "Authorization" not in fake.requests[0][2]  # the model list is asked without a key
    assert fake.requests[-1][2]["Authorization"] == f"Bearer {NO_API_KEY}"


def test_check_false_with_a_model_sends_nothing_until_used(fake: FakeOpenAI) -> None:
    llm = ToolkitChatOpenAI.from_settings(
        get_settings(backend="openai", base_url=fake.url, model="anything"), check=False
    )
    assert llm.model_name == "anything" and fake.requests == []
    assert llm.context_window is None


def test_factory_builds_the_openai_model(fake: FakeOpenAI) -> None:
    llm = chat_model_from_settings(get_settings(backend="openai", base_url=fake.url))
    assert isinstance(llm, ToolkitChatOpenAI)
    assert llm._get_ls_params()["ls_model_name"] == MODEL


def test_list_openai_models(fake: FakeOpenAI) -> None:
    assert list_openai_models(fake.url, "k", timeout=5.0) == [MODEL, OTHER]
    assert fake.requests[0][2]["Authorization"] == "Bearer k"
    fake.models = []
    assert list_openai_models(fake.url + "/", None, timeout=5.0) == []


# --------------------------------------------------------------------------- errors


def test_no_base_url_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match=r"set LLAMA_TOOLKIT_BASE_URL"):
        ToolkitChatOpenAI.from_settings(get_settings(backend="openai"))


def test_connection_refused_is_one_line_unreachable() -> None:
    url = _free_url()
    with pytest.raises(OpenAIUnreachableError) as info:
        ToolkitChatOpenAI.from_settings(get_settings(backend="openai", base_url=url))
    message = str(info.value)
    assert "\n" not in message and url in message and "LLAMA_TOOLKIT_BASE_URL" in message
    with pytest.raises(OpenAIUnreachableError, match=r"no OpenAI-compatible server answers"):
        list_openai_models(url, None, timeout=2.0)
    # Unchecked, the same error comes from the first call (after the one retry).
    llm = ToolkitChatOpenAI.from_settings(
        get_settings(backend="openai", base_url=url, model="m"), check=False
    )
    with pytest.raises(OpenAIUnreachableError) as info:
        llm.invoke("Hi")
    assert "\n" not in str(info.value)
    assert info.value.__cause__ is not None  # chained to the openai error


@pytest.mark.parametrize("status", [401, 403])
def test_refused_key_says_set_the_key(fake: FakeOpenAI, status: int) -> None:
    fake.status, fake.error = status, "Invalid API key"
    with pytest.raises(ConfigurationError, match=r"refused the API key .*set LLAMA_TOOLKIT_OPENAI_API_KEY"):
        _llm(fake)
    llm = ToolkitChatOpenAI.from_settings(
        get_settings(backend="openai", base_url=fake.url, model=MODEL), check=False
    )
    with pytest.raises(ConfigurationError, match=rf"HTTP {status}\) - set LLAMA_TOOLKIT_OPENAI_API_KEY"):
        llm.invoke("Hi")
    with pytest.raises(ConfigurationError, match=r"LLAMA_TOOLKIT_OPENAI_API_KEY"):
        "".join(c.text for c in llm.stream("Hi"))


def test_model_not_listed_names_what_is(fake: FakeOpenAI) -> None:
    with pytest.raises(ModelNotPulledError, match=rf"`nope` is not served at .*{MODEL}, {OTHER}") as info:
        _llm(fake, model="nope")
    assert "\n" not in str(info.value)
    fake.models = []
    with pytest.raises(ModelNotPulledError, match=r"lists no models - set LLAMA_TOOLKIT_MODEL"):
        _llm(fake)


def test_server_errors_map_to_toolkit_errors(fake: FakeOpenAI) -> None:
    llm = ToolkitChatOpenAI.from_settings(
        get_settings(backend="openai", base_url=fake.url, model=MODEL), max_retries=0
    )
    fake.status, fake.error = 404, f"The model `{MODEL}` does not exist"
    with pytest.raises(ModelNotPulledError, match=rf"`{MODEL}` is not served"):
        llm.invoke("Hi")
    fake.status, fake.error = 429, "queue full"
    with pytest.raises(ModelBusyError, match=r"busy \(HTTP 429\)"):
        llm.invoke("Hi")
    fake.status, fake.error = 500, "llama_decode failed\nTraceback..."
    with pytest.raises(BackendUnavailableError, match=r"HTTP 500: llama_decode failed Traceback") as info:
        llm.invoke("Hi")
    assert "\n" not in str(info.value)
    fake.status, fake.error = 400, "prompt too long"
    with pytest.raises(Exception, match="prompt too long") as info:  # the caller's own mistake: as it is
        llm.invoke("Hi")
    assert not isinstance(info.value, (BackendUnavailableError, ConfigurationError))


def test_a_url_without_v1_says_so(fake: FakeOpenAI) -> None:
    with pytest.raises(OpenAIUnreachableError, match=r"404 Not Found - .*ends in /v1"):
        list_openai_models(fake.url.removesuffix("/v1"), None, timeout=5.0)


# --------------------------------------------------------------------------- tools


def test_bind_tools_sends_native_tools_and_auto_by_default(fake: FakeOpenAI) -> None:
    fake.content = None
    fake.tool_calls = [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
        }
    ]
    msg = _llm(fake).bind_tools([get_weather, get_time]).invoke("Weather in Oslo?")
    assert msg.tool_calls == [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_1", "type": "tool_call"}
    ]
    body = fake.body()
    assert [t["function"]["name"] for t in body["tools"]] == ["get_weather", "get_time"]
    assert body["tools"][0]["function"]["parameters"]["required"] == ["city"]
    assert body["tool_choice"] == "auto"


@pytest.mark.parametrize(
    ("tools", "choice", "sent"),
    [
        ([get_weather, get_time], "required", "required"),
        ([get_weather, get_time], "any", "required"),
        ([get_weather], "required", {"type": "function", "function": {"name": "get_weather"}}),
        ([get_weather, get_time], "get_time", {"type": "function", "function": {"name": "get_time"}}),
        (
            [get_weather, get_time],
            {"type": "function", "function": {"name": "get_time"}},
            {"type": "function", "function": {"name": "get_time"}},
        ),
        ([get_weather], "none", "none"),
    ],
)
def test_tool_choice_on_the_wire(fake: FakeOpenAI, tools: list[Any], choice: Any, sent: Any) -> None:
    _llm(fake).bind_tools(tools, tool_choice=choice).invoke("Hi")
    assert fake.body()["tool_choice"] == sent


def test_unknown_tool_choice_is_refused(fake: FakeOpenAI) -> None:
    with pytest.raises(ConfigurationError, match=r"tool_choice 'get_tide' is neither"):
        _llm(fake).bind_tools([get_weather], tool_choice="get_tide")


@pytest.mark.parametrize(
    "text",
    [CALL_TEXT, f"<|python_tag|>{CALL_TEXT}", f"```json\n{CALL_TEXT}\n```", '[get_weather(city="Paris")]'],
)
def test_a_call_written_as_text_is_read_back(fake: FakeOpenAI, text: str) -> None:
    fake.content = text
    msg = _llm(fake).bind_tools([get_weather]).invoke("Weather in Paris?")
    assert [(c["name"], c["args"]) for c in msg.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert msg.content == ""


def test_text_stays_text_and_none_disables_recovery(fake: FakeOpenAI) -> None:
    fake.content = "It is sunny."
    llm = _llm(fake)
    assert llm.bind_tools([get_weather]).invoke("Hi").tool_calls == []
    fake.content = CALL_TEXT
    assert llm.bind_tools([get_weather], tool_choice="none").invoke("Hi").content == CALL_TEXT
    assert llm.bind_tools([get_time]).invoke("Hi").tool_calls == []  # not an offered tool
    assert llm.invoke("Hi").content == CALL_TEXT  # no tools bound


def _streamed(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk  # type: ignore[assignment]
    return full


def test_a_streamed_call_written_as_text_is_read_back(fake: FakeOpenAI) -> None:
    fake.content = CALL_TEXT
    chunks = list(_llm(fake).bind_tools([get_weather]).stream("Weather?"))
    full = _streamed(chunks)  # type: ignore[arg-type]
    assert [(c["name"], c["args"]) for c in full.tool_calls] == [("get_weather", {"city": "Paris"})]
    assert full.content == ""
    assert fake.body()["stream"] is True


def test_a_streamed_native_call_keeps_one_name_and_id(fake: FakeOpenAI) -> None:
    fake.content, fake.streamed_call = None, ["{", '"city"', ': "Oslo"', "}"]
    full = _streamed(list(_llm(fake).bind_tools([get_weather]).stream("Weather?")))  # type: ignore[arg-type]
    assert full.tool_calls == [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "call_7", "type": "tool_call"}
    ]


def test_a_tool_only_assistant_turn_is_sent_with_empty_content(fake: FakeOpenAI) -> None:
    call = AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Oslo"}, "id": "c1"}])
    history = [HumanMessage("Weather?"), call, ToolMessage("sunny", tool_call_id="c1")]
    _llm(fake).bind_tools([get_weather]).invoke(history)
    sent = fake.body()["messages"]
    assert sent[1]["role"] == "assistant" and sent[1]["content"] == ""  # not null
    assert sent[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Oslo"}'}
    assert sent[2] == {"role": "tool", "content": "sunny", "tool_call_id": "c1"}


def test_text_block_content_is_sent_as_a_string_outside_user_turns(fake: FakeOpenAI) -> None:
    blocks = [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]
    _llm(fake).invoke([SystemMessage(blocks), HumanMessage(blocks), AIMessage(blocks), HumanMessage("Hi")])
    sent = fake.body()["messages"]
    assert [m["content"] for m in sent] == ["Be brief.", blocks, "Be brief.", "Hi"]


def test_streamed_text_streams_through(fake: FakeOpenAI) -> None:
    fake.content = "The answer is plain text, in parts."
    chunks = list(_llm(fake).bind_tools([get_weather]).stream("Hi"))
    assert len([c for c in chunks if c.content]) > 3  # not held back until the end
    assert _streamed(chunks).content == fake.content  # type: ignore[arg-type]
    assert fake.body()["stream_options"] == {"include_usage": True}


async def test_async_calls_recover_calls_and_translate_errors(fake: FakeOpenAI) -> None:
    fake.content = CALL_TEXT
    llm = _llm(fake).bind_tools([get_weather])
    msg = await llm.ainvoke("Weather?")
    assert isinstance(msg, AIMessage) and msg.tool_calls[0]["args"] == {"city": "Paris"}
    full = _streamed([c async for c in llm.astream("Weather?")])  # type: ignore[misc]
    assert full.tool_calls[0]["name"] == "get_weather"
    fake.status = 401
    with pytest.raises(ConfigurationError, match=r"LLAMA_TOOLKIT_OPENAI_API_KEY"):
        await llm.ainvoke("Hi")


def test_structured_output_uses_function_calling(fake: FakeOpenAI) -> None:
    fake.content = None
    fake.tool_calls = [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "Person", "arguments": '{"name": "Bob", "age": 3}'},
        }
    ]
    person = _llm(fake).with_structured_output(Person).invoke("Bob is 3.")
    assert person == Person(name="Bob", age=3)
    body = fake.body()
    assert body["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert "response_format" not in body  # llama-cpp-python's server refuses json_schema
