"""The OpenAI-compatible app: ``/v1/chat/completions``, ``/v1/embeddings``, ``/v1/models``, ``/health``."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from starlette.background import BackgroundTask

from toolkit.backends.cancel import CancelToken, cancel_scope
from toolkit.backends.llamacpp.threads import iterate_in_thread
from toolkit.errors import ToolkitError
from toolkit.server import wire
from toolkit.server.errors import describe, error_response
from toolkit.server.guard import BodyLimit, Busy, ModelQueue, Ticket, key_matches
from toolkit.server.runs import Event, capability_run, chat_run
from toolkit.settings import Settings

__all__ = ["ServerState", "create_app", "model_name"]

_log = logging.getLogger("toolkit.server")

STREAM_BUFFER = 256
"""SSE lines a streamed answer may run ahead of a slow client before generation waits for it."""

MAX_EMBED_INPUTS = 2048
"""Texts one ``/v1/embeddings`` request may carry (OpenAI's own limit)."""

CAPABILITY_LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "zh", "ja")
"""Languages listed as ``translate:<lang>`` models (any known language is accepted)."""


def model_name(settings: Settings) -> str:
    """The name the chat model is served under: the GGUF file's stem, or the backend's model name."""
    name = settings.resolved_model()
    return Path(name).stem if name.lower().endswith(".gguf") else name


@dataclass
class ServerState:
    """What the app serves with: one chat model, one embedder, one queue."""

    settings: Settings
    model: BaseChatModel | None = None
    embeddings: Embeddings | None = None
    name: str = ""
    queue: ModelQueue = field(default_factory=lambda: ModelQueue(8))
    embed_queue: ModelQueue = field(default_factory=lambda: ModelQueue(8))
    runs: list[CancelToken] = field(default_factory=list)


def create_app(
    settings: Settings,
    *,
    model: BaseChatModel | None = None,
    embeddings: Embeddings | None = None,
) -> FastAPI:
    """The app; without ``model`` / ``embeddings`` the lifespan loads them from ``settings`` once."""
    state = ServerState(
        settings,
        model,
        embeddings,
        queue=ModelQueue(settings.serve_queue_size, settings.serve_queue_timeout),
        embed_queue=ModelQueue(settings.serve_queue_size, settings.serve_queue_timeout),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if state.model is None:
            from toolkit.backends.auto import resolve_settings
            from toolkit.backends.factory import chat_model_from_settings

            # auto is decided once, here: the name served is that of the model that answers
            state.settings = await asyncio.to_thread(resolve_settings, settings)
            state.model = await asyncio.to_thread(chat_model_from_settings, state.settings)
        state.name = state.name or model_name(state.settings) or "model"
        yield
        for token in state.runs:
            token.cancel("server stopping")

    app = FastAPI(title="llama-toolkit", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.toolkit = state
    app.add_middleware(BodyLimit, limit=settings.serve_max_request_bytes)
    _add_auth(app, settings)
    _add_routes(app, state)
    return app


def _add_auth(app: FastAPI, settings: Settings) -> None:
    key = settings.api_key.get_secret_value() if settings.api_key is not None else None

    @app.middleware("http")
    async def auth(request: Request, call_next: Callable[[Request], Any]) -> Any:
        if (
            key
            and request.url.path.startswith("/v1")
            and not key_matches(request.headers.get("authorization"), key)
        ):
            return error_response(
                401, "missing or wrong API key - send Authorization: Bearer <key>", "invalid_api_key"
            )
        return await call_next(request)

    @app.exception_handler(ToolkitError)
    async def toolkit_error(request: Request, exc: ToolkitError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The message may name server paths: it goes to the server's log, not to the client.
        _log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error_response(
            500, f"internal error ({type(exc).__name__}) - see the server log", "internal_error"
        )

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return error_response(429, str(exc), "rate_limit_exceeded", retry_after=exc.retry_after)


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        from toolkit.errors import ConfigurationError

        raise ConfigurationError("the request body must be a JSON object")
    return body


def _add_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "model": state.name, "queue": state.queue.pending}

    @app.get("/v1/models")
    async def models() -> dict[str, Any]:
        names = await asyncio.to_thread(_model_names, state)  # listing the store reads the disk
        return {"object": "list", "data": [_model_card(n) for n in names]}

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> JSONResponse:
        return JSONResponse(await _embed(state, await _body(request)))

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        body = await _body(request)
        return await _chat(state, body)


def _model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "llama-toolkit"}


def _model_names(state: ServerState) -> list[str]:
    names = [state.name, "summarize", *(f"translate:{c}" for c in CAPABILITY_LANGUAGES)]
    try:
        from retrievers.store import list_indexes

        names += [f"rag:{c}" for c in list_indexes()]
    except ToolkitError:
        pass  # no store reachable: no rag models
    return names


async def _embed(state: ServerState, body: dict[str, Any]) -> dict[str, Any]:
    from toolkit.errors import ConfigurationError

    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise ConfigurationError(
            "input must be a string or a non-empty list of strings (token ids are not accepted)"
        )
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise ConfigurationError("encoding_format must be float or base64")
    if len(texts) > MAX_EMBED_INPUTS:
        raise ConfigurationError(
            f"input has {len(texts)} texts - send at most {MAX_EMBED_INPUTS} per request"
        )
    async with state.embed_queue.slot():
        vectors = await asyncio.to_thread(_embed_texts, state, texts)
    data = []
    for i, vec in enumerate(vectors):
        value: Any = [float(x) for x in vec]
        if fmt == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    tokens = sum(len(t.split()) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": str(body.get("model") or "embeddings"),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _embed_texts(state: ServerState, texts: list[str]) -> list[list[float]]:
    if state.embeddings is None:
        from toolkit.backends.embeddings import get_embeddings

        state.embeddings = get_embeddings(state.settings.embeddings)
    return state.embeddings.embed_documents(texts)


def _plan(state: ServerState, body: dict[str, Any]) -> tuple[str, Callable[[], Iterator[Event]]]:
    assert state.model is not None
    messages = wire.to_messages(body.get("messages") or [])
    name = str(body.get("model") or state.name)
    opts = wire.generation_options(body, state.settings.max_tokens)
    if name in ("summarize",) or name.startswith(("rag:", "translate:")):
        return name, capability_run(state.model, name, messages)  # the chains budget tokens
    return state.name, chat_run(state.model, messages, body, opts)


async def _chat(state: ServerState, body: dict[str, Any]) -> Any:
    wire.check_request(body)
    name, run = await asyncio.to_thread(_plan, state, body)  # opening a collection reads the disk
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        ticket = state.queue.reserve()  # a full queue is a 429 now, before the response starts
        out: asyncio.Queue[str | None] = asyncio.Queue(STREAM_BUFFER)
        producer = asyncio.create_task(_produce(state, name, run, include_usage, ticket, out))
        return StreamingResponse(
            _drain(out, producer),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
            background=BackgroundTask(_stop, producer),
        )
    async with state.queue.slot(), _events(state, run) as events:
        collected = [e async for e in events]
    return JSONResponse(_collect(name, collected))


@asynccontextmanager
async def _events(
    state: ServerState, run: Callable[[], Iterator[Event]]
) -> AsyncIterator[AsyncIterator[Event]]:
    """The run's events, produced on one worker thread under a cancellation token of its own.

    Leaving the block (done, client gone, error, deadline) cancels the token: the model stops
    at its next token or prompt batch, and the chains between their model calls.
    """
    token = CancelToken()
    state.runs.append(token)
    deadline = state.settings.serve_request_timeout
    timer = asyncio.get_running_loop().call_later(
        deadline, token.cancel, f"the request ran past {deadline:g} s (LLAMA_TOOLKIT_SERVE_REQUEST_TIMEOUT)"
    )

    def scoped() -> Iterator[Event]:
        with cancel_scope(token):  # entered on the worker thread, where the model reads it
            yield from run()

    # Up to 64 events ahead of the event loop: generation never waits for a wake-up per token.
    stream = iterate_in_thread(scoped, name="toolkit-serve-run", read_ahead=64)
    try:
        yield stream
    finally:
        timer.cancel()
        token.cancel("client gone")
        await stream.aclose()  # type: ignore[attr-defined]
        state.runs.remove(token)


def _collect(name: str, events: list[Event]) -> dict[str, Any]:
    final = AIMessage("")
    sources: list[Any] | None = None
    for kind, value in events:
        if kind == "final":
            final = value
        elif kind == "sources":
            sources = value
    extra = {"sources": [_source(s) for s in sources]} if sources is not None else None
    return wire.completion_payload(final, model=name, extra=extra)


def _source(s: dict[str, Any]) -> dict[str, Any]:
    # The file's name, not its path on the server.
    return {k: s.get(k) for k in ("n", "name", "page", "section", "text")}


def _sse(payload: dict[str, Any]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


async def _drain(out: asyncio.Queue[str | None], producer: asyncio.Task[None]) -> AsyncIterator[str]:
    """The response body: what the producer queued, until it says it is done."""
    try:
        while (item := await out.get()) is not None:
            yield item
    finally:
        producer.cancel()  # the client is gone (or done): stop generating, give the model back


async def _stop(producer: asyncio.Task[None]) -> None:
    producer.cancel()  # also when the body was never read at all


class _Stalled(Exception):
    """The client read nothing while the stream's buffer stayed full."""


async def _produce(
    state: ServerState,
    name: str,
    run: Callable[[], Iterator[Event]],
    include_usage: bool,
    ticket: Ticket,
    out: asyncio.Queue[str | None],
) -> None:
    """Generate on the model and queue the SSE lines, never waiting on the client with the model held.

    A client that stops reading for ``model_idle_timeout`` seconds (a full buffer) loses its
    answer and the model goes to the next request.
    """
    idle = state.settings.model_idle_timeout
    try:
        async with state.queue.slot(ticket), _events(state, run) as events:
            async for line in _sse_lines(name, events, include_usage):
                if out.full():
                    try:
                        await asyncio.wait_for(out.put(line), idle)
                    except asyncio.TimeoutError:
                        raise _Stalled from None
                else:
                    out.put_nowait(line)
    except _Stalled:
        _log.warning("a streaming client stopped reading for %g s: its answer was cut", idle)
        return  # nobody reads: nothing more to queue
    except Busy as exc:
        await out.put(_sse(wire.error_payload(str(exc), "rate_limit_exceeded", "rate_limit_exceeded")))
    except ToolkitError as exc:
        await out.put(_sse({"error": describe(exc)}))
    except Exception as exc:  # headers are sent: the error goes in the stream, its detail to the log
        _log.error("a streamed chat completion failed", exc_info=exc)
        message = f"internal error ({type(exc).__name__}) - see the server log"
        await out.put(_sse(wire.error_payload(message, "server_error", "internal_error")))
    await out.put("data: [DONE]\n\n")
    await out.put(None)


async def _sse_lines(name: str, events: AsyncIterator[Event], include_usage: bool) -> AsyncIterator[str]:
    rid, created = wire.new_id(), int(time.time())
    first: dict[str, Any] | None = wire.chunk_payload(
        rid, name, created, {"role": "assistant", "content": ""}
    )
    final: AIMessage | None = None
    # A text chunk is the same JSON every time but for its text: built once, filled per token.
    head, _, tail = _sse(wire.chunk_payload(rid, name, created, {"content": ""})).partition('"content": ""')
    async for kind, value in events:
        if kind == "sources" and first is not None:
            first["sources"] = [_source(s) for s in value]
        elif kind == "text":
            if first is not None:
                yield _sse(first)
                first = None
            yield f'{head}"content": {json.dumps(value)}{tail}'
        elif kind == "final":
            final = value
    if first is not None:
        yield _sse(first)
    final = final or AIMessage("")
    if final.tool_calls:
        yield _sse(wire.chunk_payload(rid, name, created, {"tool_calls": wire.stream_calls(final)}))
    yield _sse(wire.chunk_payload(rid, name, created, {}, wire.finish_reason(final)))
    if include_usage:
        yield _sse(wire.chunk_payload(rid, name, created, None, usage=wire.usage_payload(final)))
