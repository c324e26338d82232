"""Near misses the similarity router cannot tell apart: a tool on the request's subject that
does another thing, or takes another kind of quantity (toolkit.backends.request_fit)."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from tool_prompts_dev import DEV_SERVICEABLE, DEV_UNSERVICEABLE  # tests/ is on sys.path (conftest)
from tool_prompts_heldout import _fn, _num, _str

from toolkit.backends.grounding import candidates_for, unfillable
from toolkit.backends.request_fit import misfit, request_action
from toolkit.backends.tool_router import ToolRouter


def _misfit(request: str, schema: dict[str, Any], examples: tuple[str, ...] = ()) -> str | None:
    return misfit(schema, request, candidates_for([HumanMessage(request)]), examples)


@pytest.mark.parametrize(
    ("request_text", "action"),
    [
        ("Cancel my flight to Rome.", "cancel"),
        ("Please cancel my flight.", "cancel"),
        ("Could you please delete the old reminder?", "delete"),
        ("I'd like to buy two tickets.", "buy"),
        ("Phone the dentist.", "call"),
        ("Reserve a table for two.", "book"),
        ("Turn off the lights.", "switch"),
        ("Switch the heating on.", "switch"),
        ("Turn 500 grams into ounces.", None),  # a conversion, not a switch
        ("What is 17% of 2,340?", None),
        ("Convert 5 km to miles.", None),
        ("How tall is the Eiffel Tower?", None),
        ("", None),
        ("   ", None),
    ],
)
def test_the_action_a_request_opens_with(request_text: str, action: str | None) -> None:
    assert request_action(request_text) == action


_FLIGHTS = _fn(
    "search_flights", "Search flights between two cities.", {"origin": _str("From."), "to": _str("To.")}
)
_LENGTH = _fn("length_conversion", "Convert a length between units.", {"value": _num("Length.")})
_F_TO_C = _fn(
    "fahrenheit_to_celsius",
    "Convert a temperature from Fahrenheit to Celsius.",
    {"fahrenheit": _num("Temperature in degrees Fahrenheit.")},
)
_BMI = _fn(
    "bmi",
    "Body mass index.",
    {"weight_kg": _num("Weight in kilograms."), "height_m": _num("Height in metres.")},
)
_THERMOSTAT = _fn("set_temperature", "Set a room's temperature.", {"degrees": _num("Target temperature.")})
_BOOKING = _fn("hotel_booking", "Reserve a hotel room.", {"city": _str("City.")})


@pytest.mark.parametrize(
    ("request_text", "schema", "why"),
    [
        ("Cancel my flight to Rome.", _FLIGHTS, "asks to cancel"),
        ("Convert 5 kilograms to pounds.", _LENGTH, "not a [length] quantity"),
        ("What's 40 degrees Celsius in Fahrenheit?", _F_TO_C, "fahrenheit is in degree_Fahrenheit"),
        ("Please buy me a flight to Rome.", _FLIGHTS, "asks to buy"),
    ],
)
def test_a_tool_that_cannot_serve_the_request_is_named_with_why(
    request_text: str, schema: dict[str, Any], why: str
) -> None:
    reason = _misfit(request_text, schema)
    assert reason is not None and why in reason


@pytest.mark.parametrize(
    ("request_text", "schema", "examples"),
    [
        ("Find flights from Paris to Rome.", _FLIGHTS, ()),
        ("Convert 5 kilometres to miles.", _LENGTH, ()),
        ("Convert 30 feet to metres", _LENGTH, ()),
        ("What is 68 degrees Fahrenheit in Celsius?", _F_TO_C, ()),
        ("What is 68 in Celsius?", _F_TO_C, ()),  # a number without a unit: any unit
        ("Calculate the BMI for 82 kg and 1.80 m.", _BMI, ()),
        ("Set the living room to 21 degrees.", _THERMOSTAT, ()),  # "degrees" alone: no kind
        ("Book a room in Lisbon.", _BOOKING, ()),  # book ~ reserve
        ("Cancel my flight to Rome.", _FLIGHTS, ("cancel a flight booking",)),  # the examples say so
    ],
)
def test_a_tool_that_can_serve_the_request_is_not_refused(
    request_text: str, schema: dict[str, Any], examples: tuple[str, ...]
) -> None:
    assert _misfit(request_text, schema, examples) is None


def test_the_development_set_separates_calls_from_near_misses() -> None:
    """The set the checks were tuned on (tests/tool_prompts_dev.py; the held-out set is measured
    by bench/tool_calls.py): with the router's choice, the unfillable check and misfit,
    at most 2 of 24 unservable requests get a call and at least 22 of 24 servable ones do."""
    router = ToolRouter()

    def called(case: Any) -> bool:
        pick = router.choose(case.prompt, case.functions, {})
        if pick is None:
            return False
        schema = next(f for f in case.functions if f["function"]["name"] == pick)
        found = candidates_for([HumanMessage(case.prompt)])
        return not unfillable(schema, found) and misfit(schema, case.prompt, found) is None

    spurious = [c.prompt for c in DEV_UNSERVICEABLE if called(c)]
    missed = [c.prompt for c in DEV_SERVICEABLE if not called(c)]
    assert len(spurious) <= 2, spurious
    assert len(missed) <= 2, missed
