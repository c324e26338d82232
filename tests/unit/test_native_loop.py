"""The native token loop (toolkit.backends.llamacpp.native), on a stand-in ``Llama`` whose
llama.cpp calls (``llama_sampler_sample``, ``llama_decode``) are recorded instead of run.

That its tokens are those of ``Llama.generate`` on the real model is tested in
tests/integration/test_native_sampling.py; here, the order of the calls and the state the
loop leaves behind.
"""

from __future__ import annotations

import ctypes
from typing import Any

import llama_cpp
import numpy as np
import pytest

from toolkit.backends.llamacpp import native
from toolkit.backends.llamacpp.stops import StopMatcher

SAMPLING = {"temperature": 0.0, "top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.1}


class _Sampler:
    def __init__(self) -> None:
        self.sampler = object()
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Ctx:
    ctx = object()


class _FakeLlama:
    def __init__(self, n_tokens: int) -> None:
        self.n_tokens = n_tokens
        self.input_ids = np.zeros(32, dtype=np.intc)
        self.input_ids[:n_tokens] = range(100, 100 + n_tokens)
        self._ctx = _Ctx()
        self._requires_eval = True
        self.chains: list[dict[str, Any]] = []
        self.samplers: list[_Sampler] = []
        self.last_n_tokens_size = 64
        self.vocab = 128

    def n_vocab(self) -> int:
        return self.vocab

    def _init_sampler(self, **kwargs: Any) -> _Sampler:
        self.chains.append(kwargs)
        self.samplers.append(_Sampler())
        return self.samplers[-1]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """llama.cpp's sample and decode, recorded: samples 7, 8, 9, ... in turn."""
    log: list[tuple[Any, ...]] = []
    drawn = iter(range(7, 100))

    def sample(chain: Any, ctx: Any, idx: int) -> int:
        log.append(("sample", idx))
        return next(drawn)

    def decode(ctx: Any, batch: Any) -> int:
        log.append(("decode", batch.n_tokens, batch.token[0], batch.pos[0], bool(batch.logits[0])))
        return 0

    logits = (ctypes.c_float * 128)()  # what the repeat penalty reads
    monkeypatch.setattr(llama_cpp, "llama_sampler_sample", sample)
    monkeypatch.setattr(llama_cpp, "llama_decode", decode)
    monkeypatch.setattr(
        llama_cpp, "llama_get_logits_ith", lambda ctx, i: ctypes.cast(logits, ctypes.POINTER(ctypes.c_float))
    )
    return log


def test_a_token_is_decoded_only_when_the_next_one_is_asked_for(calls: list[tuple[Any, ...]]) -> None:
    llama = _FakeLlama(n_tokens=5)
    gen = native.native_tokens(llama, SAMPLING, 0.8)
    assert next(gen) == 7
    assert calls == [("sample", -1)]
    assert llama.n_tokens == 5  # the sampled token is not evaluated yet (as Llama.generate)
    assert next(gen) == 8
    assert calls[1:] == [("decode", 1, 7, 5, True), ("sample", -1)]
    assert (llama.n_tokens, list(llama.input_ids[:6]), llama._requires_eval) == (
        6,
        [100, 101, 102, 103, 104, 7],
        False,
    )
    gen.close()
    assert llama.n_tokens == 6 and llama.samplers[0].closed


def test_a_pending_token_is_decoded_first(calls: list[tuple[Any, ...]]) -> None:
    llama = _FakeLlama(n_tokens=3)
    gen = native.native_tokens(llama, SAMPLING, 0.8, pending=42)
    assert next(gen) == 7
    assert calls == [("decode", 1, 42, 3, True), ("sample", -1)]
    assert list(llama.input_ids[:4]) == [100, 101, 102, 42]
    gen.close()


def test_the_chain_is_llama_generates_own(calls: list[tuple[Any, ...]]) -> None:
    llama = _FakeLlama(n_tokens=3)
    gen = native.native_tokens(llama, SAMPLING, 0.8)
    next(gen)
    gen.close()
    # The repeat penalty is applied before the chain (RepeatPenalty), so the chain has none.
    assert llama.chains == [{"top_k": 40, "top_p": 0.95, "min_p": 0.05, "temp": 0.8, "repeat_penalty": 1.0}]


def test_a_decode_error_raises_and_frees(
    calls: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llama_cpp, "llama_decode", lambda ctx, batch: 1)
    llama = _FakeLlama(n_tokens=3)
    gen = native.native_tokens(llama, SAMPLING, 0.8)
    next(gen)
    with pytest.raises(RuntimeError, match="llama_decode returned 1"):
        next(gen)
    assert llama.n_tokens == 3 and llama.samplers[0].closed


@pytest.mark.parametrize(
    ("switch_to_text", "call_temperature", "expected"),
    [(False, None, 0.7), (False, 0.0, 0.0), (True, 0.0, 0.7)],
)
def test_without_a_grammar_the_native_loop_runs(
    monkeypatch: pytest.MonkeyPatch, switch_to_text: bool, call_temperature: float | None, expected: float
) -> None:
    seen: list[float] = []

    def fake(llama: Any, sampling: dict[str, Any], temperature: float, *, pending: int | None = None) -> Any:
        seen.append(temperature)
        yield 1

    monkeypatch.setattr(native, "native_tokens", fake)
    gen = native.generate_tokens(
        object(),
        [1, 2],
        {**SAMPLING, "temperature": 0.7},
        None,
        switch_to_text=switch_to_text,
        call_temperature=call_temperature,
    )
    assert list(gen) == [1] and seen == [expected]


def _llama_with_logits(monkeypatch: pytest.MonkeyPatch, *values: float) -> tuple[_FakeLlama, Any]:
    """A stand-in ``Llama`` with a vocabulary of ``len(values)`` whose last logits are ``values``
    (a ctypes array: the test sees what the sampler leaves in it)."""
    logits = (ctypes.c_float * len(values))(*values)
    monkeypatch.setattr(
        llama_cpp, "llama_get_logits_ith", lambda ctx, i: ctypes.cast(logits, ctypes.POINTER(ctypes.c_float))
    )
    llama = _FakeLlama(n_tokens=3)
    llama.vocab = len(values)
    return llama, logits


def test_greedy_without_penalties_reads_the_first_highest_logit(monkeypatch: pytest.MonkeyPatch) -> None:
    llama, _ = _llama_with_logits(monkeypatch, 0.5, 2.0, -1.0, 2.0, 1.0)
    sample, chain = native.sampler_for(llama, {**SAMPLING, "repeat_penalty": 1.0}, 0.0)
    assert (sample(), chain, llama.chains) == (1, None, [])  # llama.cpp's greedy: the first of equals


def test_the_repeat_penalty_changes_only_the_windows_tokens_and_only_while_picking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama, logits = _llama_with_logits(monkeypatch, 0.5, 2.0, -1.0, 1.9, 1.0)
    sample, chain = native.sampler_for(llama, {**SAMPLING, "repeat_penalty": 2.0}, 0.0)
    assert chain is None and sample() == 1  # nothing seen yet: the top logit
    assert list(logits) == [0.5, 2.0, -1.0, pytest.approx(1.9), 1.0]  # restored
    assert sample() == 3  # token 1 was seen: 2.0 / 2 = 1.0 < 1.9
    logits[3] = -0.1  # 1 and 3 are seen now: 1 gives 1.0, 3 gives -0.2, and 4 has 1.0
    assert sample() == 1  # 1.0 (token 1, penalised) ties 1.0 (token 4): the first of equals
    assert list(logits)[:4] == [0.5, 2.0, -1.0, pytest.approx(-0.1)]


def test_a_token_sampled_by_another_loop_counts_in_the_penalty_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    llama, _ = _llama_with_logits(monkeypatch, 0.5, 1.5, -1.0, 2.0, 1.0)
    alone, _ = native.sampler_for(llama, {**SAMPLING, "repeat_penalty": 2.0}, 0.0)
    after, _ = native.sampler_for(llama, {**SAMPLING, "repeat_penalty": 2.0}, 0.0, seen=(3,))
    assert (alone(), after()) == (3, 1)  # 3 was the answer's first token: 2.0 / 2 < 1.5


def test_the_penalty_window_forgets_the_oldest_token_as_llama_cpp_does() -> None:
    window = native.RepeatPenalty(1.1, 3, lambda: None)
    for token in (5, 6, 5, 7):
        window.accept(token)
    assert list(window.window) == [6, 5, 7] and window.counts == {5: 1, 6: 1, 7: 1}
    window.accept(8)
    assert list(window.window) == [5, 7, 8] and window.counts == {5: 1, 7: 1, 8: 1}
    off = native.RepeatPenalty(1.1, 0, lambda: None)
    off.accept(5)
    assert not off.counts  # last_n 0: no window, as llama.cpp's penalty_last_n = 0


def test_stop_matching_holds_back_no_more_than_a_stop_can_start() -> None:
    """Each piece is matched against the held-back tail only: the answer is never scanned again."""
    m = StopMatcher(["</answer>", "STOP"])
    for _ in range(2000):
        m.feed("words and <")
        assert len(m.pending) < len("</answer>")
    assert m.feed("/answer> more") == ("", True)  # the held "<" and this piece make the stop
