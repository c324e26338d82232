"""Tool calling on the Ollama backend, against a loopback server that speaks Ollama's REST API.

The fake answers /api/chat with scripted text and native ``tool_calls``, and records every
JSON body, so each test checks both what went over the wire (``tools``, the system message,
the tool results) and what came back (``tool_calls`` with ids, text left as text).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel
from pytest_httpserver import HTTPServer

from toolkit.backends.ollama import model as ollama_model
from toolkit.backends.tool_calling import tools_system_prompt
from toolkit.errors import ConfigurationError, ModelNotPulledError, OllamaUnreachableError
from unit.test_ollama_wire import LLAMA32_INFO, FakeOllama, _build, _show_payload

# --------------------------------------------------------------------------- tools


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18°C and sunny in {city}"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


# The schema as Ollama's API documents `tools` (what ollama-python serializes).
WEATHER_ON_THE_WIRE = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
    },
}
PARIS = {"city": "Paris"}
WEATHER_CALL_JSON = '{"name": "get_weather", "parameters": {"city": "Paris"}}'
# A native call as Ollama streams it (recent servers add `id` and `index`).
NATIVE_WEATHER_CALL = {"id": "call_srv1", "function": {"index": 0, "name": "get_weather", "arguments": PARIS}}
LEGACY_TEMPLATE_WITH_TOOLS = (
    "{{- if .Tools }}<|start_header_id|>system<|end_header_id|>{{ range .Tools }}{{ . }}{{ end }}"
    "{{- end }}{{ range .Messages }}{{ .Content }}{{ end }}"
)
LEGACY_TEMPLATE_WITHOUT_TOOLS = (
    "{{ if .System }}{{ .System }}{{ end }}{{ range .Messages }}{{ .Content }}{{ end }}"
)


# --------------------------------------------------------------------------- fake server


class ToolOllama(FakeOllama):
    """``FakeOllama`` whose /api/chat answers are scripted, one per request, in order."""

    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        self.models["smollm2"] = _show_payload(None, ["completion"])  # no tools capability
        self.answers: list[tuple[list[str], list[dict[str, Any]]]] = []
        self.handshake_after = 0  # the streamed part after which the server waits for `handshake`

    def answer(self, *parts: str, tool_calls: list[dict[str, Any]] | None = None) -> None:
        """Queue the next /api/chat answer: streamed text parts, then native tool calls."""
        self.answers.append((list(parts), tool_calls or []))

    def add_legacy_model(self, tag: str, template: str) -> None:
        """A model as a server from before /api/show had ``capabilities`` describes it."""
        payload = _show_payload(LLAMA32_INFO, [])
        del payload["capabilities"]
        payload["template"] = template
        self.models[tag] = payload

    def chat_messages(self, index: int = -1) -> list[dict[str, Any]]:
        return self.bodies("/api/chat")[index]["messages"]

    def _ndjson(self, model: str) -> Iterator[bytes]:
        parts, calls = self.answers.pop(0) if self.answers else (["Hello", ",", " world", "!"], [])
        for i, part in enumerate(parts):
            yield _line(model, {"role": "assistant", "content": part}, done=False)
            if i == self.handshake_after and self.handshake is not None:
                self.handshake_ok = self.handshake.wait(5.0)  # the client has text already
        if calls:
            yield _line(model, {"role": "assistant", "content": "", "tool_calls": calls}, done=False)
        final = {"done_reason": "stop", "prompt_eval_count": 31, "eval_count": len(parts) + len(calls)}
        yield _line(model, {"role": "assistant", "content": ""}, done=True, **final)


def _line(model: str, message: dict[str, Any], *, done: bool, **extra: Any) -> bytes:
    line = {"model": model, "created_at": "2025-01-15T10:00:00Z", "message": message, "done": done, **extra}
    return (json.dumps(line) + "\n").encode()


@pytest.fixture
def server(httpserver: HTTPServer) -> Iterator[ToolOllama]:
    fake = ToolOllama(httpserver)
    yield fake
    httpserver.check_assertions()


@pytest.fixture(autouse=True)
def _fresh_capability_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cache lives for the process and pytest-httpserver reuses one port for every test.
    monkeypatch.setattr(ollama_model, "_TOOL_SUPPORT", {})


@pytest.fixture
def dead_host() -> str:
    """A loopback URL with nothing listening (connection refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------- helpers

MODES = ["invoke", "stream", "ainvoke", "astream"]


async def _run(llm: Any, mode: str, prompt: Any, **kwargs: Any) -> tuple[AIMessage, list[AIMessageChunk]]:
    """The answer (chunks added up when streaming) and the chunks as they came."""
    if mode == "invoke":
        return llm.invoke(prompt, **kwargs), []
    if mode == "ainvoke":
        return await llm.ainvoke(prompt, **kwargs), []
    if mode == "stream":
        chunks = list(llm.stream(prompt, **kwargs))
    else:
        chunks = [c async for c in llm.astream(prompt, **kwargs)]
    full = chunks[0]
    for c in chunks[1:]:
        full = full + c
    return full, chunks


def _calls(message: AIMessage) -> list[tuple[str, dict[str, Any]]]:
    assert all(c["id"] for c in message.tool_calls), f"a call without an id: {message.tool_calls}"
    assert not message.invalid_tool_calls
    return [(c["name"], c["args"]) for c in message.tool_calls]


def _texts(chunks: list[AIMessageChunk]) -> list[str]:
    return [str(c.content) for c in chunks if c.content]


# --------------------------------------------------------------------------- native tools


@pytest.mark.parametrize("mode", MODES)
async def test_native_tool_call_with_the_schema_on_the_wire(server: ToolOllama, mode: str) -> None:
    server.answer(tool_calls=[NATIVE_WEATHER_CALL])
    llm = _build(server.url).bind_tools([get_weather])

    answer, chunks = await _run(llm, mode, "Weather in Paris?")

    assert _calls(answer) == [("get_weather", PARIS)]
    assert answer.content == ""
    assert answer.usage_metadata is not None
    assert answer.usage_metadata["input_tokens"] == 31
    body = server.chat_body()
    assert body["tools"] == [WEATHER_ON_THE_WIRE]
    assert body["messages"] == [{"role": "user", "content": "Weather in Paris?"}]  # auto: no note
    assert "tool_choice" not in body
    assert server.bodies("/api/show") == [{"model": "llama3.2"}]  # the build's check, reused
    if chunks:
        (with_call,) = [c for c in chunks if c.tool_call_chunks]
        assert with_call.tool_call_chunks[0]["id"]


@pytest.mark.parametrize(
    "parts",
    [
        ['{"name": "get_weather", ', '"parameters": {"city": "Paris"}}'],
        ["<|python_tag|>", WEATHER_CALL_JSON],
        ["<|", "python", "_tag|>", WEATHER_CALL_JSON],
        ["[get_weather(", 'city="Paris")]'],
        ['get_weather(city="Paris")'],
        [
            '{"type": "function", "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}}'
        ],
        ["```json\n", WEATHER_CALL_JSON, "\n```"],
        ["\n ", "{", WEATHER_CALL_JSON[1:]],
    ],
    ids=[
        "llama-json",
        "python-tag",
        "python-tag-split",
        "pythonic",
        "pythonic-bare",
        "openai",
        "fenced",
        "space",
    ],
)
@pytest.mark.parametrize("mode", MODES)
async def test_call_written_as_text_becomes_a_tool_call(
    server: ToolOllama, mode: str, parts: list[str]
) -> None:
    server.answer(*parts)
    llm = _build(server.url).bind_tools([get_weather, add])

    answer, chunks = await _run(llm, mode, "Weather in Paris?")

    assert _calls(answer) == [("get_weather", PARIS)]
    assert answer.content == ""
    assert _texts(chunks) == []  # streaming: none of the call leaked out as text
    assert answer.usage_metadata is not None  # the final line's counts survive the repair
    assert answer.usage_metadata["output_tokens"] == len(parts)
    assert answer.response_metadata["done_reason"] == "stop"
    assert server.chat_body()["tools"] == [WEATHER_ON_THE_WIRE, convert_to_openai_tool(add)]


@pytest.mark.parametrize("mode", MODES)
async def test_two_calls_in_one_answer_get_distinct_ids(server: ToolOllama, mode: str) -> None:
    server.answer('{"name": "add", "parameters": {"a": 2, "b": 3}}\n', WEATHER_CALL_JSON)
    llm = _build(server.url).bind_tools([get_weather, add])
    answer, _ = await _run(llm, mode, "2+3, and the weather in Paris?")
    assert _calls(answer) == [("add", {"a": 2, "b": 3}), ("get_weather", PARIS)]
    assert len({c["id"] for c in answer.tool_calls}) == 2


@pytest.mark.parametrize(
    "parts",
    [
        ["Hello", ",", " world", "!"],
        ['{"answer": ', "42}"],  # JSON, but not a call
        ['{"name": "delete_files", "parameters": {}}'],  # a tool that was not offered
        [WEATHER_CALL_JSON, " Let me check that for you."],  # a call inside a text answer
        ["[1, 2", ", 3]"],
        ["<", "b>Bold</b> claim"],
        ["get", " ready: it is sunny"],  # starts like `get_weather(`
        ["```python\n", "print('hi')\n```"],
    ],
    ids=["plain", "json", "unknown-tool", "call-and-text", "list", "angle", "name-prefix", "code"],
)
@pytest.mark.parametrize("mode", MODES)
async def test_text_answer_stays_text(server: ToolOllama, mode: str, parts: list[str]) -> None:
    server.answer(*parts)
    llm = _build(server.url).bind_tools([get_weather, add])

    answer, chunks = await _run(llm, mode, "Hi")

    assert answer.tool_calls == []
    assert answer.content == "".join(parts)
    if chunks:
        assert _texts(chunks) == parts  # held text is let go as the pieces it came in


@pytest.mark.parametrize(
    ("parts", "first_out_after"),
    [
        (["Hello", ",", " world", "!"], 0),
        (["<", "b>Bold</b>", " claim", "."], 1),  # "<" could open <|python_tag|>
        (["get", " ready", " for", " sun"], 1),  # "get" could open get_weather(
        (["```python\n", "print('hi')\n", "```", "\n"], 1),  # a fence could hold a call
        (["[1]", " Paris", " is sunny", "."], 0),  # a list could hold calls
    ],
    ids=["plain", "angle", "name-prefix", "code-fence", "citation"],
)
def test_text_streams_as_it_arrives_with_tools_bound(
    server: ToolOllama, parts: list[str], first_out_after: int
) -> None:
    # Text is held only until it cannot be a call any more, not until the answer ends.
    server.answer(*parts)
    server.handshake = threading.Event()
    server.handshake_after = first_out_after
    llm = _build(server.url).bind_tools([get_weather])
    seen: list[str] = []
    for chunk in llm.stream("Say hello"):
        if chunk.content:
            seen.append(str(chunk.content))
            server.handshake.set()  # the server sends the rest only now
    assert server.handshake_ok is True, "text was held back after it could no longer be a call"
    assert seen == parts
    assert server.chat_body()["tools"] == [WEATHER_ON_THE_WIRE]


async def test_text_astreams_in_several_chunks_with_tools_bound(server: ToolOllama) -> None:
    server.answer("Sunny", " and", " mild", ".")
    llm = _build(server.url).bind_tools([get_weather])
    chunks = [c async for c in llm.astream("Weather?")]
    assert _texts(chunks) == ["Sunny", " and", " mild", "."]
    assert all(not c.tool_call_chunks for c in chunks)


@pytest.mark.parametrize("mode", MODES)
async def test_native_call_next_to_call_like_text_is_not_doubled(server: ToolOllama, mode: str) -> None:
    server.answer(
        WEATHER_CALL_JSON, tool_calls=[{"function": {"name": "add", "arguments": {"a": 1, "b": 2}}}]
    )
    llm = _build(server.url).bind_tools([get_weather, add])
    answer, _ = await _run(llm, mode, "Hi")
    assert _calls(answer) == [("add", {"a": 1, "b": 2})]  # the native call wins
    assert answer.content == WEATHER_CALL_JSON


# --------------------------------------------------------------------------- tool_choice


@pytest.mark.parametrize("mode", MODES)
async def test_tool_choice_none_sends_no_tools_and_reads_no_calls(server: ToolOllama, mode: str) -> None:
    server.answer(WEATHER_CALL_JSON)
    llm = _build(server.url).bind_tools([get_weather], tool_choice="none")
    answer, _ = await _run(llm, mode, "Weather in Paris?")
    assert answer.tool_calls == []
    assert answer.content == WEATHER_CALL_JSON
    body = server.chat_body()
    assert body["tools"] == []  # ollama-python always sends the field; the server reads [] as none
    assert body["messages"] == [{"role": "user", "content": "Weather in Paris?"}]


@pytest.mark.parametrize(
    ("choice", "note"),
    [
        ("required", "Answer by calling one of the tools."),
        ("any", "Answer by calling one of the tools."),
        (True, "Answer by calling one of the tools."),
        ("get_weather", "Answer by calling get_weather."),
        ({"type": "function", "function": {"name": "get_weather"}}, "Answer by calling get_weather."),
    ],
    ids=["required", "any", "true", "name", "openai-dict"],
)
@pytest.mark.parametrize("mode", ["invoke", "astream"])
async def test_forced_tool_choice_asks_in_the_system_message(
    server: ToolOllama, mode: str, choice: Any, note: str
) -> None:
    server.answer("I would rather chat.")  # the model ignores the request: that answer comes back
    llm = _build(server.url).bind_tools([get_weather, add], tool_choice=choice)

    answer, _ = await _run(llm, mode, [SystemMessage("Be brief."), HumanMessage("Hi")])

    assert answer.content == "I would rather chat."
    assert answer.tool_calls == []
    assert len(server.bodies("/api/chat")) == 1  # no retry
    body = server.chat_body()
    assert body["tools"] == [WEATHER_ON_THE_WIRE, convert_to_openai_tool(add)]
    assert body["messages"] == [
        {"role": "system", "content": f"Be brief.\n\n{note}"},
        {"role": "user", "content": "Hi"},
    ]


@pytest.mark.parametrize("choice", ["delete_files", {"type": "function", "function": {"name": "nope"}}, 3])
def test_unknown_tool_choice_fails_at_bind_time(server: ToolOllama, choice: Any) -> None:
    llm = _build(server.url, check=False)
    with pytest.raises(
        ConfigurationError, match=r"tool_choice .* neither .*bound tools \(add, get_weather\)"
    ):
        llm.bind_tools([get_weather, add], tool_choice=choice)
    assert server.requests == []


def test_bind_tools_binds_schemas_and_the_normalized_choice(server: ToolOllama) -> None:
    bound: Any = _build(server.url, check=False).bind_tools([get_weather], tool_choice="any")
    assert bound.kwargs == {"tools": [convert_to_openai_tool(get_weather)], "tool_choice": "required"}


# --------------------------------------------------------------------------- no tools capability


@pytest.mark.parametrize("mode", MODES)
async def test_model_without_tools_gets_them_in_the_system_message(server: ToolOllama, mode: str) -> None:
    server.answer('{"name": "add", ', '"parameters": {"a": 2, "b": 3}}')
    llm = _build(server.url, model="smollm2").bind_tools([get_weather, add])

    answer, chunks = await _run(llm, mode, [SystemMessage("Be brief."), HumanMessage("2+3?")])

    assert _calls(answer) == [("add", {"a": 2, "b": 3})]
    assert answer.content == ""
    assert _texts(chunks) == []
    body = server.chat_body()
    assert body["tools"] == []  # nothing for Ollama to refuse with "does not support tools"
    system, user = body["messages"]
    prompt = tools_system_prompt([convert_to_openai_tool(get_weather), convert_to_openai_tool(add)], "auto")
    assert system == {"role": "system", "content": f"Be brief.\n\n{prompt}"}
    assert "- get_weather(city: string): Current weather in a city." in system["content"]
    assert "- add(a: integer, b: integer): Add two integers." in system["content"]
    assert user == {"role": "user", "content": "2+3?"}


@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_model_without_tools_text_answer_stays_text(server: ToolOllama, mode: str) -> None:
    server.answer("It", " is", " 5.")
    llm = _build(server.url, model="smollm2").bind_tools([add], tool_choice="add")
    answer, _ = await _run(llm, mode, "2+3?")
    assert answer.content == "It is 5."
    assert answer.tool_calls == []
    (system, _user) = server.chat_messages()
    assert system["content"].endswith("Call the tool add.")  # tools_system_prompt's forced form


@pytest.mark.parametrize(
    ("template", "native"),
    [(LEGACY_TEMPLATE_WITH_TOOLS, True), (LEGACY_TEMPLATE_WITHOUT_TOOLS, False)],
    ids=["template-renders-tools", "template-without-tools"],
)
@pytest.mark.parametrize("check", [True, False], ids=["checked-build", "unchecked-build"])
def test_server_without_capabilities_field_decides_by_template(
    server: ToolOllama, template: str, native: bool, check: bool
) -> None:
    server.add_legacy_model("legacy", template)
    server.answer(WEATHER_CALL_JSON)
    llm = _build(server.url, model="legacy", check=check).bind_tools([get_weather])
    answer = llm.invoke("Weather in Paris?")
    assert _calls(answer) == [("get_weather", PARIS)]
    body = server.chat_body()
    assert body["tools"] == ([WEATHER_ON_THE_WIRE] if native else [])
    assert (body["messages"][0]["role"] == "system") is not native
    assert server.bodies("/api/show") == [{"model": "legacy"}]  # once, at build or at the call


# --------------------------------------------------------------------------- round trips


async def test_tool_result_round_trip_native(server: ToolOllama) -> None:
    server.answer(tool_calls=[NATIVE_WEATHER_CALL])
    server.answer("It is 18°C and sunny in Paris.")
    llm = _build(server.url).bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage("Weather in Paris?")]

    first = llm.invoke(history)
    (call,) = first.tool_calls
    history += [first, get_weather.invoke(call)]  # a ToolMessage with the call's id and name
    second = await llm.ainvoke(history)

    assert second.content == "It is 18°C and sunny in Paris."
    assert second.tool_calls == []
    assert isinstance(history[-1], ToolMessage)
    assert history[-1].tool_call_id == call["id"]
    assert server.chat_messages() == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "tool_calls": [{"function": {"name": "get_weather", "arguments": PARIS}}]},
        {"role": "tool", "content": "18°C and sunny in Paris", "tool_name": "get_weather"},
    ]
    assert server.bodies("/api/chat")[1]["tools"] == [WEATHER_ON_THE_WIRE]


def test_tool_result_without_a_name_is_named_from_its_call(server: ToolOllama) -> None:
    llm = _build(server.url).bind_tools([get_weather])
    history = [
        HumanMessage("Weather in Paris?"),
        AIMessage("", tool_calls=[{"name": "get_weather", "args": PARIS, "id": "call_7"}]),
        ToolMessage("18°C", tool_call_id="call_7"),
    ]
    llm.invoke(history)
    assert server.chat_messages()[-1] == {"role": "tool", "content": "18°C", "tool_name": "get_weather"}


@pytest.mark.parametrize("mode", ["invoke", "astream"])
async def test_tool_result_round_trip_without_tools_capability(server: ToolOllama, mode: str) -> None:
    server.answer(WEATHER_CALL_JSON)
    server.answer("Sunny, 18°C.")
    llm = _build(server.url, model="smollm2").bind_tools([get_weather])
    history: list[BaseMessage] = [HumanMessage("Weather in Paris?")]

    first, _ = await _run(llm, mode, history)
    (call,) = first.tool_calls
    # A result with no tool name: the fallback names it from the call it answers.
    history += [first, ToolMessage("18°C and sunny", tool_call_id=call["id"])]
    second, _ = await _run(llm, mode, history)

    assert second.content == "Sunny, 18°C."
    system, *rest = server.chat_messages()
    assert system["role"] == "system"
    assert "get_weather(city: string)" in system["content"]
    assert rest == [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": WEATHER_CALL_JSON},
        {"role": "user", "content": "Result of get_weather: 18°C and sunny"},
    ]
    assert all(body["tools"] == [] for body in server.bodies("/api/chat"))


def test_structured_output_by_function_calling_without_tools_capability(server: ToolOllama) -> None:
    class Person(BaseModel):
        """A person."""

        name: str
        age: int

    server.answer('{"name": "Person", "parameters": {"name": "Ada", "age": 36}}')
    llm = _build(server.url, model="smollm2")
    person = llm.with_structured_output(Person, method="function_calling").invoke("Ada is 36.")
    assert person == Person(name="Ada", age=36)
    (system, _user) = server.chat_messages()
    assert system["content"].endswith("Call the tool Person.")


# --------------------------------------------------------------------------- capabilities


async def test_capabilities_are_asked_once_per_model(server: ToolOllama) -> None:
    server.answer(WEATHER_CALL_JSON)
    llm = _build(server.url, check=False).bind_tools([get_weather])
    assert server.requests == []  # an unchecked build contacts nothing

    llm.invoke("Hi")
    list(llm.stream("Hi"))
    await llm.ainvoke("Hi")
    _build(server.url, check=False).bind_tools([add]).invoke("Hi")  # another instance, same model
    assert server.bodies("/api/show") == [{"model": "llama3.2"}]
    assert all(b["tools"] for b in server.bodies("/api/chat"))

    # A per-call model override is asked about on its own, once.
    llm.invoke("Hi", model="smollm2")
    await llm.ainvoke("Hi", model="smollm2")
    assert server.bodies("/api/show") == [{"model": "llama3.2"}, {"model": "smollm2"}]
    assert [b["tools"] == [] for b in server.bodies("/api/chat")] == [False] * 4 + [True] * 2


async def test_no_capability_request_without_tools(server: ToolOllama) -> None:
    llm = _build(server.url, check=False)
    llm.invoke("Hi")
    await llm.ainvoke("Hi")
    assert server.bodies("/api/show") == []


@pytest.mark.parametrize("mode", MODES)
async def test_server_down_with_tools_bound(dead_host: str, mode: str) -> None:
    llm = _build(dead_host, check=False).bind_tools([get_weather])
    with pytest.raises(
        OllamaUnreachableError, match=r"not reachable at http://127\.0\.0\.1:\d+.*ollama serve"
    ):
        await _run(llm, mode, "Hi")


@pytest.mark.parametrize("mode", MODES)
async def test_unpulled_model_with_tools_bound(server: ToolOllama, mode: str) -> None:
    llm = _build(server.url, model="qwen2.5", check=False).bind_tools([get_weather])
    with pytest.raises(ModelNotPulledError, match=r"run `ollama pull qwen2\.5`"):
        await _run(llm, mode, "Hi")
    assert server.bodies("/api/chat") == []


# --------------------------------------------------------------------------- grounded numbers (issue 16)


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a value between units."""
    return f"{value} {from_unit} in {to_unit}"


def _convert_call(value: float, call_id: str = "call_a") -> dict[str, Any]:
    args = {"value": value, "from_unit": "kg", "to_unit": "lb"}
    return {"id": call_id, "function": {"index": 0, "name": "convert_units", "arguments": args}}


@pytest.mark.parametrize("mode", MODES)
async def test_a_number_the_user_never_wrote_gets_one_repair_turn(server: ToolOllama, mode: str) -> None:
    server.answer(tool_calls=[_convert_call(2)])  # stopped at the comma of "2,340"
    server.answer(tool_calls=[_convert_call(2340, "call_b")])
    llm = _build(server.url).bind_tools([convert_units])

    answer, _ = await _run(llm, mode, "Convert 2,340 kg to pounds.")

    assert _calls(answer) == [("convert_units", {"value": 2340, "from_unit": "kg", "to_unit": "lb"})]
    first, repair = server.bodies("/api/chat")
    sent = repair["messages"]
    assert sent[0] == first["messages"][0]
    assert sent[1]["tool_calls"][0]["function"]["arguments"]["value"] == 2
    assert sent[2]["role"] == "tool" and "value=2" in sent[2]["content"] and "2340" in sent[2]["content"]
    assert repair["tools"] == first["tools"]


@pytest.mark.parametrize("mode", MODES)
async def test_a_second_ungrounded_call_is_refused_with_a_message(server: ToolOllama, mode: str) -> None:
    server.answer(tool_calls=[_convert_call(2)])
    server.answer(tool_calls=[_convert_call(234)])
    llm = _build(server.url).bind_tools([convert_units])

    answer, _ = await _run(llm, mode, "Convert 2,340 kg to pounds.")

    assert answer.tool_calls == []
    assert "value=234" in str(answer.content) and "not in your request" in str(answer.content)
    assert len(server.bodies("/api/chat")) == 2  # one repair, no more


@pytest.mark.parametrize("mode", ["invoke", "stream"])
async def test_grounded_calls_and_calls_without_numbers_go_through_untouched(
    server: ToolOllama, mode: str
) -> None:
    server.answer(tool_calls=[_convert_call(2340)])
    server.answer(tool_calls=[NATIVE_WEATHER_CALL])
    convert = _build(server.url).bind_tools([convert_units])
    weather = _build(server.url).bind_tools([get_weather])

    first, _ = await _run(convert, mode, "Convert 2,340 kg to pounds.")
    second, _ = await _run(weather, mode, "Weather in Paris?")

    assert _calls(first)[0][1]["value"] == 2340 and _calls(second) == [("get_weather", PARIS)]
    assert len(server.bodies("/api/chat")) == 2
    off = _build(server.url).model_copy(update={"ground_arguments": False}).bind_tools([convert_units])
    server.answer(tool_calls=[_convert_call(2)])
    unchecked, _ = await _run(off, mode, "Convert 2,340 kg to pounds.")
    assert _calls(unchecked)[0][1]["value"] == 2
