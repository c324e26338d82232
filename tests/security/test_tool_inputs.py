"""Hostile tool arguments: each is refused at once with one line that says what to write instead.

The tools are called through LangChain's ``.invoke({...})``, as an agent calls them, so the
answer is the message the model would read. The freeze case (issue 13: a unit pint would
turn into a multi-gigabit integer while holding the GIL) also checks that another thread
keeps running while the tool answers.
"""

from __future__ import annotations

import faulthandler
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tools import (
    calculator,
    convert_units,
    current_datetime,
    date_calculator,
    make_summarize_tool,
    make_translate_tool,
    web_search,
)
from tools import units as units_module
from tools import web as web_module

FREEZE_UNIT = "(99*99*99*99)**(99*99*99*99)"
"""The unit from the issue: 27 characters, no long number, one power; pint computes 96059601**96059601."""


def _refused(answer: Any, *hints: str) -> str:
    text = str(answer)
    assert text.startswith("Error: "), text[:300]
    assert "\n" not in text, f"not one line: {text[:300]!r}"
    assert len(text) < 600, f"{len(text)} characters"
    assert any(h in text for h in hints), text[:300]
    return text


def _timed(tool: Any, args: dict[str, Any], budget: float = 1.0) -> str:
    started = time.perf_counter()
    answer = tool.invoke(args)
    elapsed = time.perf_counter() - started
    assert elapsed < budget, f"{tool.name}({args!r:.80}) took {elapsed:.2f} s"
    return str(answer)


@pytest.fixture
def hard_stop() -> Iterator[None]:
    """Kill the process with tracebacks if a call holds the GIL for 20 s (a watchdog *thread* could not).

    ``faulthandler``'s watchdog is a C thread that needs no GIL, so a regression fails loudly
    instead of freezing the test run.
    """
    faulthandler.dump_traceback_later(20, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


# --- convert_units: the freeze -----------------------------------------------------------------


@pytest.mark.usefixtures("hard_stop")
def test_freeze_unit_is_refused_while_another_thread_keeps_running() -> None:
    ticks = [0]
    stop = threading.Event()

    def ticker() -> None:
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.01)

    convert_units.invoke(
        {"value": 1, "from_unit": "", "to_unit": "m"}
    )  # first-call set-up, outside the window
    thread = threading.Thread(target=ticker, daemon=True)
    thread.start()
    try:
        time.sleep(0.05)
        calls, before, started = 0, ticks[0], time.perf_counter()
        answers = set()
        while time.perf_counter() - started < 0.3 or calls < 3:  # long enough for the ticker to run
            answers.add(_timed(convert_units, {"value": 1, "from_unit": FREEZE_UNIT, "to_unit": "m"}))
            calls += 1
        window = time.perf_counter() - started
        advanced = ticks[0] - before
    finally:
        stop.set()
        thread.join(1)
    assert len(answers) == 1
    _refused(answers.pop(), "is not a unit (a number in a unit can only be a small exponent")
    assert advanced >= window / 0.01 * 0.3, (
        f"ticker advanced {advanced} times in {window:.2f} s ({calls} calls)"
    )


@pytest.mark.parametrize(
    ("unit", "reason"),
    [
        ("9**9**9", "a number in a unit"),
        ("2**2**2**2**2", "a number in a unit"),
        ("m**9**9**9", "a power of a power"),
        ("m**(99*99)", "an exponent must be a number from -12 to 12"),
        ("m**99999999", "an exponent must be a number from -12 to 12"),
        ("m^(9^9)", "an exponent must be a number"),
        ("m⁹⁹⁹⁹⁹", "an exponent must be a number from -12 to 12"),
        ("m²²", "an exponent must be a number from -12 to 12"),
        ("m²**9", "a power of a power"),
        ("1e308*m", "no scientific notation"),
        ("m*1e308", "no scientific notation"),
        ("99999999 m", "a number in a unit"),
        ("9 9 9 9 m", "a number in a unit"),
        ("9,9,9,9,9,9,9,9", "',' cannot be part of a unit"),
        ("((((m))))", "parentheses nest more than 3 deep"),
        ("(m**2)**2**2", "a power of a power"),
        ("m**2*s**2*kg**2*A**2", "more than 3 powers"),
        ("m" + "*m" * 30, "longer than 40 characters"),
        ("k" * 100_000, "longer than 40 characters"),
        ("m٣", "is not a unit name"),
        ("m\x00", "cannot be part of a unit"),
    ],
)
def test_units_pint_would_evaluate_are_refused_before_pint(
    unit: str, reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pint() -> Any:
        raise AssertionError(f"pint was asked to read {unit!r:.60}")

    monkeypatch.setattr(units_module, "unit_registry", no_pint)
    answer = _timed(convert_units, {"value": 1, "from_unit": unit, "to_unit": "m"})
    _refused(answer, reason)
    assert "is not a unit (" in answer and ") - write units like kg, lb" in answer


@pytest.mark.parametrize(
    ("unit", "expected"),
    [
        ("km²", "1 km² = 1000000 m²"),
        ("m s^-2", "1 m/s² = 1 m/s²"),
        ("(m/s)**2", "1 m²/s² = 1 m²/s²"),
        ("%", "1 % = 1 %"),
    ],
)
def test_units_with_small_powers_still_convert(unit: str, expected: str) -> None:
    target = {"km²": "m**2", "m s^-2": "m/s²", "(m/s)**2": "m²/s²", "%": "percent"}[unit]
    assert _timed(convert_units, {"value": 1, "from_unit": unit, "to_unit": target}) == expected


@pytest.mark.parametrize(
    ("value", "hint"),
    [("inf", "not a finite number"), ("nan", "not a finite number"), ("1e999", "not a finite number")],
)
def test_unit_values_that_are_not_finite_are_refused(value: str, hint: str) -> None:
    answer = _timed(convert_units, {"value": value, "from_unit": "kg", "to_unit": "lb"})
    _refused(answer, hint)


def test_unit_result_beyond_float_range_is_refused() -> None:
    answer = _timed(convert_units, {"value": 1e308, "from_unit": "km", "to_unit": "mm"})
    _refused(answer, "the result is too large")


def test_unit_names_with_newlines_answer_in_one_line() -> None:
    answer = _timed(convert_units, {"value": 1, "from_unit": "m\nm", "to_unit": "kg"})
    _refused(answer, "cannot convert m m to kg")


# --- calculator --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("9**9**9", "digits, more than the"),
        ("2**(10**400)", "more than a quadrillion digits"),
        ("(10**300)**(10**300)", "digits, more than the"),
        ("floor(1e308*10 - 1e308*10)", "too large"),
        ("round(1e308*10)", "too large"),
        ("factorial(10**9)", "is not allowed"),
        ("comb(10**6, 500000)", "is not allowed"),
        ("(" * 250 + "1" + ")" * 49, "cannot read"),
        ("-" * 299 + "(", "cannot read"),
        ("'" + "x" * 290 + "'", "is not a number"),
        ("9" * 400, "over the 300 limit"),
    ],
)
def test_calculator_refuses_unbounded_work(expression: str, hint: str) -> None:
    _refused(_timed(calculator, {"expression": expression}), hint)


def test_calculator_normalizing_is_not_quadratic() -> None:
    # each "(" used to re-run an end-anchored regex over the text before it: 0.8 s for this input
    answer = _timed(calculator, {"expression": "√" * 150 + "(" * 150}, budget=0.2)
    _refused(answer, "cannot read")


# --- date tools --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        ({"add_days": 10**9}, "add_days=1,000,000,000 would take the date outside the years 1 to 9999"),
        ({"add_months": 10**9}, "give add_months between -119,988 and 119,988"),
        ({"add_years": -(10**4000)}, "add_years=a huge number would take the date outside"),
        ({"add_weeks": 10**15, "add_days": -(7 * 10**15)}, "outside the years 1 to 9999 - give add_"),
        ({"add_days": "9" * 5000}, "far too many - give at most 7 digits"),
        ({"start": "9999-12-31", "add_days": 1}, "outside the years 1 to 9999"),
        ({"start": "x" * 1_000_000}, "(over 64 characters) - write it as YYYY-MM-DD"),
        ({"start": "today", "until": "1" * 100_000}, "(over 64 characters) - write it as YYYY-MM-DD"),
    ],
)
def test_date_calculator_refuses_out_of_range(args: dict[str, Any], hint: str) -> None:
    _refused(_timed(date_calculator, args), hint)


@pytest.mark.parametrize(
    "zone",
    ["GMT+00:99", "UTC-13", "UTC+15", "x" * 1_000_000, "Europe/../../etc/passwd", "\x00"],
)
def test_current_datetime_refuses_impossible_zones(zone: str) -> None:
    _refused(_timed(current_datetime, {"timezone": zone}), "write an IANA time zone name")


# --- web search --------------------------------------------------------------------------------


def test_web_search_refuses_a_huge_query() -> None:
    _refused(_timed(web_search, {"query": "x" * 1_000_000}), "search with a few keywords")


def test_web_search_answer_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    flood = [{"title": "t" * 10**6, "href": "http://x/" + "y" * 10**6, "body": "b\n" * 10**6}] * 1000
    monkeypatch.setattr(web_module, "_backend", lambda: "fake")
    monkeypatch.setattr(web_module, "_online", lambda: True)
    monkeypatch.setattr(web_module, "_search", lambda backend, query: flood[: web_module._MAX_RESULTS])
    answer = _timed(web_search, {"query": "anything"})
    assert answer.count("\n> ") == 5 and len(answer) < 5 * 3 * 520, len(answer)


def test_web_search_workers_stuck_in_a_lookup_do_not_pile_up() -> None:
    release = threading.Event()
    try:
        for _ in range(web_module._MAX_WORKERS):
            with pytest.raises(TimeoutError):
                web_module._within(0.01, release.wait)
        started = time.perf_counter()
        with pytest.raises(TimeoutError, match="still waiting"):
            web_module._within(5.0, lambda: True)
        assert time.perf_counter() - started < 0.5
    finally:
        release.set()
    time.sleep(0.05)
    assert web_module._within(1.0, lambda: 42) == 42


# --- summarize / translate ---------------------------------------------------------------------


@pytest.mark.parametrize("make", [make_summarize_tool, make_translate_tool])
def test_text_tools_refuse_a_huge_text_before_any_model_call(make: Any) -> None:
    tool = make(None)  # no model is built: the refusal comes first
    args = {"text": "word " * 100_000, "target_language": "French"}
    _refused(_timed(tool, args), "over the 200,000 limit - pass it in parts")
