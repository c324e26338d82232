"""Fuzzing the bounded tools: calculator, unit conversion and the date tools.

Random text (any unicode) and adversarial strings built from the pieces that make work
explode (powers, nesting, long digit runs, superscripts, scientific notation) must only ever
end in the tool's own refusal: through ``.invoke`` an ``Error:`` line of our own wording
(never ``<tool> failed (SomeError: ...)``, the catch-all for the unforeseen), and from the
plain functions only ``ToolException`` or ``ValueError``. Every call stays under a time
(:data:`TIME_BUDGET`) and memory (:data:`MEMORY_BUDGET`, tracemalloc peak) budget.

The figures (inputs tried, worst time, worst peak per tool) are written to
``test-artifacts/security/fuzz_tools.json`` and printed as one line.
"""

from __future__ import annotations

import contextlib
import faulthandler
import json
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.tools import ToolException

from tools import calculator, convert_units, current_datetime, date_calculator, evaluate
from tools.clock import parse_date, resolve_timezone
from tools.units import convert

TIME_BUDGET = 0.5
"""Seconds one call may take."""

MEMORY_BUDGET = 64 * 1024 * 1024
"""Bytes one call may allocate at its peak (tracemalloc)."""

ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "security" / "fuzz_tools.json"

_STATS: dict[str, dict[str, float]] = {}

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module", autouse=True)
def _budgets() -> Iterator[None]:
    """Trace allocations for the module, kill it if a call freezes, and write the figures at the end."""
    faulthandler.dump_traceback_later(300, exit=True)  # a call holding the GIL: fail loudly, never hang
    convert(1, "m", "km")  # pint's one-time import and registry build (~0.5 s) are not a call's cost
    resolve_timezone("Europe/Paris")
    for tool, args in [(calculator, "1"), (convert_units, {"value": 1, "from_unit": "m", "to_unit": "km"})]:
        tool.invoke(args)  # first-call set-up in LangChain, also outside the budget
    date_calculator.invoke({})
    current_datetime.invoke({})
    tracemalloc.start()
    yield
    tracemalloc.stop()
    faulthandler.cancel_dump_traceback_later()
    figures = {
        tool: {
            "inputs": int(s["inputs"]),
            "worst_seconds": round(s["worst_seconds"], 4),
            "worst_peak_mb": round(s["worst_peak"] / 2**20, 2),
        }
        for tool, s in sorted(_STATS.items())
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(
        json.dumps({"time_budget_s": TIME_BUDGET, "memory_budget_mb": 64, "tools": figures}, indent=2)
    )
    print(
        "\nfuzz_tools: "
        + "; ".join(
            f"{t} {f['inputs']} inputs, worst {f['worst_seconds'] * 1000:.1f} ms / {f['worst_peak_mb']} MB"
            for t, f in figures.items()
        )
    )


def _measured(name: str, call: Callable[[], Any]) -> Any:
    """``call()`` within the time and memory budgets, its figures added to ``name``'s."""
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    started = time.perf_counter()
    try:
        return call()
    finally:
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] - base
        stats = _STATS.setdefault(name, {"inputs": 0, "worst_seconds": 0.0, "worst_peak": 0})
        stats["inputs"] += 1
        stats["worst_seconds"] = max(stats["worst_seconds"], elapsed)
        stats["worst_peak"] = max(stats["worst_peak"], peak)
        assert elapsed < TIME_BUDGET, f"{name}: {elapsed:.3f} s"
        assert peak < MEMORY_BUDGET, f"{name}: {peak / 2**20:.1f} MB"


def _answer_ok(tool: Any, args: dict[str, Any]) -> str:
    answer = _measured(tool.name, lambda: tool.invoke(args))
    assert isinstance(answer, str)
    if answer.startswith("Error:"):
        assert "\n" not in answer, f"{tool.name}({args!r:.120}): not one line: {answer[:200]!r}"
        assert f"{tool.name} failed (" not in answer, (
            f"{tool.name}({args!r:.120}): unforeseen: {answer[:300]}"
        )
    return answer


def _raises_only(name: str, call: Callable[[], Any], allowed: tuple[type[BaseException], ...]) -> None:
    with contextlib.suppress(*allowed):  # any other exception fails the test
        _measured(name, call)


def _joined(pieces: list[str], most: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=most).map("".join)


RANDOM_TEXT = st.text(max_size=120)  # every unicode category, surrogates excluded

CALC_PIECES = [
    "9", "99", "999999999", "1e308", "1e-308", "0", ".", "**", "^", "*", "/", "//", "%", "+", "-", "(", ")",
    "sqrt(", "log(", "exp(", "floor(", "round(", "min(", "max(", ",", "²", "³", "√", "π", "x", "×", "÷",
    " of ", " plus ", " squared", " to the power of ", "pi", "e", "1,000", "=", "?", " ", "inf", "nan", "10**",
]  # fmt: skip
UNIT_PIECES = [
    "m", "km", "kg", "s", "degC", "°", "C", "F", "lbs", "fl oz", "1", "9", "99", "1e308", "**", "^", "*", "/",
    "(", ")", " ", "²", "⁻", "⁹", ",", "-", ".", " squared", "square ", "cubic ", "kilo", "·", "e", " per ",
    "µ", "%", "[", "]", "_",
]  # fmt: skip
DATE_PIECES = [
    "2025", "-", "03", "14", "31", "02", "9999", "0001", "next ", "last ", "friday", "march", " ", "th", ",",
    "today", "tomorrow", "/", ".", "99999999",
]  # fmt: skip
ZONE_PIECES = [
    "utc",
    "gmt",
    "+",
    "-",
    "14",
    "99",
    "12",
    ":",
    "59",
    "europe/",
    "paris",
    " ",
    "new york",
    "pst",
    "etc/",
    "..",
]
UNIT_EXPRESSIONS = st.recursive(
    st.one_of(
        st.integers(0, 10**6).map(str),
        st.sampled_from(["99", "9", "m", "kg", "s", "1e308", "9.9", "²", "⁹⁹"]),
    ),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["*", "**", "/", "^", " ", "·"]), inner).map("".join),
        inner.map(lambda e: f"({e})"),
    ),
    max_leaves=8,
)
"""Arithmetic trees like the issue's ``(99*99*99*99)**(99*99*99*99)``: what pint would evaluate."""
VALUES = st.one_of(
    st.floats(), st.integers(-(10**400), 10**400), st.sampled_from(["inf", "-inf", "nan", "1e999", "2,340"])
)
HUGE_INTS = st.sampled_from([10**9, -(10**9), 10**30, -(10**4000), 3_652_059, 3_652_060, 119_988, 9_998, 0])
AMOUNTS = st.one_of(
    st.integers(-(10**40), 10**40), HUGE_INTS, st.text(max_size=20), _joined(["9", "+", "-", " ", "days"], 30)
)


@FUZZ
@given(st.one_of(RANDOM_TEXT, _joined(CALC_PIECES, 80), UNIT_EXPRESSIONS))
def test_fuzz_calculator(expression: str) -> None:
    _answer_ok(calculator, {"expression": expression})
    _raises_only("evaluate", lambda: evaluate(expression), (ValueError,))


@FUZZ
@given(
    st.one_of(
        RANDOM_TEXT, _joined(UNIT_PIECES, 30), UNIT_EXPRESSIONS, st.sampled_from(["km", "lb", "degC", "m**2"])
    ),
    st.sampled_from(["m", "kg", "degF", "m**2", "1/s"]),
    VALUES,
)
def test_fuzz_convert_units(unit: str, other: str, value: Any) -> None:
    _answer_ok(convert_units, {"value": value, "from_unit": unit, "to_unit": other})
    _answer_ok(convert_units, {"value": value, "from_unit": other, "to_unit": unit})


@settings(FUZZ, max_examples=100)
@given(
    st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**400), 10**400)),
    st.one_of(_joined(UNIT_PIECES, 12), UNIT_EXPRESSIONS, st.sampled_from(["km", "kg", "degC"])),
    st.one_of(_joined(UNIT_PIECES, 12), st.sampled_from(["mm", "lb", "degF"])),
)
def test_fuzz_convert_function(value: float, source: str, target: str) -> None:
    _raises_only("convert", lambda: convert(value, source, target), (ToolException,))


@FUZZ
@given(
    st.one_of(RANDOM_TEXT, _joined(DATE_PIECES, 20)),
    AMOUNTS,
    AMOUNTS,
    AMOUNTS,
    AMOUNTS,
    st.one_of(st.none(), RANDOM_TEXT, _joined(DATE_PIECES, 20)),
)
def test_fuzz_date_calculator(
    start: str, days: Any, weeks: Any, months: Any, years: Any, until: str | None
) -> None:
    args = {"start": start, "add_days": days, "add_weeks": weeks, "add_months": months, "add_years": years}
    _answer_ok(date_calculator, {**args, "until": until})
    _raises_only("parse_date", lambda: parse_date(start), (ValueError,))


@FUZZ
@given(st.one_of(RANDOM_TEXT, _joined(ZONE_PIECES, 20)))
def test_fuzz_current_datetime(zone: str) -> None:
    _answer_ok(current_datetime, {"timezone": zone})
    _raises_only("resolve_timezone", lambda: resolve_timezone(zone), (ValueError,))
