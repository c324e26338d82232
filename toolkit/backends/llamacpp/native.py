"""Sampling loops of the llama.cpp backend: native per token where no grammar holds the answer.

:func:`generate_tokens` yields the tokens of one answer (the prompt already evaluated, see
:func:`~toolkit.backends.llamacpp.decoding.evaluate_prompt`). Where no grammar applies (plain
chat, and the text that follows a first token the grammar let through) it runs
:func:`native_tokens`: per token one ``llama_decode`` of a reusable one-token batch and one
``llama_sampler_sample`` on llama.cpp's own sampler chain, so the logits never leave llama.cpp
and Python does a handful of calls a token. ``Llama.generate`` does more around the same two
calls (a KV-cache trim before every decode, a batch refilled field by field, generator
bookkeeping): that is part of what plain llama-cpp-python loses to llama.cpp's own loop.

The chain is the one ``Llama.generate`` builds (``Llama._init_sampler``, the same parameters,
order and seed), and it sees the same history (the tokens it sampled itself), so greedy and
seeded answers are token for token those of ``Llama.generate``; the repeat penalty is applied
before the chain, to the few tokens it can change (:class:`RepeatPenalty`), and greedy
decoding skips the chain: the highest logit is read in place (:func:`sampler_for`). The
``Llama`` object is kept as ``Llama.eval`` keeps it (``n_tokens``, ``input_ids``), token by
token, so the next turn's KV-cache reuse and a later ``Llama.generate`` find what they expect. Under a grammar,
``Llama.generate`` runs with a :class:`~toolkit.backends.llamacpp.grammar.LazyGrammarSampler`
standing in for ``Llama.sample``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import Any

import llama_cpp
import numpy as np

from toolkit import profiling
from toolkit.backends.llamacpp.grammar import LazyGrammarSampler

__all__ = [
    "RepeatPenalty",
    "chain_for",
    "generate_options",
    "generate_tokens",
    "native_tokens",
    "sampler_for",
    "timed_tokens",
]


def generate_options(sampling: dict[str, Any], temperature: float) -> dict[str, Any]:
    """The keyword arguments of ``Llama.generate`` (and ``Llama._init_sampler``) for
    ``sampling`` at ``temperature``."""
    return {
        "top_k": sampling["top_k"],
        "top_p": sampling["top_p"],
        "min_p": sampling["min_p"],
        "temp": temperature,
        "repeat_penalty": sampling["repeat_penalty"],
    }


def chain_for(llama: Any, sampling: dict[str, Any], temperature: float) -> Any:
    """The sampler chain ``Llama.generate`` would build for ``sampling`` at ``temperature``:
    penalties, then greedy (0), or top-k, typical, top-p, min-p, temperature and a draw seeded
    with the ``Llama``'s seed. A ``llama_cpp._internals.LlamaSampler``: :meth:`close` it."""
    return llama._init_sampler(**generate_options(sampling, temperature))


def sampler_for(
    llama: Any, sampling: dict[str, Any], temperature: float, *, seen: Sequence[int] = ()
) -> tuple[Callable[[], int], Any]:
    """A function that samples (and accepts) the next token from the context's last logits, and
    the chain to :meth:`close` after (None when there is none). ``seen``: tokens of the answer
    sampled before (by another loop), counted in the repeat penalty's window.

    Greedy decoding is the highest logit, the first of equals, as llama.cpp's greedy sampler
    picks it: it is read in place (``argmax`` over the logits llama.cpp holds), where
    ``llama_sampler_sample`` would first copy the whole vocabulary into a candidate array
    (~90 us a token on SmolLM2's 49K). The repeat penalty is applied here too, and only to the
    tokens it can change (see :class:`RepeatPenalty`); the chain gets none.
    """
    ctx = llama._ctx.ctx
    n_vocab = int(llama.n_vocab())
    logits_of, as_array = llama_cpp.llama_get_logits_ith, np.ctypeslib.as_array

    def logits() -> Any:
        return as_array(logits_of(ctx, -1), shape=(n_vocab,))

    sampler = None
    if temperature == 0:

        def pick() -> int:
            return int(logits().argmax())

    else:
        sampler = chain_for(llama, {**sampling, "repeat_penalty": 1.0}, temperature)
        chain, sample = sampler.sampler, llama_cpp.llama_sampler_sample

        def pick() -> int:
            return int(sample(chain, ctx, -1))  # samples and accepts

    if sampling["repeat_penalty"] == 1:
        return pick, sampler
    penalty = RepeatPenalty(sampling["repeat_penalty"], llama.last_n_tokens_size, logits)
    for token in seen:
        penalty.accept(token)
    return penalty.wrap(pick), sampler


class RepeatPenalty:
    """llama.cpp's repeat penalty, applied only to the tokens of its window.

    llama.cpp's penalties sampler looks every candidate of the vocabulary up in its window's
    token counts (~0.2 ms a token on SmolLM2's 49K). The same change is made here to the
    logits of the window's own tokens (at most ``last_n``), in place, before the token is
    picked, and undone after: a logit ``l`` of a token seen in the last ``last_n`` sampled
    tokens becomes ``l * penalty`` when ``l <= 0``, else ``l / penalty``, in float32 as
    llama.cpp computes it, so the pick is the one the penalties sampler would lead to. The
    window holds the tokens this loop sampled, as the chain's own penalties sampler would.
    """

    def __init__(self, penalty: float, last_n: int, logits: Callable[[], Any]) -> None:
        self.penalty = np.float32(penalty)
        self.last_n = last_n
        self.logits = logits
        self.window: deque[int] = deque()
        self.counts: dict[int, int] = {}

    def wrap(self, pick: Callable[[], int]) -> Callable[[], int]:
        """``pick`` with the penalty applied to the logits it reads."""
        penalty, counts = self.penalty, self.counts

        def penalised() -> int:
            if not counts:
                token = pick()
            else:
                logits = self.logits()
                seen = np.fromiter(counts, dtype=np.intc, count=len(counts))
                saved = logits[seen]
                logits[seen] = np.where(saved <= 0, saved * penalty, saved / penalty)
                try:
                    token = pick()
                finally:
                    logits[seen] = saved  # the context's logits as llama.cpp left them
            self.accept(token)
            return token

        return penalised

    def accept(self, token: int) -> None:
        """Count ``token`` in the window, and drop the oldest once it holds ``last_n``."""
        if self.last_n <= 0:
            return
        self.counts[token] = self.counts.get(token, 0) + 1
        if len(self.window) >= self.last_n:
            old = self.window.popleft()
            self.counts[old] -= 1
            if not self.counts[old]:
                del self.counts[old]
        self.window.append(token)


def native_tokens(
    llama: Any, sampling: dict[str, Any], temperature: float, *, pending: int | None = None
) -> Generator[int, None, None]:
    """Tokens sampled by llama.cpp from the logits the context holds, each one decoded before
    the next is sampled (when the consumer asks for it, as ``Llama.generate`` does).

    ``pending``: a token to decode first (the answer's first token, already yielded by another
    loop); it counts in the repeat penalty's window, as in one uninterrupted answer. A
    ``llama_decode`` error raises ``RuntimeError``, as ``Llama.eval`` does.
    """
    sample, sampler = sampler_for(llama, sampling, temperature, seen=() if pending is None else (pending,))
    batch = llama_cpp.llama_batch_init(1, 0, 1)
    try:
        batch.n_tokens = 1
        batch.seq_id[0][0] = 0
        batch.n_seq_id[0] = 1
        batch.logits[0] = True
        # Locals: every attribute look-up saved is a few hundred ns per token.
        ctx, slot, pos = llama._ctx.ctx, batch.token, batch.pos
        decode, input_ids = llama_cpp.llama_decode, llama.input_ids
        n = llama.n_tokens
        token = pending
        while True:
            if token is not None:
                slot[0], pos[0] = token, n
                code = decode(ctx, batch)
                if code != 0:
                    raise RuntimeError(f"llama_decode returned {code}")
                input_ids[n] = token
                n += 1
                llama.n_tokens = n  # at once: a stream closed at any yield leaves it consistent
                llama._requires_eval = False
            token = sample()
            yield token
    finally:
        llama_cpp.llama_batch_free(batch)
        if sampler is not None:
            sampler.close()


def generate_tokens(
    llama: Any,
    tokens: list[int],
    sampling: dict[str, Any],
    grammar: Any,
    *,
    switch_to_text: bool,
    call_temperature: float | None = None,
) -> Generator[int, None, None]:
    """The answer's tokens: :func:`native_tokens` without a grammar, else ``llama.generate``
    under ``grammar``, checked token by token (see :class:`LazyGrammarSampler`).

    The prompt must already be evaluated (:func:`evaluate_prompt`): ``generate`` then finds
    it all in the cache and samples at once. With ``switch_to_text``, the grammar (tool
    calls or text) only decides the first token: an answer that does not open a call
    continues unconstrained and natively, as fast as plain chat. ``call_temperature`` (given
    only when the answer may be a call) samples a call's arguments: from the first token when
    every answer is a call, else from the token after the ``{`` that opens one.
    """
    temperature = sampling["temperature"]
    as_call = temperature if call_temperature is None else call_temperature
    first_temperature = as_call if not switch_to_text else temperature
    if grammar is None:
        gen = native_tokens(llama, sampling, first_temperature)
    else:
        gen = _grammar_tokens(llama, tokens, sampling, grammar, switch_to_text, first_temperature, as_call)
    return timed_tokens(gen) if profiling.is_enabled() else gen


def timed_tokens(tokens: Generator[int, None, None]) -> Generator[int, None, None]:
    """``tokens``, with the time spent producing them (not the consumer's) recorded as the
    ``decode`` phase when the stream ends. Only used while profiling: the plain loop reads
    no clock."""
    clock, spent, n = time.perf_counter, 0.0, 0
    try:
        while True:
            start = clock()
            try:
                token = next(tokens)
            except StopIteration:
                spent += clock() - start
                return
            spent += clock() - start
            n += 1
            yield token
    finally:
        start = clock()
        tokens.close()  # a sampler freed, a grammar closed: part of decoding too
        profiling.add("decode", spent + clock() - start, tokens=n)


def _grammar_tokens(
    llama: Any,
    tokens: list[int],
    sampling: dict[str, Any],
    grammar: Any,
    switch_to_text: bool,
    first_temperature: float,
    as_call: float,
) -> Generator[int, None, None]:
    """:func:`generate_tokens` under a grammar."""
    temperature = sampling["temperature"]
    lazy = LazyGrammarSampler(llama, grammar)

    def run(prompt: list[int], temperature: float) -> Any:
        # Its greedy shortcut holds only where penalties only lower logits.
        lazy.greedy = temperature == 0 and sampling["repeat_penalty"] >= 1
        return llama.generate(prompt, **generate_options(sampling, temperature))

    # The grammar is applied by a LazyGrammarSampler standing in for llama.sample.
    gen = run(tokens, first_temperature)
    try:
        llama.sample = lazy
        if not switch_to_text:
            yield from gen
            return
        first = next(gen, None)
        if first is None:
            return
        yield first
        if not llama.detokenize([first]).startswith(b"{"):
            gen.close()
            del llama.sample  # text: unconstrained from here on, the prompt's KV cache reused
            gen = native_tokens(llama, sampling, temperature, pending=first)
        elif as_call != temperature:
            gen.close()
            gen = run([*tokens, first], as_call)  # a call: its arguments at their own temperature
        yield from gen
    finally:
        gen.close()
        if vars(llama).get("sample") is lazy:
            del llama.sample  # only our own: a revoked stream's model may have a new holder
        lazy.close()
