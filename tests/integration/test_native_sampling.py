"""The native token loop (toolkit.backends.llamacpp.native) on the real embedded SmolLM2-135M:
the tokens ``Llama.generate`` samples, and a ``Llama`` left as ``Llama.generate`` leaves it."""

from __future__ import annotations

import itertools
from typing import Any

import llama_cpp
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from toolkit import ChatLlama
from toolkit.backends.llamacpp.decoding import evaluate_prompt
from toolkit.backends.llamacpp.native import chain_for, generate_options, native_tokens

pytestmark = pytest.mark.integration

PROMPTS = ["Tell me a joke", "Write a haiku about rain.", "Explain how a refrigerator keeps food cold."]
N = 48


@pytest.fixture(scope="module")
def llm(embedded_model: str) -> ChatLlama:
    return ChatLlama(model_path=embedded_model, temperature=0.0, max_tokens=N, seed=1)


def _sampled(
    llm: ChatLlama, prompt: str, sampling: dict[str, Any], *, native: bool, switch: bool, n: int = N
) -> Any:
    """``N`` tokens after ``prompt``, and the ``Llama``'s ``n_tokens`` and ``_input_ids`` then.
    ``switch``: the first token is sampled alone, then the rest by a new loop (as after a
    grammar that decides only the first token)."""
    loaded = llm.loaded
    llama = loaded.llama
    tokens = llama.tokenize(llm.render_prompt([HumanMessage(prompt)]).encode(), add_bos=False, special=True)

    def loop(prompt_tokens: list[int], pending: int | None) -> Any:
        if native:
            return native_tokens(llama, sampling, sampling["temperature"], pending=pending)
        return llama.generate(prompt_tokens, **generate_options(sampling, sampling["temperature"]))

    with loaded.lock:
        llama.reset()
        evaluate_prompt(loaded, tokens, repeatable=True)
        llama.set_seed(1234)
        gen = loop(tokens, None)
        out = [next(gen)] if switch else list(itertools.islice(gen, n))
        gen.close()
        if switch:
            gen = loop([*tokens, out[0]], out[0])
            out += itertools.islice(gen, n - 1)
            gen.close()
        return out, llama.n_tokens, llama._input_ids.tolist()


def _after_first_reference(llm: ChatLlama, prompt: str, sampling: dict[str, Any]) -> Any:
    """What an answer whose first token came from another loop must continue with: llama.cpp's
    own chain, its penalties sampler included, having accepted that first token (as one
    uninterrupted ``Llama.generate`` run would have), decoding through ``Llama.eval``."""
    loaded = llm.loaded
    llama = loaded.llama
    tokens = llama.tokenize(llm.render_prompt([HumanMessage(prompt)]).encode(), add_bos=False, special=True)
    with loaded.lock:
        llama.reset()
        evaluate_prompt(loaded, tokens, repeatable=True)
        llama.set_seed(1234)
        gen = llama.generate(tokens, **generate_options(sampling, sampling["temperature"]))
        first = next(gen)
        gen.close()
        chain = chain_for(llama, sampling, sampling["temperature"])
        try:
            llama_cpp.llama_sampler_accept(chain.sampler, first)
            out = [first]
            llama.eval([first])
            for i in range(N - 1):
                out.append(int(llama_cpp.llama_sampler_sample(chain.sampler, llama._ctx.ctx, -1)))
                if i < N - 2:
                    llama.eval([out[-1]])
        finally:
            chain.close()
        return out, llama.n_tokens, llama._input_ids.tolist()


@pytest.mark.parametrize("switch", [False, True], ids=["whole", "after-first"])
@pytest.mark.parametrize(
    ("temperature", "repeat_penalty"),
    [(0.0, 1.1), (0.8, 1.1), (0.0, 1.0)],
    ids=["greedy", "seeded-0.8", "greedy-argmax"],  # the last one: no chain, the top logit read
)
@pytest.mark.parametrize("prompt", PROMPTS)
def test_native_loop_samples_what_llama_generate_samples(
    llm: ChatLlama, prompt: str, temperature: float, repeat_penalty: float, switch: bool
) -> None:
    sampling = {
        "temperature": temperature,
        "top_k": 40,
        "top_p": 0.95,
        "min_p": 0.05,
        "repeat_penalty": repeat_penalty,
    }
    ours = _sampled(llm, prompt, sampling, native=True, switch=switch)
    if switch:  # the first token counts in the penalty window, as in one uninterrupted answer
        theirs = _after_first_reference(llm, prompt, sampling)
    else:
        theirs = _sampled(llm, prompt, sampling, native=False, switch=switch)
    assert len(ours[0]) == N
    assert ours == theirs  # the tokens, n_tokens and the ids in the KV cache


@pytest.mark.parametrize("temperature", [0.0, 0.8], ids=["greedy", "seeded-0.8"])
@pytest.mark.parametrize("repeat_penalty", [1.1, 1.5])
def test_the_repeat_penalty_matches_past_its_64_token_window(
    llm: ChatLlama, temperature: float, repeat_penalty: float
) -> None:
    """160 tokens: the window of the last 64 sampled tokens fills and slides; a strong penalty
    (1.5) changes many picks, so a wrong window or rounding would show."""
    sampling = {"temperature": temperature, "top_k": 40, "top_p": 0.95, "min_p": 0.05}
    sampling["repeat_penalty"] = repeat_penalty
    prompt = "List the numbers from one to fifty in words, separated by commas."
    ours = _sampled(llm, prompt, sampling, native=True, switch=False, n=160)
    theirs = _sampled(llm, prompt, sampling, native=False, switch=False, n=160)
    plain = _sampled(llm, prompt, {**sampling, "repeat_penalty": 1.0}, native=True, switch=False, n=160)
    assert len(ours[0]) == 160 and ours == theirs
    assert ours[0] != plain[0]  # the penalty did change the answer: the comparison means something


def test_chat_text_is_llama_generates(llm: ChatLlama) -> None:
    """ChatLlama (native loop) streams the text of Llama.generate's tokens, greedy and seeded."""
    for temperature in (0.0, 0.8):
        sampling = {
            "temperature": temperature,
            "top_k": 40,
            "top_p": 0.95,
            "min_p": 0.05,
            "repeat_penalty": 1.1,
        }
        tokens, _, _ = _sampled(llm, PROMPTS[0], sampling, native=False, switch=False)
        llama = llm.loaded.llama
        eog = next(
            (i for i, t in enumerate(tokens) if llama_cpp.llama_vocab_is_eog(llama._model.vocab, t)), N
        )
        expected = llama.detokenize(tokens[:eog]).decode("utf-8", errors="replace")
        llama.reset()  # the prompt evaluated cold, in the batches _sampled evaluates it in
        answer = llm.invoke(PROMPTS[0], temperature=temperature, repeat_penalty=1.1, seed=1234)
        assert answer.content == expected


def test_a_second_turn_reuses_the_answers_kv_entries(llm: ChatLlama) -> None:
    """The answer's tokens, decoded one by one by the native loop, are in the KV cache as
    ``n_tokens`` and ``_input_ids`` say: a non-repeatable second turn reuses them."""
    llama = llm.loaded.llama
    turn1 = [SystemMessage("You are a concise assistant."), HumanMessage("Name a red fruit.")]
    first = llm.invoke(turn1, temperature=0.8, seed=None, max_tokens=24)
    assert first.usage_metadata is not None
    prompt1 = first.usage_metadata["input_tokens"]
    generated = first.usage_metadata["output_tokens"]
    # Every token but the last (the end of turn, or the 24th) was decoded.
    assert llama.n_tokens == prompt1 + generated - (first.response_metadata["finish_reason"] == "length")
    turn2 = [*turn1, AIMessage(str(first.content)), HumanMessage("And a yellow one?")]
    second = llm.invoke(turn2, temperature=0.8, seed=None, max_tokens=8)
    assert second.usage_metadata is not None and str(second.content).strip()
    cached = second.usage_metadata["input_token_details"]["cache_read"]
    assert prompt1 < cached <= prompt1 + generated
