"""The held-out tool-calling set (``tests/tool_prompts_heldout.py``): sizes, valid schemas,
expected arguments that fit them, prompts kept apart from the tuned set, and ``args_match``."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from tool_prompts import SMALL_TALK, TOOL_PROMPTS
from tool_prompts_heldout import SINGLE_FUNCTION, UNSERVICEABLE, HeldOutCase, args_match

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
JSON_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
}
ALL = SINGLE_FUNCTION + UNSERVICEABLE


def _id(case: HeldOutCase) -> str:
    return case.prompt[:40]


def _params(case: HeldOutCase) -> dict[str, Any]:
    return dict(case.function["function"]["parameters"])


def _has_type(value: Any, spec: dict[str, Any]) -> bool:
    kind = spec["type"]
    if isinstance(value, bool) and kind != "boolean":
        return False  # bool is an int to Python, never to JSON schema
    if not isinstance(value, JSON_TYPES[kind]):
        return False
    if kind == "array":
        return all(_has_type(item, spec["items"]) for item in value)
    return True


def _norm(prompt: str) -> str:
    return prompt.strip().rstrip(".?!").casefold()


def _tool_examples() -> set[str]:
    """The string literals in every ``examples=[...]`` keyword in ``tools/*.py``."""
    found: set[str] = set()
    for path in sorted((ROOT / "tools").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "examples" and isinstance(node.value, ast.List):
                found |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return found


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


# --- the set itself ------------------------------------------------------------------------------


def test_sizes() -> None:
    assert len(SINGLE_FUNCTION) >= 60
    assert len(UNSERVICEABLE) >= 20


@pytest.mark.parametrize("case", ALL, ids=_id)
def test_function_schemas_are_valid(case: HeldOutCase) -> None:
    names = [f["function"]["name"] for f in case.functions]
    assert len(names) == len(set(names))
    for tool in case.functions:
        assert tool["type"] == "function"
        fn = tool["function"]
        assert NAME.match(fn["name"]), fn["name"]
        assert fn["description"].strip()
        params = fn["parameters"]
        assert params["type"] == "object"
        assert params["properties"]
        assert set(params["required"]) <= set(params["properties"])
        assert "examples" not in _keys(tool) and "example" not in _keys(tool)
        for name, spec in params["properties"].items():
            assert NAME.match(name), name
            assert spec["type"] in JSON_TYPES
            assert spec["description"].strip()
            if name not in params["required"]:
                assert "default" in spec, f"optional {name} needs a default"
            if "default" in spec:
                assert _has_type(spec["default"], spec)
                assert "enum" not in spec or spec["default"] in spec["enum"]
            for value in spec.get("enum", []):
                assert _has_type(value, spec)


@pytest.mark.parametrize("case", SINGLE_FUNCTION, ids=_id)
def test_expected_args_fit_the_schema(case: HeldOutCase) -> None:
    assert case.expected is not None
    assert not case.other_functions
    assert case.check in ("exact", "contains")
    params = _params(case)
    properties = params["properties"]
    assert set(params["required"]) <= set(case.expected)
    for name, value in case.expected.items():
        assert name in properties, name
        assert _has_type(value, properties[name]), (name, value)
        if "enum" in properties[name]:
            assert value in properties[name]["enum"], (name, value)


def test_single_function_cases_each_invent_their_function() -> None:
    names = [c.function["function"]["name"] for c in SINGLE_FUNCTION]
    assert len(names) == len(set(names))


def test_unserviceable_cases_expect_no_call() -> None:
    assert all(c.expected is None for c in UNSERVICEABLE)
    for case in UNSERVICEABLE:
        assert not args_match(case, {})


def test_prompts_are_unique_and_not_from_the_tuned_set_or_tool_examples() -> None:
    prompts = [_norm(c.prompt) for c in ALL]
    assert len(prompts) == len(set(prompts))
    tuned = {_norm(p.prompt) for p in TOOL_PROMPTS} | {_norm(p) for p in SMALL_TALK}
    examples = {_norm(e) for e in _tool_examples()}
    assert len(examples) > 30  # the AST walk found the tools' examples
    assert not set(prompts) & tuned
    assert not set(prompts) & examples


# --- args_match ----------------------------------------------------------------------------------


def _case(name: str) -> HeldOutCase:
    return next(c for c in SINGLE_FUNCTION if c.function["function"]["name"] == name)


@pytest.mark.parametrize("case", SINGLE_FUNCTION, ids=_id)
def test_args_match_accepts_the_expected_args_and_rejects_an_extra_one(case: HeldOutCase) -> None:
    assert case.expected is not None
    assert args_match(case, dict(case.expected))
    assert not args_match(case, {**case.expected, "unexpected_extra": 1})


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in SINGLE_FUNCTION
        if any(_has_type(v, {"type": "number"}) for v in (c.expected or {}).values())
    ],
    ids=_id,
)
def test_args_match_rejects_a_changed_number(case: HeldOutCase) -> None:
    assert case.expected is not None
    name = next(k for k, v in case.expected.items() if _has_type(v, {"type": "number"}))
    assert not args_match(case, {**case.expected, name: case.expected[name] + 1})
    assert args_match(case, {**case.expected, name: float(case.expected[name]) + 1e-9})
    assert not args_match(case, {**case.expected, name: str(case.expected[name])})


@pytest.mark.parametrize(
    ("function", "first", "second"),
    [
        ("convert_currency_amount", "from_currency", "to_currency"),
        ("book_hotel_room", "check_in", "check_out"),
        ("search_flights", "origin", "destination"),
        ("convert_time_between_zones", "from_timezone", "to_timezone"),
        ("rename_file", "current_name", "new_name"),
        ("triangle_area", "base", "height"),
        ("get_directions", "origin", "destination"),
    ],
)
def test_args_match_rejects_a_swapped_pair(function: str, first: str, second: str) -> None:
    case = _case(function)
    assert case.expected is not None
    swapped = {**case.expected, first: case.expected[second], second: case.expected[first]}
    assert not args_match(case, swapped)


def test_args_match_fills_defaults_on_both_sides() -> None:
    fall = _case("free_fall_time")  # expects the default gravity, left out
    assert args_match(fall, {"height_m": 45, "gravity": 9.81})
    assert not args_match(fall, {"height_m": 45, "gravity": 9.8})
    interest = _case("calculate_compound_interest")  # expects a non-default value
    assert interest.expected is not None
    assert not args_match(interest, {k: v for k, v in interest.expected.items() if k != "compounds_per_year"})
    assert not args_match(interest, {k: v for k, v in interest.expected.items() if k != "years"})


def test_args_match_compares_strings_by_case_and_check() -> None:
    weather = _case("get_weather_forecast")
    assert args_match(weather, {"city": " lisbon ", "date": "2025-03-03", "units": "FAHRENHEIT"})
    assert not args_match(weather, {"city": "Lisbon, Portugal", "date": "2025-03-03", "units": "fahrenheit"})
    products = _case("search_products")  # check="contains"
    assert args_match(
        products,
        {"query": "Wireless Headphones bluetooth", "max_price": 150.0, "sort_by": "price_low_to_high"},
    )
    assert not args_match(products, {"query": "headphones", "max_price": 150, "sort_by": "price_low_to_high"})


def test_args_match_compares_booleans_and_lists_strictly() -> None:
    copy = _case("copy_file")
    assert not args_match(
        copy, {"source": "report_q3.xlsx", "destination": "archive/report_q3.xlsx", "overwrite": 1}
    )
    stats = _case("summary_statistic")
    assert args_match(stats, {"values": [14.0, 3, 27, 8, 19], "measure": "median"})
    assert not args_match(stats, {"values": [3, 8, 14, 19, 27], "measure": "median"})
