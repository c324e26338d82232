"""The shared in-process model cannot deadlock (issue 13, item 3), on the real embedded model.

Each test feeds one of the faults found at 1aff13e and asserts the bounded outcome: a
same-thread re-entry, a paused stream, an abandoned one, a caller that waits too long, a
``timeout`` during prompt evaluation, a tool timeout and Ctrl-C in the consumer.
"""

from __future__ import annotations

import gc
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from agents.guards import ToolGuardMiddleware
from toolkit.backends.llamacpp import ChatLlama
from toolkit.backends.llamacpp.gate import ModelGate
from toolkit.errors import GenerationLimitError, ModelBusyError, ModelReentryError

PROMPT = "Write a short story about a cat who learns to fly."


# -- the gate alone (fast) ---------------------------------------------------------------


def test_gate_refuses_reentry_and_never_revokes_a_holder_inside_a_call() -> None:
    forgotten: list[bool] = []
    gate = ModelGate("m.gguf", on_revoke=lambda: forgotten.append(True))
    lease = gate.acquire(idle_timeout=0.2)
    t0 = time.perf_counter()
    with pytest.raises(ModelReentryError):
        gate.acquire(wait_timeout=5)
    assert time.perf_counter() - t0 < 1.0
    with ThreadPoolExecutor(1) as pool:
        # Active (inside a llama.cpp call): not revoked however long it takes.
        with pytest.raises(ModelBusyError):
            pool.submit(gate.acquire, wait_timeout=0.6).result()
        lease.pause()  # at a yield: revocable after 0.2 s
        t0 = time.perf_counter()
        other = pool.submit(gate.acquire, wait_timeout=5).result()
        assert 0.15 < time.perf_counter() - t0 < 1.0
    assert forgotten == [True] and not lease.resume()
    lease.release()  # a revoked lease gives back nothing
    assert gate.owner is other
    other.release()
    assert not gate.busy


# -- the real embedded model --------------------------------------------------------------


@pytest.fixture(scope="module")
def llm(embedded_model: str) -> ChatLlama:
    return ChatLlama(model_path=embedded_model, temperature=0.0, seed=1, max_tokens=12, n_threads=1)


def _with(llm: ChatLlama, **fields: Any) -> ChatLlama:
    """Another ChatLlama on the same shared model, with other fields."""
    return llm.model_copy(update=fields)


def _free(llm: ChatLlama, within: float = 2.0) -> bool:
    end = time.monotonic() + within
    while llm.loaded.lock.busy and time.monotonic() < end:
        time.sleep(0.01)
    return not llm.loaded.lock.busy


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text
    print(f"{type(exc).__name__}: {text}")
    return text


@pytest.mark.integration
def test_same_thread_reentry_is_refused_at_once(llm: ChatLlama) -> None:
    stream = llm.stream(PROMPT)
    next(stream)  # the stream holds the model
    t0 = time.perf_counter()
    with pytest.raises(ModelReentryError) as caught:
        llm.invoke("What is 2+2?")
    elapsed = time.perf_counter() - t0
    assert elapsed < 1.0
    assert "close its open stream" in _one_line(caught.value)
    stream.close()
    assert _free(llm)
    assert llm.invoke("What is 2+2?").content  # the model is usable again


@pytest.mark.integration
def test_paused_stream_loses_the_model_after_idle_timeout(llm: ChatLlama) -> None:
    alone = llm.invoke("Name three colors.").content
    paused_llm, other = _with(llm, model_idle_timeout=1.0), _with(llm, model_wait_timeout=10)
    stream = paused_llm.stream(PROMPT)
    first = str(next(stream).content)  # paused from here: this thread reads nothing more
    t0 = time.perf_counter()
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(other.invoke, "Name three colors.").result()
    waited = time.perf_counter() - t0
    assert 0.9 <= waited < 5.0
    assert answer.content == alone  # it did not reuse the paused stream's KV state
    with pytest.raises(GenerationLimitError) as caught:
        list(stream)
    assert caught.value.partial == first  # what was streamed is kept
    assert "LLAMA_TOOLKIT_MODEL_IDLE_TIMEOUT" in _one_line(caught.value)
    assert _free(llm)


@pytest.mark.integration
def test_abandoned_stream_releases_the_model_when_collected(llm: ChatLlama) -> None:
    stream = llm.stream(PROMPT)
    next(stream)
    assert llm.loaded.lock.busy
    del stream
    gc.collect()
    assert not llm.loaded.lock.busy
    with ThreadPoolExecutor(1) as pool:  # another thread gets it without waiting
        assert pool.submit(_with(llm, model_wait_timeout=0).invoke, "Hi").result().content is not None


@pytest.mark.integration
def test_ctrl_c_in_the_consumer_releases_the_model(llm: ChatLlama) -> None:
    with pytest.raises(KeyboardInterrupt):
        for _chunk in llm.stream(PROMPT):
            raise KeyboardInterrupt
    gc.collect()
    assert not llm.loaded.lock.busy


@pytest.mark.integration
@pytest.mark.parametrize("wait", [0.0, 0.5])
def test_waiting_caller_gets_model_busy_after_wait_timeout(llm: ChatLlama, wait: float) -> None:
    stream = _with(llm, model_idle_timeout=60).stream(PROMPT)
    next(stream)
    try:
        with ThreadPoolExecutor(1) as pool:
            t0 = time.perf_counter()
            future = pool.submit(_with(llm, model_wait_timeout=wait).invoke, "Hi")
            with pytest.raises(ModelBusyError) as caught:
                future.result()
            elapsed = time.perf_counter() - t0
        assert not isinstance(caught.value, ModelReentryError)
        assert wait <= elapsed < wait + 0.5
        assert "LLAMA_TOOLKIT_MODEL_WAIT_TIMEOUT" in _one_line(caught.value)
        assert list(stream)  # the holder was not disturbed
    finally:
        stream.close()


@pytest.mark.integration
def test_timeout_stops_prompt_evaluation_between_batches(embedded_model: str) -> None:
    small_batches = ChatLlama(
        model_path=embedded_model, temperature=0.0, seed=1, max_tokens=1, n_batch=32, n_ctx=4096, n_threads=1
    )
    text = " ".join(f"item {i} is a number." for i in range(60))  # ~500 tokens, 16 batches

    def run(first: str, timeout: float | None) -> tuple[Any, float]:
        llm = _with(small_batches, timeout=timeout)
        t0 = time.perf_counter()
        msg = llm.invoke(f"{first} {text}")
        return msg, time.perf_counter() - t0

    full, full_seconds = run("Alpha", None)  # the whole prompt, nothing cached
    prompt_tokens = full.usage_metadata["input_tokens"]
    cut, cut_seconds = run("Beta", full_seconds / 8)
    evaluated = small_batches.loaded.llama.n_tokens
    print(
        f"prompt {prompt_tokens} tokens: full {full_seconds:.2f} s; timeout after {evaluated} ({cut_seconds:.2f} s)"
    )
    assert cut.response_metadata["finish_reason"] == "timeout"
    assert cut.content == "" and cut.usage_metadata["output_tokens"] == 0
    assert evaluated < prompt_tokens / 2
    assert cut_seconds < full_seconds / 2


@pytest.mark.integration
def test_tool_timeout_cancels_the_generation_it_started(llm: ChatLlama) -> None:
    long_llm = _with(llm, max_tokens=400)
    pieces: list[str] = []
    outcome: dict[str, BaseException] = {}

    def tool(_request: Any) -> ToolMessage:
        # Answers are streamed one after another until the guard cancels: the guard fires
        # mid-generation whatever the length of one answer (a short one made this flaky).
        try:
            for _ in range(200):
                for chunk in long_llm.stream("Count from 1 to 300, separated by commas."):
                    pieces.append(str(chunk.content))
                    time.sleep(0.02)  # a slow consumer
        except BaseException as exc:
            outcome["error"] = exc
            raise
        return ToolMessage("done", tool_call_id="1")

    request = SimpleNamespace(tool_call={"name": "slow_model_tool", "id": "1", "args": {}})
    guard = ToolGuardMiddleware(timeout=0.5)
    message = guard.wrap_tool_call(request, tool)  # type: ignore[arg-type]
    at_timeout = len(pieces)
    assert message.status == "error" and "timed out" in str(message.content)
    assert _free(llm, within=1.0)
    time.sleep(0.3)
    print(f"tool timeout: {at_timeout} pieces at the timeout, {len(pieces)} in all; model free")
    assert len(pieces) <= at_timeout + 2  # stopped within a token or two
    assert at_timeout > 0
    assert isinstance(outcome.get("error"), GenerationLimitError)
    assert "timed out after 0.5 s" in _one_line(outcome["error"])
    assert threading.active_count() < 50
