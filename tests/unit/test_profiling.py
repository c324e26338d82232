"""The process-wide profile (toolkit.profiling) and the places that feed it: exclusive time for
nested phases, nothing recorded (and no clock read) while disabled, threads, the report, and
the llama.cpp prompt and decode loops on stand-ins. The CLI's ``--profile`` is tested in
tests/unit/test_profiling_cli.py; Ollama's own timings in tests/unit/test_ollama_wire.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from toolkit import profiling
from toolkit.backends.llamacpp import native
from toolkit.backends.llamacpp.decoding import evaluate_prompt
from unit.test_kv_reuse import _FakeLlama, _loaded


class FakeClock:
    """``perf_counter`` that moves only when told to, and counts how often it was read."""

    def __init__(self) -> None:
        self.now = 100.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(profiling, "time", SimpleNamespace(perf_counter=fake))
    monkeypatch.setattr(native, "time", SimpleNamespace(perf_counter=fake))
    return fake


@pytest.fixture(autouse=True)
def _fresh_profile() -> Iterator[None]:
    profiling.disable()
    profiling.reset()
    yield
    profiling.disable()
    profiling.reset()


def test_spans_and_adds_accumulate_seconds_calls_and_counts(clock: FakeClock) -> None:
    profiling.enable()
    with profiling.phase("embed", texts=3) as span:
        clock.advance(0.5)
        span.count(tokens=40)
    with profiling.phase("embed", texts=2):
        clock.advance(0.25)
    profiling.add("decode", 2.0, tokens=50)
    totals = profiling.snapshot()
    assert totals["embed"].seconds == pytest.approx(0.75)
    assert (totals["embed"].calls, totals["embed"].counts) == (2, {"texts": 5, "tokens": 40})
    assert (totals["decode"].seconds, totals["decode"].counts) == (2.0, {"tokens": 50})
    assert totals["decode"].rate("decode") == (25.0, "tokens")
    assert set(totals) == {"embed", "decode"}


def test_a_nested_phase_is_subtracted_from_the_outer_one(clock: FakeClock) -> None:
    profiling.enable()
    with profiling.phase("store"):
        clock.advance(1.0)
        with profiling.phase("embed", texts=1):
            clock.advance(3.0)
            with profiling.phase("load", models=1):
                clock.advance(0.5)
        clock.advance(0.25)
        profiling.add("decode", 0.25)  # measured by hand within this stretch
        clock.advance(2.0)
    totals = profiling.snapshot()
    assert totals["store"].seconds == pytest.approx(1.0 + 2.0)
    assert totals["embed"].seconds == pytest.approx(3.0)
    assert totals["load"].seconds == pytest.approx(0.5)
    assert totals["decode"].seconds == pytest.approx(0.25)
    assert sum(t.seconds for t in totals.values()) == pytest.approx(6.75)  # the wall time, once


def test_the_same_phase_nested_counts_each_second_once(clock: FakeClock) -> None:
    profiling.enable()

    @profiling.profiled("store")
    def inner() -> str:
        clock.advance(2.0)
        return "done"

    with profiling.phase("store"):
        clock.advance(1.0)
        assert inner() == "done"
    totals = profiling.snapshot()["store"]
    assert (totals.seconds, totals.calls) == (pytest.approx(3.0), 2)


def test_an_exception_still_ends_the_span(clock: FakeClock) -> None:
    profiling.enable()
    with pytest.raises(RuntimeError), profiling.phase("prompt"):
        clock.advance(0.5)
        raise RuntimeError("boom")
    with profiling.phase("decode"):
        clock.advance(1.0)
    totals = profiling.snapshot()
    assert totals["prompt"].seconds == pytest.approx(0.5)
    assert totals["decode"].seconds == pytest.approx(1.0)  # not nested in the failed prompt


def test_disabled_records_nothing_and_reads_no_clock(clock: FakeClock) -> None:
    assert not profiling.is_enabled()
    first = profiling.phase("embed", texts=1)
    with first as span:
        span.count(tokens=3)
    profiling.add("decode", 1.0, tokens=2)

    @profiling.profiled("store")
    def work() -> int:
        return 7

    assert work() == 7
    assert profiling.phase("store") is first  # one shared do-nothing object, nothing allocated
    assert clock.reads == 0
    assert profiling.snapshot() == {}


def test_disabled_the_token_stream_is_the_loop_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    def loop() -> Iterator[int]:
        yield 1

    made = loop()
    monkeypatch.setattr(native, "native_tokens", lambda *a, **k: made)
    args: tuple[Any, ...] = (object(), [1, 2], {"temperature": 0.0}, None)
    assert native.generate_tokens(*args, switch_to_text=False) is made  # no wrapper, no clock
    profiling.enable()
    timed = native.generate_tokens(*args, switch_to_text=False)
    assert timed is not made and list(timed) == [1]


def test_unknown_phase_is_refused() -> None:
    profiling.enable()
    with pytest.raises(ValueError, match="unknown phase 'think'"):
        profiling.phase("think")
    with pytest.raises(ValueError, match="unknown phase"):
        profiling.add("think", 1.0)


def test_threads_add_without_losing_updates_and_nest_on_their_own() -> None:
    profiling.enable()
    threads, rounds = 8, 2000
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(rounds):
            profiling.add("store", 0.001, chunks=1)
            with profiling.phase("embed", texts=2):
                pass

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    totals = profiling.snapshot()
    assert totals["store"].counts == {"chunks": threads * rounds}
    assert totals["store"].calls == threads * rounds
    assert totals["store"].seconds == pytest.approx(threads * rounds * 0.001)
    assert totals["embed"].counts == {"texts": 2 * threads * rounds}


def test_a_phase_on_another_thread_is_not_subtracted_from_this_one(clock: FakeClock) -> None:
    profiling.enable()
    with profiling.phase("store"):
        clock.advance(1.0)
        helper = threading.Thread(target=profiling.add, args=("embed", 5.0))
        helper.start()
        helper.join()
    totals = profiling.snapshot()
    assert totals["store"].seconds == pytest.approx(1.0)
    assert totals["embed"].seconds == pytest.approx(5.0)


def test_session_starts_clean_ends_disabled_and_keeps_its_result(clock: FakeClock) -> None:
    profiling.enable()
    profiling.add("load", 9.0)  # before the session: not part of it
    with pytest.raises(KeyboardInterrupt), profiling.session() as run:
        with profiling.phase("read", files=2):
            clock.advance(0.5)
        clock.advance(1.5)
        raise KeyboardInterrupt
    assert not profiling.is_enabled()
    assert run.wall == pytest.approx(2.0)
    assert set(run.totals) == {"read"} and run.totals["read"].counts == {"files": 2}
    assert profiling.snapshot() == {}


def test_report_lists_phases_in_order_with_shares_rates_and_other() -> None:
    totals = {
        "store": profiling.PhaseTotals(0.5, 3, {"chunks": 200}),
        "embed": profiling.PhaseTotals(2.0, 1, {"texts": 100, "tokens": 9000}),
        "load": profiling.PhaseTotals(0.25, 1, {"models": 1}),
    }
    lines = profiling.format_report(totals, wall=4.0).splitlines()
    assert lines[0] == profiling.TITLE
    assert lines[1].split() == ["phase", "seconds", "share", "calls", "counts", "rate"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert list(rows) == ["load", "embed", "store", "other", "wall"]
    assert rows["load"].split() == ["load", "0.250", "6.2%", "1", "1", "model"]
    assert "100 texts, 9,000 tokens" in rows["embed"] and rows["embed"].endswith("50.0 texts/s")
    assert rows["store"].endswith("400.0 chunks/s")
    assert rows["other"].split()[:3] == ["other", "1.250", "31.2%"]
    assert rows["wall"].split() == ["wall", "4.000", "100.0%"]


def test_report_of_nothing_is_all_other() -> None:
    lines = profiling.format_report({}, wall=0.5).splitlines()
    assert [line.split()[:3] for line in lines[2:]] == [
        ["other", "0.500", "100.0%"],
        ["wall", "0.500", "100.0%"],
    ]


# --------------------------------------------------------------------------- llama.cpp loops


class _PromptLlama(_FakeLlama):
    """test_kv_reuse's stand-in ``Llama``; each batch takes a second of the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(n_batch=8)
        self.clock = clock

    def eval(self, tokens: list[int]) -> None:
        self.clock.advance(1.0)
        super().eval(tokens)


def test_prompt_evaluation_records_tokens_evaluated_and_cached(clock: FakeClock) -> None:
    llama = _PromptLlama(clock)
    loaded = _loaded(llama)
    prompt = list(range(100, 112))
    profiling.enable()
    evaluate_prompt(loaded, prompt, repeatable=False)  # 12 tokens: batches of 8 and 4
    evaluate_prompt(loaded, [*prompt, 1, 2, 3], repeatable=False)  # 12 cached, 3 evaluated
    totals = profiling.snapshot()["prompt"]
    assert totals.seconds == pytest.approx(3.0)
    assert (totals.calls, totals.counts) == (2, {"tokens": 12 + 3, "cached": 0 + 12})


def test_decode_time_is_the_loops_own_not_the_consumers(clock: FakeClock) -> None:
    def loop() -> Iterator[int]:
        for token in (5, 6, 7):
            clock.advance(0.5)  # decode and sample
            yield token

    profiling.enable()
    for _ in native.timed_tokens(loop()):
        clock.advance(10.0)  # the consumer: detokenizing, LangChain, the terminal
    totals = profiling.snapshot()["decode"]
    assert totals.seconds == pytest.approx(1.5)
    assert (totals.calls, totals.counts) == (1, {"tokens": 3})


def test_a_stream_closed_early_still_records_its_tokens(clock: FakeClock) -> None:
    def loop() -> Iterator[int]:
        while True:
            clock.advance(0.25)
            yield 1

    profiling.enable()
    stream = native.timed_tokens(loop())
    assert [next(stream), next(stream)] == [1, 1]
    stream.close()
    totals = profiling.snapshot()["decode"]
    assert (totals.seconds, totals.counts) == (pytest.approx(0.5), {"tokens": 2})
