"""Ollama servers that misbehave: a web page instead of JSON, tokens trickled forever, a
stream past ``num_predict``, headers and then silence, a byte a second.

Each runs against a loopback server and asserts a bounded outcome: the named toolkit error,
within the deadline (plus a little), keeping the text streamed so far.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from toolkit.backends.embeddings.ollama import ToolkitOllamaEmbeddings
from toolkit.backends.ollama import ToolkitChatOllama, build_chat_ollama, list_ollama_models
from toolkit.errors import GenerationLimitError, GenerationTimeoutError, OllamaResponseError
from toolkit.settings import get_settings

DEADLINE = 1.0
SLACK = 0.6  # the deadline may be overrun by one chunk interval and scheduling


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """Set at teardown: every endless handler below ends when it is set (or after 10 s)."""
    event = threading.Event()
    yield event
    event.set()


def _line(text: str, done: bool = False) -> bytes:
    part: dict[str, Any] = {
        "model": "llama3.2",
        "created_at": "2025-01-15T10:00:00Z",
        "message": {"role": "assistant", "content": text},
        "done": done,
    }
    return (json.dumps(part) + "\n").encode()


def _streaming(body: Callable[[], Iterator[bytes]]) -> Callable[[Request], Response]:
    def handler(request: Request) -> Response:
        return Response(body(), mimetype="application/x-ndjson")

    return handler


def _tokens(stop: threading.Event, interval: float) -> Callable[[], Iterator[bytes]]:
    """A stream of ``tok0 tok1 ...`` every ``interval`` seconds that never says done."""

    def body() -> Iterator[bytes]:
        i = 0
        ends = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < ends:
            yield _line(f"tok{i} ")
            i += 1
            stop.wait(interval)

    return body


def _silence(stop: threading.Event, first: bytes = b"") -> Callable[[], Iterator[bytes]]:
    def body() -> Iterator[bytes]:
        if first:
            yield first
        stop.wait(10)
        yield b""

    return body


def _drip(stop: threading.Event) -> Callable[[], Iterator[bytes]]:
    """One byte a second, never a whole line."""

    def body() -> Iterator[bytes]:
        ends = time.monotonic() + 10
        while not stop.is_set() and time.monotonic() < ends:
            yield b"{"
            stop.wait(0.3)

    return body


def _llm(server: HTTPServer, **fields: Any) -> ToolkitChatOllama:
    fields.setdefault("request_deadline", DEADLINE)
    return ToolkitChatOllama(model="llama3.2", base_url=f"http://127.0.0.1:{server.port}", **fields)


def _stream_text(llm: ToolkitChatOllama, seen: list[str]) -> None:
    for chunk in llm.stream([HumanMessage("hi")]):
        seen.append(str(chunk.content))


# --------------------------------------------------------------------------- not Ollama


def test_a_web_page_instead_of_ollama_is_named(httpserver: HTTPServer) -> None:
    page = "<html><body>Welcome to nginx!</body></html>"
    httpserver.expect_request("/api/show").respond_with_data(page, content_type="text/html")
    httpserver.expect_request("/api/chat").respond_with_data(page, content_type="text/html")
    url = f"http://127.0.0.1:{httpserver.port}"
    with pytest.raises(OllamaResponseError, match=r"not Ollama.*OLLAMA_HOST") as built:
        build_chat_ollama(get_settings(backend="ollama", ollama_host=url))
    with pytest.raises(OllamaResponseError, match="text/html"):
        build_chat_ollama(get_settings(backend="ollama", ollama_host=url), check=False).invoke("hi")
    assert "\n" not in str(built.value)


def test_a_json_typed_answer_that_is_not_json_is_named(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/api/chat").respond_with_data(
        "oops, not json", content_type="application/json"
    )
    httpserver.expect_request("/api/tags").respond_with_data("[1, 2", content_type="application/json")
    with pytest.raises(OllamaResponseError, match="not Ollama"):
        _llm(httpserver).invoke("hi")
    with pytest.raises(OllamaResponseError, match="not Ollama"):
        list_ollama_models(f"http://127.0.0.1:{httpserver.port}", timeout=1.0)


# --------------------------------------------------------------------------- the deadline


def test_a_trickling_server_ends_at_the_deadline_keeping_the_partial(
    httpserver: HTTPServer, stop: threading.Event
) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_tokens(stop, 0.2)))
    seen: list[str] = []
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError, match="did not finish within 1 s") as caught:
        _stream_text(_llm(httpserver), seen)
    elapsed = time.monotonic() - start
    assert DEADLINE <= elapsed < DEADLINE + SLACK
    assert caught.value.partial.startswith("tok0 tok1 tok2 ")
    assert "".join(seen) and caught.value.partial.startswith("".join(seen))


def test_invoke_on_a_trickling_server_ends_at_the_deadline(
    httpserver: HTTPServer, stop: threading.Event
) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_tokens(stop, 0.2)))
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError) as caught:
        _llm(httpserver).invoke("hi")
    assert time.monotonic() - start < DEADLINE + SLACK
    assert caught.value.partial.startswith("tok0 ")


def test_headers_then_silence_ends_at_the_deadline(httpserver: HTTPServer, stop: threading.Event) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_silence(stop, _line("Hel"))))
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError) as caught:
        _stream_text(_llm(httpserver, client_kwargs={"timeout": 300.0}), [])
    assert time.monotonic() - start < DEADLINE + SLACK
    assert caught.value.partial == "Hel"


def test_a_byte_at_a_time_ends_at_the_deadline(httpserver: HTTPServer, stop: threading.Event) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_drip(stop)))
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError):
        _stream_text(_llm(httpserver), [])
    assert time.monotonic() - start < DEADLINE + SLACK


def test_listing_models_from_a_silent_server_is_bounded(
    httpserver: HTTPServer, stop: threading.Event
) -> None:
    def handler(request: Request) -> Response:
        return Response(_silence(stop, b'{"models": [')(), mimetype="application/json")

    httpserver.expect_request("/api/tags").respond_with_handler(handler)
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError):
        list_ollama_models(f"http://127.0.0.1:{httpserver.port}", timeout=DEADLINE)
    assert time.monotonic() - start < DEADLINE + SLACK


def test_embeddings_from_a_silent_server_are_bounded(httpserver: HTTPServer, stop: threading.Event) -> None:
    def handler(request: Request) -> Response:
        return Response(_silence(stop, b'{"embeddings": [[0.1,')(), mimetype="application/json")

    httpserver.expect_request("/api/embed").respond_with_handler(handler)
    embeddings = ToolkitOllamaEmbeddings(
        "nomic-embed-text", base_url=f"http://127.0.0.1:{httpserver.port}", deadline=DEADLINE
    )
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError):
        embeddings.embed_query("hello")
    assert time.monotonic() - start < DEADLINE + SLACK
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError):
        asyncio.run(embeddings.aembed_query("hello"))
    assert time.monotonic() - start < DEADLINE + SLACK


# --------------------------------------------------------------------------- the token cap


def test_a_server_that_ignores_num_predict_is_cut_off(httpserver: HTTPServer, stop: threading.Event) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_tokens(stop, 0.001)))
    seen: list[str] = []
    start = time.monotonic()
    with pytest.raises(GenerationLimitError, match="past the 5 tokens") as caught:
        _stream_text(_llm(httpserver, num_predict=5, request_deadline=30.0), seen)
    assert not isinstance(caught.value, GenerationTimeoutError)
    assert time.monotonic() - start < 5
    tokens = caught.value.partial.split()
    assert tokens[:5] == ["tok0", "tok1", "tok2", "tok3", "tok4"]
    assert 5 <= len(tokens) <= 5 + 8 + 1  # num_predict + the slack, then it stopped reading


# --------------------------------------------------------------------------- async


def test_async_stream_on_a_trickling_server_ends_at_the_deadline(
    httpserver: HTTPServer, stop: threading.Event
) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_tokens(stop, 0.2)))

    async def run() -> list[str]:
        seen: list[str] = []
        async for chunk in _llm(httpserver).astream([HumanMessage("hi")]):
            seen.append(str(chunk.content))
        return seen

    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError) as caught:
        asyncio.run(run())
    assert time.monotonic() - start < DEADLINE + SLACK
    assert caught.value.partial.startswith("tok0 tok1 ")


def test_async_invoke_after_headers_then_silence_ends_at_the_deadline(
    httpserver: HTTPServer, stop: threading.Event
) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_silence(stop, _line("Hel"))))
    start = time.monotonic()
    with pytest.raises(GenerationTimeoutError) as caught:
        asyncio.run(_llm(httpserver).ainvoke("hi"))
    assert time.monotonic() - start < DEADLINE + SLACK
    assert caught.value.partial == "Hel"


def test_async_stream_past_num_predict_is_cut_off(httpserver: HTTPServer, stop: threading.Event) -> None:
    httpserver.expect_request("/api/chat").respond_with_handler(_streaming(_tokens(stop, 0.001)))

    async def run() -> None:
        async for _ in _llm(httpserver, num_predict=3, request_deadline=30.0).astream("hi"):
            pass

    with pytest.raises(GenerationLimitError, match="past the 3 tokens") as caught:
        asyncio.run(run())
    assert caught.value.partial.startswith("tok0 tok1 tok2 ")
