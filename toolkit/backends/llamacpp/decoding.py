"""The token loop of :class:`~toolkit.backends.llamacpp.ChatLlama`: prompt, sampling, text.

:func:`decode` holds a lease on the shared model's gate for one generation. It evaluates the prompt
itself (:func:`evaluate_prompt`, reusing the KV cache), samples natively with llama.cpp's own
sampler chain (:mod:`~toolkit.backends.llamacpp.native`; under a grammar when one is given,
see :mod:`~toolkit.backends.llamacpp.grammar`), turns tokens into text, cuts it at stop
sequences, and records what happened in a :class:`Generation`.

Why the prompt is evaluated here and not by ``Llama.generate``: llama.cpp's CPU kernels do
not compute a batch of one token exactly as they compute the same token inside a larger
batch (a single token takes the matrix-vector path, a batch the tiled matrix-matrix one,
which sums in another order). A token's KV entries and logits then differ in the last
bits, and at temperature > 0 that is enough to change the sampled text. ``generate`` gets
there twice: when the whole prompt is cached it evaluates the last prompt token alone,
and the tokens of an earlier answer in the cache were each decoded alone. So here the
uncached part is never a one-token batch, and a repeatable call (a seed, or temperature
0) reuses only positions that an earlier prompt evaluation computed.
"""

from __future__ import annotations

import codecs
import math
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import llama_cpp
from langchain_core.messages.ai import UsageMetadata

from toolkit import profiling
from toolkit.backends.cancel import CancelToken, current_token
from toolkit.backends.llamacpp.gate import Lease
from toolkit.backends.llamacpp.native import generate_tokens
from toolkit.backends.llamacpp.runtime import LoadedModel
from toolkit.backends.llamacpp.stops import StopMatcher
from toolkit.errors import ContextOverflowError, GenerationLimitError

__all__ = [
    "MIN_EVALUATED",
    "DecodeRequest",
    "Generation",
    "PromptInterrupted",
    "StopMatcher",
    "common_prefix",
    "decode",
    "evaluate_prompt",
    "generate_tokens",
    "prompt_batches",
]

MIN_EVALUATED = 2
"""Fewest prompt tokens evaluated per call: a one-token batch computes other numbers."""


@dataclass
class DecodeRequest:
    """One generation's settings, after the chat model has planned the turn.

    Attributes:
        sampling: ``temperature``, ``top_p``, ``top_k``, ``min_p``, ``repeat_penalty``.
        seed: The sampler's seed.
        repeatable: The caller expects the same answer for the same request (a seed was
            given, or temperature is 0): reuse only batch-evaluated KV positions.
        max_tokens: Most tokens to generate; None: up to the context window.
        stops: Stop sequences, matched in the text.
        grammar: A compiled grammar the answer must follow, or None.
        calling: The answer may be a tool call: it is buffered, not streamed.
        forced: The call is required (not ``auto``): the answer is a call from its first token.
        switch_to_text: The grammar decides only the first token (see :func:`generate_tokens`).
        call_temperature: Temperature of a tool call's arguments, once the answer is a call
            (None: ``sampling["temperature"]`` throughout; always None when not ``calling``).
        timeout: Seconds the generation may take, prompt evaluation included.
        wait_timeout: Seconds to wait for the shared model (0: do not wait; None: no limit).
        idle_timeout: Seconds the stream may stay paused while another caller waits.
    """

    sampling: dict[str, Any]
    seed: int
    repeatable: bool
    max_tokens: int | None
    stops: list[str] = field(default_factory=list)
    grammar: Any = None
    calling: bool = False
    forced: bool = False
    switch_to_text: bool = False
    call_temperature: float | None = None
    timeout: float | None = None
    wait_timeout: float | None = None
    idle_timeout: float = math.inf


@dataclass
class Generation:
    """What one generation did: sizes, counts, timings, why it stopped, a buffered call."""

    n_ctx: int = 0
    prompt_tokens: int = 0
    cached: int = 0
    room: int = 0
    max_tokens: int = 0
    generated: int = 0
    finish_reason: str = "length"
    t0: float = 0.0
    t_first: float | None = None
    t_end: float = 0.0
    call_text: list[str] | None = None

    def first_output(self) -> None:
        """Note the time of the first output, once."""
        if self.t_first is None:
            self.t_first = time.perf_counter()

    def response_metadata(self, model_name: str) -> dict[str, Any]:
        """The ``response_metadata`` of the answer: why it stopped, window, timings, cache use."""
        finish_reason = self.finish_reason
        if finish_reason == "length" and self.max_tokens == self.room:
            finish_reason = "context_window"
        t_first = self.t_first or self.t_end
        gen_seconds = self.t_end - t_first
        return {
            "model_name": model_name,
            "model_provider": "llamacpp",
            "finish_reason": finish_reason or "stop",
            "n_ctx": self.n_ctx,
            "time_to_first_token": round(t_first - self.t0, 6),
            "generation_seconds": round(gen_seconds, 6),
            # The first token's time belongs to prompt processing; speed counts the rest.
            "tokens_per_second": round((self.generated - 1) / gen_seconds, 3)
            if self.generated > 1 and gen_seconds > 0
            else None,
            "prompt_tokens_cached": self.cached,
        }

    def usage(self) -> UsageMetadata:
        """Token counts of the answer, the cached prompt tokens as ``cache_read``."""
        # output_token_details is NotRequired in langchain_core, but mypy asks for it.
        return UsageMetadata(  # type: ignore[typeddict-item]
            input_tokens=self.prompt_tokens,
            output_tokens=self.generated,
            total_tokens=self.prompt_tokens + self.generated,
            input_token_details={"cache_read": self.cached},
        )


class PromptInterrupted(Exception):
    """Prompt evaluation stopped between batches (``reason``: ``timeout`` or ``cancelled``)."""

    def __init__(self, reason: str, *, evaluated: int) -> None:
        super().__init__(f"prompt evaluation stopped ({reason}) after {evaluated} tokens")
        self.reason = reason
        self.evaluated = evaluated


def check_fits(n_tokens: int, n_ctx: int) -> None:
    """Refuse a prompt that leaves no room to answer (it is never truncated).

    Raises:
        ContextOverflowError: The prompt has ``n_ctx`` tokens or more.
    """
    if n_tokens >= n_ctx:
        raise ContextOverflowError(
            f"the prompt is {n_tokens} tokens but the context window is {n_ctx}: it is "
            f"{n_tokens - n_ctx + 1} tokens too long. Shorten the input, drop old turns, "
            "or raise LLAMA_TOOLKIT_N_CTX (up to the model's trained context)",
            prompt_tokens=n_tokens,
            n_ctx=n_ctx,
        )


def decode(loaded: LoadedModel, prompt: str, request: DecodeRequest, out: Generation) -> Iterator[str]:
    """Generate the answer to ``prompt``, yielding text as it is decoded.

    Holds a lease on ``loaded.lock`` (the model's :class:`~toolkit.backends.llamacpp.gate.ModelGate`)
    from tokenizing to the last token. The lease is paused while the caller holds a piece
    of text: paused longer than ``request.idle_timeout`` while another caller waits, it is
    revoked and this stream ends with :class:`GenerationLimitError`. Closing the iterator,
    or dropping it (it is then collected), gives the model back. A tool call
    (``request.calling`` and an answer opening with a call) is collected in
    ``out.call_text`` instead.

    Raises:
        ContextOverflowError: The prompt does not fit the context window.
        ModelReentryError: This thread already holds the model (an open stream).
        ModelBusyError: The model stayed busy for ``request.wait_timeout`` s.
        GenerationLimitError: The stream was paused past its idle time and lost the model,
            or the current :class:`~toolkit.backends.cancel.CancelToken` was cancelled; ``.partial``
            holds the text yielded so far.
    """
    cancel = current_token()
    lease = loaded.lock.acquire(
        wait_timeout=request.wait_timeout, idle_timeout=request.idle_timeout, cancel=cancel
    )
    sent: list[str] = []
    held = _decode_held(loaded, prompt, request, out, lease, cancel)
    try:
        for text in held:
            sent.append(text)
            lease.pause()
            yield text
            if not lease.resume():
                raise GenerationLimitError(
                    f"this stream was paused for more than {request.idle_timeout:g} s, so "
                    f"{loaded.lock.name} was given to another caller: ask again, or raise "
                    "LLAMA_TOOLKIT_MODEL_IDLE_TIMEOUT",
                    partial="".join(sent),
                )
        if out.finish_reason == "cancelled" and cancel is not None:
            raise GenerationLimitError(f"generation cancelled: {cancel.reason}", partial="".join(sent))
    finally:
        lease.resume()  # a consumer closing a paused stream: clean up as the holder
        held.close()
        lease.release()


def _decode_held(
    loaded: LoadedModel,
    prompt: str,
    request: DecodeRequest,
    out: Generation,
    lease: Lease,
    cancel: CancelToken | None,
) -> Generator[str, None, None]:
    """:func:`decode`'s work under the lease (which it must not touch once revoked)."""
    llama = loaded.llama
    tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
    out.n_ctx = loaded.n_ctx
    check_fits(len(tokens), out.n_ctx)
    out.prompt_tokens = len(tokens)
    out.room = out.n_ctx - len(tokens)
    out.max_tokens = min(request.max_tokens or out.room, out.room)
    out.t0 = time.perf_counter()
    deadline = out.t0 + request.timeout if request.timeout else None
    try:
        out.cached = evaluate_prompt(
            loaded, tokens, repeatable=request.repeatable, should_stop=_stopper(deadline, cancel)
        )
    except PromptInterrupted as stop:
        out.finish_reason = stop.reason
        out.t_end = time.perf_counter()
        return
    llama.set_seed(request.seed)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stop_text = StopMatcher(request.stops)
    tokens_out = generate_tokens(
        llama,
        tokens,
        request.sampling,
        request.grammar,
        switch_to_text=request.switch_to_text,
        call_temperature=request.call_temperature,
    )
    try:
        yield from _pieces(llama, tokens_out, request, out, decoder, stop_text, _stopper(deadline, cancel))
    finally:
        # Runs when the caller stops reading early too; a revoked lease leaves the model alone.
        tokens_out.close()
        if not lease.revoked:
            loaded.n_tokens_mark = llama.n_tokens
    if out.call_text is not None:
        out.call_text.append(decoder.decode(b"", final=True))
    elif out.finish_reason not in ("stop", "cancelled"):
        tail = stop_text.flush(decoder.decode(b"", final=True))
        if tail:
            out.first_output()
            yield tail
    out.t_end = time.perf_counter()


def _stopper(deadline: float | None, cancel: CancelToken | None) -> Callable[[], str | None]:
    """A check for the loops: ``"timeout"`` past ``deadline``, ``"cancelled"``, or None."""

    def should_stop() -> str | None:
        if cancel is not None and cancel.cancelled:
            return "cancelled"
        if deadline is not None and time.perf_counter() > deadline:
            return "timeout"
        return None

    return should_stop


def _pieces(
    llama: Any,
    tokens_out: Iterator[int],
    request: DecodeRequest,
    out: Generation,
    decoder: codecs.IncrementalDecoder,
    stop_text: StopMatcher,
    should_stop: Callable[[], str | None],
) -> Iterator[str]:
    """Text of each generated token, until an end-of-generation token, a stop sequence,
    ``out.max_tokens``, the deadline or a cancellation (checked after every token)."""
    model = llama._model  # per-token detokenize, as llama-cpp-python does
    vocab = model.vocab
    for token in tokens_out:
        # The template's end-of-turn token is an end-of-generation token: llama.cpp reports
        # it as such, so only the caller's stop sequences are matched as text.
        if llama_cpp.llama_vocab_is_eog(vocab, token):
            out.finish_reason = "stop"
            return
        out.generated += 1
        piece = decoder.decode(model.detokenize([token]))
        if request.calling and out.generated == 1 and (request.forced or piece.startswith("{")):
            out.call_text = []
        if out.call_text is not None:
            out.call_text.append(piece)
            out.first_output()
            text, stopped = "", False
        else:
            text, stopped = stop_text.feed(piece)
        if text:
            out.first_output()
            yield text
        if stopped:
            out.finish_reason = "stop"
            return
        if out.generated >= out.max_tokens:
            return
        reason = should_stop()
        if reason is not None:
            out.finish_reason = reason
            return


def common_prefix(llama: Any, tokens: list[int]) -> int:
    """How many leading ``tokens`` the KV cache already holds."""
    n = 0
    # A read-only look at the KV state.
    for a, b in zip(llama._input_ids[: llama.n_tokens], tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


def prompt_batches(n: int, n_batch: int) -> list[int]:
    """Sizes of the batches ``n`` prompt tokens are evaluated in: at most ``n_batch`` each,
    and never a last batch of one token after a full one."""
    sizes = [n_batch] * (n // n_batch) + ([n % n_batch] if n % n_batch else [])
    if len(sizes) > 1 and sizes[-1] == 1:
        sizes[-2:] = [n_batch - 1, 2]
    return sizes


def evaluate_prompt(
    loaded: LoadedModel,
    tokens: list[int],
    *,
    repeatable: bool,
    should_stop: Callable[[], str | None] | None = None,
) -> int:
    """Bring the KV cache to ``tokens`` and compute the last token's logits.

    The longest cached prefix is kept, less :data:`MIN_EVALUATED` tokens that are always
    evaluated again; when ``repeatable``, only positions an earlier prompt evaluation
    computed are kept (not an earlier answer's). Returns how many tokens were kept.

    Raises:
        PromptInterrupted: ``should_stop`` (asked before every batch) gave a reason; the
            half-evaluated cache is then noted as reusable by nobody.
    """
    with profiling.phase("prompt") as span:
        keep = _evaluate(loaded, tokens, repeatable, should_stop)
        span.count(tokens=len(tokens) - keep, cached=keep)
    return keep


def _evaluate(
    loaded: LoadedModel, tokens: list[int], repeatable: bool, should_stop: Callable[[], str | None] | None
) -> int:
    """:func:`evaluate_prompt`'s work."""
    llama = loaded.llama
    noted = loaded.batch_evaluated if llama.n_tokens == loaded.n_tokens_mark else 0
    keep = common_prefix(llama, tokens)
    if repeatable:
        keep = min(keep, noted)
    keep = max(0, min(keep, len(tokens) - MIN_EVALUATED))
    # A recurrent model's state cannot be cut back to a prefix: it is evaluated in full.
    if keep and not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
        keep = 0
    if keep:
        llama.n_tokens = keep
    else:
        llama.reset()
    start = keep
    for size in prompt_batches(len(tokens) - keep, int(llama.n_batch)):
        reason = should_stop() if should_stop is not None else None
        if reason is not None:
            loaded.batch_evaluated, loaded.n_tokens_mark = 0, -1
            raise PromptInterrupted(reason, evaluated=start)
        llama.eval(tokens[start : start + size])
        start += size
    # Positions evaluated on top of an earlier answer's are not a fresh evaluation's either.
    loaded.batch_evaluated = len(tokens) if keep <= noted else noted
    loaded.n_tokens_mark = llama.n_tokens
    return keep
