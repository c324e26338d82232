"""Async streams of the shared in-process model: each runs on one thread of its own.

LangChain's default ``astream`` pulls each chunk of a sync stream on whichever executor thread
is free, so two concurrent async streams could look to the model's gate like one thread
asking twice (``ModelReentryError``). ``ChatLlama`` streams on one thread per stream
(``toolkit.backends.llamacpp.threads``); these tests show concurrent async streams finish with
the answers they give alone, and that an abandoned async stream gives the model back.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from toolkit.backends.llamacpp import ChatLlama
from toolkit.backends.llamacpp.threads import iterate_in_thread

# Eight: more than the default executor's threads on 2 cores, where LangChain's default
# astream either hits a false ModelReentryError (measured) or runs out of threads.
QUESTIONS = [
    f"Name a {thing}." for thing in ("fruit", "colour", "animal", "city", "river", "tree", "bird", "song")
]


async def test_iterate_in_thread_keeps_one_thread_and_closes_the_generator() -> None:
    import threading

    seen: list[int] = []
    closed: list[bool] = []

    def numbers():  # type: ignore[no-untyped-def]
        try:
            for n in range(100):
                seen.append(threading.get_ident())
                yield n
        finally:
            closed.append(True)

    got = []
    stream = iterate_in_thread(numbers, name="t")
    async for n in stream:
        got.append(n)
        if n == 4:
            break
    await stream.aclose()
    for _ in range(100):
        if closed:
            break
        await asyncio.sleep(0.01)
    assert got == [0, 1, 2, 3, 4]
    assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    assert len(seen) <= 6  # advanced only when asked: no run-ahead
    assert closed == [True]


async def test_iterate_in_thread_raises_the_generators_error() -> None:
    def failing():  # type: ignore[no-untyped-def]
        yield 1
        raise ValueError("boom")

    got = []
    with pytest.raises(ValueError, match="boom"):
        async for n in iterate_in_thread(failing, name="t"):
            got.append(n)
    assert got == [1]


@pytest.fixture(scope="module")
def llm(embedded_model: str) -> ChatLlama:
    return ChatLlama(model_path=embedded_model, temperature=0.0, seed=1, max_tokens=10, n_threads=1)


async def _answer(llm: ChatLlama, question: str) -> str:
    return "".join([str(chunk.content) async for chunk in llm.astream(question)])


@pytest.mark.integration
async def test_concurrent_async_streams_all_finish_with_their_own_answers(llm: ChatLlama) -> None:
    alone = {q: str(llm.invoke(q).content) for q in QUESTIONS}
    together = await asyncio.gather(*(_answer(llm, q) for q in QUESTIONS))
    assert dict(zip(QUESTIONS, together, strict=True)) == alone
    assert not llm.loaded.lock.busy


@pytest.mark.integration
async def test_an_abandoned_async_stream_gives_the_model_back(llm: ChatLlama) -> None:
    stream = llm.astream("Write a long story about a lighthouse.")
    await anext(stream)
    await stream.aclose()  # what the event loop's async-generator finalizer does on collection
    end = time.monotonic() + 5
    while llm.loaded.lock.busy and time.monotonic() < end:
        await asyncio.sleep(0.02)
    assert not llm.loaded.lock.busy
    other = llm.model_copy(update={"model_wait_timeout": 0.0})
    assert str((await other.ainvoke("Name a fruit.")).content) == str(llm.invoke("Name a fruit.").content)
