"""Our llama.cpp chat model on the real embedded SmolLM2-135M (no fake backend)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from gguf_writer import write_gguf
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from pydantic import BaseModel, Field

from toolkit import ChatLlama, get_chat_model
from toolkit.backends.llamacpp import native
from toolkit.backends.llamacpp.runtime import loaded_models, unload_all
from toolkit.errors import ContextOverflowError, ModelLoadError, UnsupportedInputError

pytestmark = pytest.mark.integration

PROMPTS = [
    "What is the capital of France?",
    "Name three colors.",
    "Write a haiku about rain.",
    "What is 2+2?",
]


@pytest.fixture(scope="module")
def llm(embedded_model: str) -> ChatLlama:
    return ChatLlama(model_path=embedded_model, temperature=0.0, max_tokens=48, seed=1)


def test_invoke_reports_usage_and_speed(llm: ChatLlama) -> None:
    msg = llm.invoke("Tell me a joke")
    assert isinstance(msg, AIMessage) and msg.content.strip()
    usage = msg.usage_metadata
    assert usage is not None
    assert usage["input_tokens"] == llm.get_num_tokens_from_messages([HumanMessage("Tell me a joke")])
    assert 0 < usage["output_tokens"] <= 48
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    meta = msg.response_metadata
    assert meta["finish_reason"] in ("stop", "length")
    assert meta["n_ctx"] == 8192  # the model's own context, not a 512 default
    assert meta["time_to_first_token"] > 0
    if usage["output_tokens"] > 1:
        assert meta["tokens_per_second"] > 0


def test_stream_yields_tokens_then_usage(llm: ChatLlama) -> None:
    chunks = list(llm.stream("Tell me a joke"))
    text_chunks = [c for c in chunks if c.content]
    assert len(text_chunks) > 3
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert chunks[-1].usage_metadata is not None
    assert "".join(str(c.content) for c in chunks) == llm.invoke("Tell me a joke").content


def test_batch_and_async(llm: ChatLlama) -> None:
    sequential = [llm.invoke(p).content for p in PROMPTS[:2]]
    assert [m.content for m in llm.batch(PROMPTS[:2])] == sequential

    async def run() -> tuple[str, str]:
        a = await llm.ainvoke(PROMPTS[0])
        parts = [str(c.content) async for c in llm.astream(PROMPTS[1])]
        return str(a.content), "".join(parts)

    assert list(asyncio.run(run())) == sequential


def test_stop_sequences(llm: ChatLlama) -> None:
    full = str(llm.invoke(PROMPTS[1]).content)
    words = full.split()
    assert len(words) >= 3, full
    stop_word = words[2]
    cut = str(llm.invoke(PROMPTS[1], stop=[stop_word]).content)
    assert stop_word not in cut
    assert full.startswith(cut)
    bound = ChatLlama(model_path=llm.model_path, temperature=0.0, max_tokens=48, stop=[stop_word])
    assert str(bound.invoke(PROMPTS[1]).content) == cut


def test_seed_makes_sampling_repeatable(embedded_model: str) -> None:
    hot = ChatLlama(model_path=embedded_model, temperature=1.0, max_tokens=24)
    a = [hot.invoke("Tell me a story", seed=s).content for s in (1, 2, 3)]
    b = [hot.invoke("Tell me a story", seed=s).content for s in (1, 2, 3)]
    assert a == b
    assert len(set(a)) > 1


def _seeded(llm: ChatLlama, messages: Any, **kwargs: Any) -> tuple[str, int]:
    msg = llm.invoke(messages, seed=1, **kwargs)
    assert msg.usage_metadata is not None
    return str(msg.content), msg.usage_metadata["input_token_details"]["cache_read"]


# Prompts whose last token llama.cpp computes differently alone than inside the prompt's batch
# (what a fully cached prompt used to get): the seeded answer then changed on the second call.
@pytest.mark.parametrize("prompt", ["Tell me a joke", "Translate into French: I love programming."])
def test_seed_repeats_whatever_the_cache_holds(embedded_model: str, prompt: str) -> None:
    hot = ChatLlama(model_path=embedded_model, temperature=1.0, max_tokens=24)
    unload_all()  # a new context, as in a new process
    fresh, cached = _seeded(hot, prompt)
    assert cached == 0
    again, whole = _seeded(hot, prompt)  # the whole prompt is in the cache
    assert whole >= hot.get_num_tokens_from_messages([HumanMessage(prompt)]) - 2
    hot.invoke("What is 2+2?", seed=5)  # shares the system prompt and the user header
    after_other, part = _seeded(hot, prompt)
    assert 0 < part < whole
    hot.invoke(prompt, seed=9, max_tokens=120)  # a long answer to the same prompt in the cache
    after_answer, _ = _seeded(hot, prompt)
    assert [again, after_other, after_answer] == [fresh] * 3


def test_seeded_second_turn_repeats_on_a_new_context(embedded_model: str) -> None:
    hot = ChatLlama(model_path=embedded_model, temperature=1.0, max_tokens=32)
    turn1 = [HumanMessage("Tell me a joke")]
    first, _ = _seeded(hot, turn1)
    turn2 = [*turn1, AIMessage(first), HumanMessage("Another one, please.")]
    warm, cached = _seeded(hot, turn2)  # turn 1's prompt, and its answer, are in the cache
    assert cached >= hot.get_num_tokens_from_messages(turn1) - 1
    unload_all()
    cold, cached = _seeded(hot, turn2)
    assert cached == 0
    assert cold == warm


def test_kv_cache_is_reused_across_turns(llm: ChatLlama) -> None:
    turn1 = [SystemMessage("You are a concise assistant."), HumanMessage("Name a red fruit.")]
    first = llm.invoke(turn1)
    turn2 = [*turn1, AIMessage(str(first.content)), HumanMessage("And a yellow one?")]
    second = llm.invoke(turn2)
    assert second.usage_metadata is not None
    cached = second.usage_metadata["input_token_details"]["cache_read"]
    assert cached >= llm.get_num_tokens_from_messages(turn1) - 1
    assert second.response_metadata["prompt_tokens_cached"] == cached


def test_prompt_over_the_window_is_refused_not_truncated(embedded_model: str) -> None:
    small = ChatLlama(model_path=embedded_model, n_ctx=256, temperature=0.0, max_tokens=8)
    messages = [HumanMessage("word " * 400)]
    n = small.get_num_tokens_from_messages(messages)
    assert n > 256
    with pytest.raises(
        ContextOverflowError,
        match=rf"the prompt is {n} tokens but the context window is 256: it is {n - 255} tokens too long",
    ) as info:
        small.invoke(messages)
    assert info.value.overflow == n - 255
    # the model is still usable afterwards
    assert small.invoke("Hi").content


def test_answer_stops_at_the_window_and_says_so(embedded_model: str) -> None:
    small = ChatLlama(model_path=embedded_model, n_ctx=256, temperature=0.0, max_tokens=None)
    messages = [HumanMessage("Repeat after me: " + "la " * 200)]
    msg = small.invoke(messages)
    assert msg.usage_metadata is not None
    assert msg.usage_metadata["total_tokens"] <= 256
    assert msg.response_metadata["finish_reason"] in ("stop", "context_window")


def test_generation_timeout(embedded_model: str) -> None:
    slow = ChatLlama(model_path=embedded_model, temperature=0.0, max_tokens=400, timeout=0.05)
    msg = slow.invoke("Write a long story about the sea.")
    assert msg.response_metadata["finish_reason"] == "timeout"
    assert msg.usage_metadata is not None and msg.usage_metadata["output_tokens"] < 400


def test_instances_share_one_loaded_model(embedded_model: str, llm: ChatLlama) -> None:
    other = ChatLlama(model_path=embedded_model, temperature=0.9)
    assert other.loaded is llm.loaded
    different = ChatLlama(model_path=embedded_model, n_ctx=512)
    assert different.loaded is not llm.loaded
    assert different.context_window == 512


def test_concurrent_threads_get_complete_uncorrupted_answers(llm: ChatLlama) -> None:
    expected = {p: llm.invoke(p).content for p in PROMPTS}
    original = native.native_tokens
    active = 0
    peak = 0
    guard = threading.Lock()

    def watched(*args: Any, **kwargs: Any) -> Any:
        nonlocal active, peak
        inner = original(*args, **kwargs)

        def gen() -> Any:
            nonlocal active, peak
            with guard:
                active += 1
                peak = max(peak, active)
            try:
                yield from inner
            finally:
                with guard:
                    active -= 1

        return gen()

    native.native_tokens = watched  # the token loop of plain chat
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            # invoke and stream from different threads at once
            futures = [pool.submit(lambda p=p: llm.invoke(p).content) for p in PROMPTS * 2]
            futures += [
                pool.submit(lambda p=p: "".join(str(c.content) for c in llm.stream(p))) for p in PROMPTS
            ]
            answers = [f.result(timeout=300) for f in futures]
    finally:
        native.native_tokens = original
    assert answers == [expected[p] for p in PROMPTS * 3]
    assert peak == 1, "two generations ran on one llama.cpp context at once"


def test_abandoned_stream_releases_the_model(llm: ChatLlama) -> None:
    stream = llm.stream("Write a long story about the sea.")
    next(stream)
    stream.close()
    done = threading.Event()
    threading.Thread(target=lambda: (llm.invoke("Hi"), done.set()), daemon=True).start()
    assert done.wait(timeout=120), "the lock was not released by the abandoned stream"


class Joke(BaseModel):
    """A joke."""

    setup: str = Field(description="question that sets up the joke")
    punchline: str = Field(description="answer that resolves it")


def test_structured_output_is_schema_valid(embedded_model: str) -> None:
    llm = ChatLlama(model_path=embedded_model, temperature=0.0, max_tokens=120, repeat_penalty=1.1)
    joke = llm.with_structured_output(Joke).invoke("Tell me a joke about dogs")
    assert isinstance(joke, Joke) and joke.setup and joke.punchline
    as_dict = llm.with_structured_output(Joke.model_json_schema()).invoke("Tell me a joke about cats")
    assert set(as_dict) == {"setup", "punchline"}  # type: ignore[arg-type]
    anything = llm.with_structured_output(Joke.model_json_schema(), method="json_mode").invoke(
        "Describe a cat as JSON."
    )
    assert isinstance(anything, dict)
    raw = llm.with_structured_output(Joke, include_raw=True).invoke("Tell me a joke about birds")
    assert set(raw) == {"raw", "parsed", "parsing_error"}  # type: ignore[arg-type]
    assert isinstance(raw["raw"], AIMessage)  # type: ignore[index]


def test_images_are_refused_with_advice(llm: ChatLlama) -> None:
    msg = HumanMessage(
        content=[
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        ]
    )
    with pytest.raises(UnsupportedInputError, match=r"llama3\.2-vision"):
        llm.invoke([msg])


def test_unloadable_gguf_is_a_clear_error(tmp_path: Path) -> None:
    path = write_gguf(
        tmp_path / "empty-llama.gguf", {"general.architecture": "llama", "llama.context_length": 512}
    )
    with pytest.raises(ModelLoadError, match=r"llama\.cpp could not load empty-llama\.gguf"):
        ChatLlama(model_path=str(path)).invoke("Hi")


def test_seed_tutorial_tasks_in_a_few_lines() -> None:
    """The seed Colab's three tasks: a joke, a summary of a sentence, a French translation."""
    llm = get_chat_model(temperature=0, max_tokens=80)
    joke = (llm | StrOutputParser()).invoke("Tell me a joke")
    summary = (
        ChatPromptTemplate.from_template("Summarize in a few words: {text}") | llm | StrOutputParser()
    ).invoke({"text": "The quick brown fox jumps over the lazy dog while the farmer watches from the barn."})
    french = (
        ChatPromptTemplate.from_template("Translate into French: {text}") | llm | StrOutputParser()
    ).invoke({"text": "I love programming."})
    for answer in (joke, summary, french):
        assert isinstance(answer, str) and answer.strip()
    assert french.strip() != "I love programming."


def test_unload_all_frees_models_and_they_reload_on_demand(embedded_model: str) -> None:
    llm = ChatLlama(model_path=embedded_model, temperature=0.0, max_tokens=8)
    before = llm.loaded
    assert before in loaded_models()
    unload_all()
    assert loaded_models() == []
    assert llm.invoke("Hi").content
    assert llm.loaded is not before
