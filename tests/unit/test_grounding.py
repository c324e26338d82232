"""Grounded tool arguments: grammars that admit only the values a request holds (issue 16)."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from toolkit.backends.grounding import (
    GROUNDED_KEY,
    candidates_for,
    expression_pattern,
    ground_schemas,
    mark_grounded,
    request_turns,
    unfillable,
    ungrounded_numbers,
)
from toolkit.backends.tool_calling import tool_call_gbnf, tool_schemas
from toolkit.text.candidates import extract_candidates
from tools import default_tools


@functools.cache
def _tool_list(workspace: str) -> list[Any]:
    return default_tools(workspace=workspace)


def _tools() -> list[dict[str, Any]]:
    tools = _tool_list(tempfile.gettempdir())
    return mark_grounded(tool_schemas(tools), tools)


def _props(schemas: list[dict[str, Any]], name: str) -> dict[str, Any]:
    fn = next(s["function"] for s in schemas if s["function"]["name"] == name)
    params = fn["parameters"]
    return (params["anyOf"][0] if "anyOf" in params else params)["properties"]


def _grounded(request: str, history: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return ground_schemas(_tools(), extract_candidates(request, history=history))


def test_default_tools_mark_their_grounded_parameters() -> None:
    schemas = _tools()
    assert _props(schemas, "calculator")["expression"][GROUNDED_KEY] == "expression"
    units = _props(schemas, "convert_units")
    assert units["from_unit"][GROUNDED_KEY] == units["to_unit"][GROUNDED_KEY] == "unit"
    assert _props(schemas, "read_file")["path"][GROUNDED_KEY] == "filename"
    assert _props(schemas, "list_files")["path"][GROUNDED_KEY] == "folder"
    assert _props(schemas, "search_documents")["query"][GROUNDED_KEY] == "words"
    assert _props(schemas, "current_datetime")["timezone"][GROUNDED_KEY] == "timezone"


def test_the_issue_transcripts_are_grounded() -> None:
    convert = _props(_grounded("Convert 2,340 kg to pounds."), "convert_units")
    assert convert["value"]["enum"] == [2340]  # the model can no longer stop at the comma
    assert convert["from_unit"]["enum"] == ["kg", "kilogram"]
    assert convert["to_unit"]["enum"] == ["pounds", "pound"]  # no swap possible
    percent = _props(_grounded("What is 17% of 2,340 kg in pounds?"), "convert_units")
    assert set(percent["value"]["enum"]) == {17, 0.17, 2340}  # the written numbers alone...
    request = [HumanMessage("What is 17% of 2,340 kg in pounds?")]
    of = _props(ground_schemas(_tools(), candidates_for(request)), "convert_units")
    assert of["value"]["enum"] == [397.8]  # ...and the quantity the phrase names: 17% of 2,340 kg
    assert "lb," not in percent["to_unit"]["enum"]
    assert percent["from_unit"]["enum"] == ["kg", "kilogram"] and percent["to_unit"]["enum"] == [
        "pounds",
        "pound",
    ]


@pytest.mark.parametrize(
    ("request_text", "source", "target"),
    [
        ("How many kilometers is 26.2 miles?", "mile", "kilometer"),
        ("How many liters are in 3 US gallons?", "gallon", "liter"),
        ("What is 100 degrees Fahrenheit in Celsius?", "degree_Fahrenheit", "degree_Celsius"),
        ("Convert 5 feet into meters.", "foot", "meter"),
        ("Give me pounds for 2,340 kg.", "kilogram", "pound"),
    ],
)
def test_paired_units_follow_the_words_not_the_order(request_text: str, source: str, target: str) -> None:
    props = _props(_grounded(request_text), "convert_units")
    assert source in props["from_unit"]["enum"] and source not in props["to_unit"]["enum"]
    assert target in props["to_unit"]["enum"] and target not in props["from_unit"]["enum"]


@pytest.mark.parametrize(
    ("request_text", "good", "bad"),
    [
        ("What is 17% of 2,340?", ["17% of 2340", "0.17 * 2340", "2340*17%"], ["1.7 * 2340", "172340", "17 2340", "2340 * 17", "17%", "17% of 2340 * 17%"]),
        ("Work out 23% of 5,600 for me.", ["0.23 * 5600", "23% of 5,600"], [".23.5600", "235600", "0.23*56"]),
        ("Compute the square root of 2025.", ["sqrt(2025)", "sqrt( 2025 )"], ["sqrt(2024)", "45", "2025*2025"]),
        ("Evaluate 3 * (4 + 5) - 2.", ["3 * (4 + 5) - 2", "-3 + 2"], ["34 + 5", "3 * 6"]),
        ("What is 3 raised to the power of 7?", ["3 ** 7", "3^7"], ["37", "3 ** 8", "3^7*3^7*3^7", "7"]),
    ],
)  # fmt: skip
def test_the_calculator_takes_the_requests_numbers_and_operators_only(
    request_text: str, good: list[str], bad: list[str]
) -> None:
    pattern = _props(_grounded(request_text), "calculator")["expression"]["pattern"]
    for expression in good:
        assert re.fullmatch(pattern, expression), expression
    for expression in bad:
        assert not re.fullmatch(pattern, expression), expression


def test_no_candidates_leaves_a_parameter_free_and_defaults_stay_possible() -> None:
    free = _grounded("Hello there, how are you?")
    assert "enum" not in _props(free, "convert_units")["value"]
    assert "pattern" not in _props(free, "calculator")["expression"]
    dated = _props(_grounded("What date is 3 weeks after 2026-01-05?"), "date_calculator")
    # one number, written before "weeks": add_weeks (0, its default, stays possible); no add_days
    assert dated["add_weeks"]["enum"] == [3, 0] and "add_days" not in dated and "until" not in dated
    # a date the request gives is meant instead of the default; none given: only the default
    assert dated["start"]["enum"] == ["2026-01-05"]
    assert _props(_grounded("What date is 10 days from now?"), "date_calculator")["start"]["enum"] == [
        "today"
    ]
    # the only date is the pair's other side ("until ..."): the start is left to its default
    until = _props(_grounded("How many days until 2026-12-25?"), "date_calculator")
    assert "start" not in until and until["until"]["enum"] == ["2026-12-25"]


def _fn(schemas: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(s["function"] for s in schemas if s["function"]["name"] == name)


def test_a_call_must_use_the_requests_number_and_dates() -> None:
    # "90 days after 2026-01-15" became {"start": "2026-01-15"}: the 90 was never used
    params = _fn(_grounded("What date is 90 on 2026-01-15?"), "date_calculator")["parameters"]
    choices = params["anyOf"]
    assert [c["required"] for c in choices] == [
        ["start", n] for n in ("add_days", "add_weeks", "add_months", "add_years")
    ]
    for choice in choices:  # one number, one parameter: the other numbers keep their defaults
        name = choice["required"][-1]
        assert choice["properties"][name]["enum"] == [90, 0]
        assert not {"add_days", "add_weeks", "add_months", "add_years"} - {name} & choice["properties"].keys()
    # the unit written after the number names the parameter
    for text, name in (("90 days after 2026-01-15", "add_days"), ("3 weeks after 2026-11-23", "add_weeks")):
        params = _fn(_grounded(f"What date is {text}?"), "date_calculator")["parameters"]
        assert [c["required"] for c in params["anyOf"]] == [["start", name]]
    # one date after "until": that side only
    params = _fn(_grounded("How many days until 2026-12-25?"), "date_calculator")["parameters"]
    assert params["required"] == ["until"] and "start" not in params["properties"]  # start: today
    # two dates: both sides of the pair must be named; no number: nothing to choose among
    params = _fn(_grounded("How many days are there from 2026-03-01 until 2026-12-25?"), "date_calculator")[
        "parameters"
    ]
    assert params["required"] == ["start", "until"] and "anyOf" not in params
    # a required number parameter takes the number already: the schema stays as it was
    params = _fn(_grounded("Convert 2,340 kg to pounds."), "convert_units")["parameters"]
    assert "anyOf" not in params and set(params["required"]) == {"value", "from_unit", "to_unit"}
    # and the grammar llama.cpp gets offers each choice
    gbnf = tool_call_gbnf(_grounded("What date is 90 on 2026-01-15?"), "date_calculator")
    assert all(f'\\"{name}\\"' in gbnf for name in ("add_days", "add_weeks", "add_months", "add_years"))


@pytest.mark.parametrize(
    ("request_text", "zones"),
    [
        ("What time is it right now?", ["local"]),
        ("What's the current time in Tokyo?", ["Tokyo", "Asia/Tokyo"]),
    ],
)
def test_a_time_zone_is_the_requests_or_local(request_text: str, zones: list[str]) -> None:
    assert _props(_grounded(request_text), "current_datetime")["timezone"]["enum"] == zones


def test_a_folder_is_a_word_or_file_of_the_request_or_the_top() -> None:
    folder = _props(_grounded("Which files are inside the reports folder?"), "list_files")["path"]["enum"]
    assert folder[0] == "." and "reports" in folder and "notes/todo.md" not in folder


@pytest.mark.parametrize(
    ("request_text", "good", "bad"),
    [
        ("What do my notes say about the harbour budget?", ["harbour budget", "the harbour budget"], ["project deadline", "harbour-budget", ""]),
        ("According to my documents, who leads project Aurora?", ["project Aurora", "aurora leads"], ["project Aurora lead", "Aurora,"]),
        ("Search my documents for the Kelvara eruption.", ["Kelvara eruption"], ["Kelvara eruption " * 9]),
    ],
)  # fmt: skip
def test_a_search_query_is_made_of_the_requests_words(
    request_text: str, good: list[str], bad: list[str]
) -> None:
    pattern = _props(_grounded(request_text), "search_documents")["query"]["pattern"]
    for query in good:
        assert re.fullmatch(pattern, query), query
    for query in bad:
        assert not re.fullmatch(pattern, query), query


def test_integer_parameters_get_integers_only() -> None:
    schema = {
        "type": "function",
        "function": {
            "name": "book",
            "parameters": {"type": "object", "properties": {"people": {"type": "integer"}}},
        },
    }
    props = _props(ground_schemas([schema], extract_candidates("A table for 4 at 7.30, budget 12.5")), "book")
    assert props["people"]["enum"] == [4]


def test_request_turns_take_the_last_user_message_and_later_tool_results() -> None:
    messages = [
        SystemMessage("be brief"),
        HumanMessage("Earlier question with 11"),
        AIMessage("ok"),
        HumanMessage("Convert 5 feet into meters."),
        AIMessage("", tool_calls=[{"name": "convert_units", "args": {}, "id": "1"}]),
        ToolMessage("5 ft = 1.524 m", tool_call_id="1"),
    ]
    request, history = request_turns(messages)
    assert request == "Convert 5 feet into meters."
    assert history == ["Earlier question with 11", "5 ft = 1.524 m"]
    values = [c.value for c in candidates_for(messages).numbers]
    assert values[0] == 5 and 1.524 in values and 11 in values


def test_the_grammar_carries_the_grounded_values() -> None:
    gbnf = tool_call_gbnf(_grounded("Convert 2,340 kg to pounds."), "convert_units")
    assert '"2340"' in gbnf and "kilogram" in gbnf and "pound" in gbnf


def test_ungrounded_numbers_are_named_for_a_repair() -> None:
    schema = next(s for s in _tools() if s["function"]["name"] == "convert_units")
    found = extract_candidates("Convert 2,340 kg to pounds.")
    assert ungrounded_numbers({"value": 2, "from_unit": "kg", "to_unit": "lb"}, schema, found) == ["value=2"]
    assert ungrounded_numbers({"value": 2340, "from_unit": "kg", "to_unit": "lb"}, schema, found) == []


def test_the_given_schemas_are_not_changed() -> None:
    schemas = _tools()
    before = json.dumps(schemas, sort_keys=True)
    ground_schemas(schemas, extract_candidates("Convert 2,340 kg to pounds."))
    assert json.dumps(schemas, sort_keys=True) == before


# -- property: a grounded parameter admits nothing outside the candidates ---------------------------

WORDS = st.sampled_from(
    ["convert", "kg", "to", "pounds", "from", "miles", "km", "what", "is", "of", "in", "%", "Paris", "Tokyo"]
)
NUMBERS = st.one_of(
    st.integers(-(10**6), 10**7).map(str),
    st.floats(0, 10**5, allow_nan=False).map(lambda x: f"{x:.2f}"),
    st.integers(1000, 10**7).map(lambda n: f"{n:,}"),
)
REQUESTS = st.lists(st.one_of(WORDS, NUMBERS), min_size=1, max_size=14).map(" ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(request=REQUESTS, probe=st.integers(-(10**8), 10**8))
def test_grounded_values_are_always_candidates(request: str, probe: int) -> None:
    found = extract_candidates(request)
    numbers = {c.value for c in found.numbers} | {round(c.value / 100, 12) for c in found.numbers}
    unit_values = {v for c in found.units for v in (c.text, str(c.value))}
    grounded = ground_schemas(_tools(), found)
    convert = _props(grounded, "convert_units")
    if found.numbers:
        assert set(convert["value"]["enum"]) <= numbers
    for side in ("from_unit", "to_unit"):
        assert set(convert[side].get("enum", [])) <= unit_values
    pattern = expression_pattern(found.numbers)
    if pattern is not None:
        atoms = {c.text.strip() for c in found.numbers} | {str(c.value) for c in found.numbers}
        atoms |= {str(round(c.value / 100, 12)) for c in found.numbers if c.role == "percent"}
        atoms -= {
            str(c.value) for c in found.numbers if c.role == "percent" and c.text.strip() != str(c.value)
        }
        # a number the request does not hold cannot be written as the whole expression
        if str(probe) not in atoms and str(abs(probe)) not in atoms:
            assert not re.fullmatch(pattern, str(probe))


# -- worked examples from the tools themselves (issue 16, item 5) ---------------------------------


def test_tools_without_native_format_get_worked_examples_within_the_budget() -> None:
    from toolkit.backends.tool_calling import MAX_EXAMPLE_CHARS, call_examples, tools_system_prompt

    tools = _tool_list(tempfile.gettempdir())
    examples = call_examples(tools)
    assert examples["convert_units"]["request"] == "Convert 2340 kg to pounds"
    assert examples["calculator"]["args"] == {"expression": "2340 * 0.17"}
    prompt = tools_system_prompt(mark_grounded(tool_schemas(tools), tools), "auto", examples)
    block = prompt.split("Examples:\n", 1)[1].split("\nIf no tool", 1)[0]
    lines = block.splitlines()
    assert lines[0].startswith('- "What is 17% of 2340?" -> {"name": "calculator"')
    assert len(block) <= MAX_EXAMPLE_CHARS + len(lines) and len(lines) >= 3
    for line in lines:  # each example is a call the model could copy the format of
        call = json.loads(line.split(" -> ", 1)[1])
        assert set(call) == {"name", "parameters"}
    assert "Examples:" not in tools_system_prompt(tool_schemas(tools), "auto")


@pytest.mark.parametrize(
    ("request_text", "tool", "missing"),
    [
        ("Convert the weight to pounds.", "convert_units", ["value"]),  # no number to convert
        ("Convert 5 feet into meters.", "convert_units", []),
        ("Open my notes and show them.", "read_file", ["path"]),  # no file named
        ("Show me the contents of reports/q3.md.", "read_file", []),
        ("What is the meaning of life?", "calculator", []),  # free text: not for grounding to judge
    ],
)
def test_required_values_the_request_cannot_fill(request_text: str, tool: str, missing: list[str]) -> None:
    schema = _fn(_tools(), tool)
    assert unfillable(schema, extract_candidates(request_text)) == missing


def test_the_router_answers_in_text_when_a_call_would_invent_a_value() -> None:
    from toolkit.backends.llamacpp.planning import plan_tools

    def plan(request: str, ground: bool) -> str:
        params = {
            "tools": _tools(),
            "tool_choice": "auto",
            "grammar": None,
            "tool_examples": {},
            "parallel_tool_calls": False,
        }
        with patch("toolkit.backends.llamacpp.planning.routed_choice", return_value="convert_units"):
            return plan_tools(
                [HumanMessage(request)], params, router="similarity", template=lambda: "", ground=ground
            ).choice

    assert plan("Convert the weight to pounds.", ground=True) == "none"
    assert plan("Convert the weight to pounds.", ground=False) == "convert_units"
    assert plan("Convert 5 kg to pounds.", ground=True) == "convert_units"


def test_a_percent_of_phrase_is_one_quantity_unless_the_tool_takes_the_percentage() -> None:
    found = candidates_for([HumanMessage("Tip 18% of the $84 bill, and what is 5% of 3,000?")])
    assert [(c.value, c.text) for c in found.numbers if c.role == "percent of"] == [
        (15.12, "18% of the $84"),
        (150, "5% of 3,000"),
    ]
    tip = {
        "type": "function",
        "function": {
            "name": "tip_amount",
            "description": "Tip to leave on a bill.",
            "parameters": {
                "type": "object",
                "properties": {"bill": {"type": "number"}, "percent": {"type": "number"}},
                "required": ["bill", "percent"],
            },
        },
    }
    scale = {**tip, "function": {**tip["function"], "name": "scale", "parameters": {
        "type": "object", "properties": {"amount": {"type": "number"}}, "required": ["amount"]}}}  # fmt: skip
    tip_props, scale_props = (
        s["function"]["parameters"]["properties"] for s in ground_schemas([tip, scale], found)
    )
    assert 84 in tip_props["bill"]["enum"] and 18 in tip_props["percent"]["enum"]  # takes the percentage
    assert scale_props["amount"]["enum"] == [15.12, 150]  # takes the quantity
    calc = _props(ground_schemas(_tools(), found), "calculator")["expression"]["pattern"]
    assert re.fullmatch(calc, "5% of 3,000") and not re.search(
        r"15\[?\.", calc
    )  # the expression keeps its terms


def test_the_router_answers_in_text_when_the_tool_does_another_thing() -> None:
    from toolkit.backends.llamacpp.planning import plan_tools

    def plan(request: str, examples: dict[str, list[str]]) -> str:
        params = {
            "tools": _tools(),
            "tool_choice": "auto",
            "grammar": None,
            "tool_examples": examples,
            "parallel_tool_calls": False,
        }
        with patch("toolkit.backends.llamacpp.planning.routed_choice", return_value="convert_units"):
            return plan_tools(
                [HumanMessage(request)], params, router="similarity", template=lambda: "", ground=True
            ).choice

    assert plan("Convert 5 kg to pounds.", {}) == "convert_units"
    assert plan("Buy 5 kg of apples.", {}) == "none"
    assert plan("Buy 5 kg of apples.", {"convert_units": ["buy and convert 5 kg"]}) == "convert_units"
