"""Real clients (openai, LangChain) against a real ``llama-toolkit serve`` on the embedded model."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator

import pytest
from serve_process import serving

pytestmark = pytest.mark.integration

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(args=("--max-tokens", "48", "--temperature", "0", "--seed", "1")) as url:
        yield url


def _health(base_url: str) -> dict:
    with urllib.request.urlopen(base_url.removesuffix("/v1") + "/health", timeout=5) as r:
        return json.loads(r.read())


def test_openai_client_chat_stream_and_embeddings(base_url: str) -> None:
    import openai

    c = openai.OpenAI(base_url=base_url, api_key="unused")
    model = c.models.list().data[0].id
    r = c.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Say hello."}], max_tokens=12
    )
    assert r.choices[0].message.content and r.usage is not None and 0 < r.usage.completion_tokens <= 12
    parts = []
    usage = None
    for ch in c.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Count to three."}],
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    ):
        if ch.choices:
            parts.append(ch.choices[0].delta.content or "")
        if ch.usage is not None:
            usage = ch.usage
    assert "".join(parts).strip() and usage is not None and usage.completion_tokens > 0
    e = c.embeddings.create(model="minilm", input=["a cat", "a dog"])
    assert len(e.data) == 2 and len(e.data[0].embedding) == 384


def test_openai_tool_call_round_trip(base_url: str) -> None:
    import openai

    c = openai.OpenAI(base_url=base_url, api_key="unused")
    messages: list = [{"role": "user", "content": "What is the weather in Paris?"}]
    r = c.chat.completions.create(model="m", messages=messages, tools=[WEATHER], tool_choice="required")
    choice = r.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and isinstance(json.loads(call.function.arguments), dict)
    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21 C"},
    ]
    answer = c.chat.completions.create(model="m", messages=messages, tools=[WEATHER])
    assert answer.choices[0].finish_reason in ("stop", "length")
    assert answer.choices[0].message.content


def test_langchain_chat_openai_and_embeddings(base_url: str) -> None:
    from langchain_openai import ChatOpenAI, OpenAIEmbeddings

    llm = ChatOpenAI(base_url=base_url, api_key="unused", model="m", max_tokens=12)  # type: ignore[arg-type]
    assert llm.invoke("Say hi.").content
    assert "".join(str(ch.content) for ch in llm.stream("Say hi.")).strip()
    person = {
        "title": "Person",
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    parsed = llm.with_structured_output(person, method="json_schema").invoke("Invent a person.")
    assert isinstance(parsed, dict) and isinstance(parsed["name"], str) and isinstance(parsed["age"], int)
    emb = OpenAIEmbeddings(
        base_url=base_url,
        api_key="unused",
        model="minilm",
        check_embedding_ctx_length=False,  # type: ignore[arg-type]
    )
    assert len(emb.embed_query("hello")) == 384


def test_disconnect_mid_stream_frees_the_model(base_url: str) -> None:
    import httpx

    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "Write a long story."}],
        "stream": True,
        "max_tokens": 48,
    }
    with httpx.Client(timeout=30) as h, h.stream("POST", base_url + "/chat/completions", json=body) as r:
        lines = r.iter_lines()
        got = [next(lines) for _ in range(4)]
        assert any(line.startswith("data: ") for line in got)
    deadline = time.monotonic() + 30
    while _health(base_url)["queue"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _health(base_url)["queue"] == 0
