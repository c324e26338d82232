"""Prompt evaluation with KV-cache reuse (toolkit.backends.llamacpp.decoding.evaluate_prompt),
on a stand-in for ``llama_cpp.Llama`` that records the batches it evaluates.

The real model's behaviour (a seeded answer repeats whatever the cache holds) is tested in
tests/integration/test_llamacpp_chat.py; here, the rules that make it so.
"""

from __future__ import annotations

import pytest

from toolkit.backends.llamacpp.decoding import MIN_EVALUATED, evaluate_prompt, prompt_batches
from toolkit.backends.llamacpp.runtime import LoadedModel, LoadKey


class _Ctx:
    def __init__(self, llama: _FakeLlama) -> None:
        self.llama = llama

    def kv_cache_seq_rm(self, seq: int, start: int, end: int) -> bool:
        return self.llama.can_cut


class _FakeLlama:
    """``n_tokens``, ``_input_ids``, ``reset``, ``eval`` and ``n_batch`` as Llama has them."""

    def __init__(self, n_batch: int = 8) -> None:
        self.n_batch = n_batch
        self.n_tokens = 0
        self.ids: list[int] = []
        self.batches: list[list[int]] = []
        self.can_cut = True
        self._ctx = _Ctx(self)

    @property
    def _input_ids(self) -> list[int]:
        return self.ids[: self.n_tokens]

    def reset(self) -> None:
        self.n_tokens = 0

    def eval(self, tokens: list[int]) -> None:
        assert len(tokens) <= self.n_batch
        self.batches.append(list(tokens))
        self.ids[self.n_tokens :] = tokens
        self.n_tokens += len(tokens)

    def decode_answer(self, tokens: list[int]) -> None:
        """What generation leaves behind: tokens evaluated one at a time."""
        for t in tokens:
            self.eval([t])


def _loaded(llama: _FakeLlama) -> LoadedModel:
    key = LoadKey(path="x.gguf", n_ctx=64, n_gpu_layers=0, n_threads=1, n_batch=llama.n_batch)
    return LoadedModel(key=key, llama=llama, info=None)  # type: ignore[arg-type]


PROMPT = list(range(100, 112))  # 12 tokens


@pytest.mark.parametrize(("n", "expected"), [(1, [1]), (8, [8]), (9, [7, 2]), (17, [8, 7, 2]), (12, [8, 4])])
def test_prompt_batches_never_end_in_a_lone_token(n: int, expected: list[int]) -> None:
    assert prompt_batches(n, 8) == expected
    assert sum(prompt_batches(n, 8)) == n


@pytest.mark.parametrize("repeatable", [True, False])
def test_a_fully_cached_prompt_evaluates_its_last_tokens_as_a_batch(repeatable: bool) -> None:
    llama = _FakeLlama()
    loaded = _loaded(llama)
    assert evaluate_prompt(loaded, PROMPT, repeatable=repeatable) == 0
    llama.batches.clear()
    kept = evaluate_prompt(loaded, PROMPT, repeatable=repeatable)
    assert kept == len(PROMPT) - MIN_EVALUATED
    assert llama.batches == [PROMPT[-MIN_EVALUATED:]]  # not the last token alone
    assert llama._input_ids == PROMPT


def test_a_repeatable_call_evaluates_an_earlier_answer_again() -> None:
    llama = _FakeLlama()
    loaded = _loaded(llama)
    evaluate_prompt(loaded, PROMPT, repeatable=True)
    answer = [7, 8, 9, 10, 11]
    llama.decode_answer(answer[:-1])  # the last sampled token is never evaluated
    loaded.n_tokens_mark = llama.n_tokens  # as decode() notes when generation ends
    turn2 = [*PROMPT, *answer, 1, 2, 3]
    llama.batches.clear()
    assert evaluate_prompt(loaded, turn2, repeatable=True) == len(PROMPT)
    assert llama.batches == [turn2[len(PROMPT) :][:8]]  # the answer comes back in one batch
    assert loaded.batch_evaluated == len(turn2)
    # Without a seed the answer's KV is kept; what is evaluated on top of it is not noted.
    llama.decode_answer([4, 5])
    loaded.n_tokens_mark = llama.n_tokens
    turn3 = [*turn2, 4, 5, 6, 6, 6]
    assert evaluate_prompt(loaded, turn3, repeatable=False) == len(turn2) + 2
    assert loaded.batch_evaluated == len(turn2)
    assert evaluate_prompt(loaded, turn3, repeatable=True) == len(turn2)


def test_other_use_of_the_context_voids_the_note() -> None:
    llama = _FakeLlama()
    loaded = _loaded(llama)
    evaluate_prompt(loaded, PROMPT, repeatable=True)
    llama.eval([1, 2])  # someone ran the Llama directly
    assert evaluate_prompt(loaded, [*PROMPT, 1, 2, 3, 4], repeatable=True) == 0


def test_a_state_that_cannot_be_cut_is_evaluated_in_full() -> None:
    llama = _FakeLlama()
    loaded = _loaded(llama)
    evaluate_prompt(loaded, PROMPT, repeatable=False)
    llama.can_cut = False  # recurrent models: no partial KV removal
    llama.batches.clear()
    assert evaluate_prompt(loaded, [*PROMPT, 1, 2], repeatable=False) == 0
    assert [len(b) for b in llama.batches] == [8, 6]


def test_a_shared_prefix_of_another_prompt_is_reused() -> None:
    llama = _FakeLlama()
    loaded = _loaded(llama)
    evaluate_prompt(loaded, PROMPT, repeatable=True)
    other = [*PROMPT[:6], 1, 2, 3]
    llama.batches.clear()
    assert evaluate_prompt(loaded, other, repeatable=True) == 6
    assert llama.batches == [[1, 2, 3]]
