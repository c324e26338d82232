"""Unit conversion with pint, accepting the unit names small models write.

One pint ``UnitRegistry`` is shared by every call; it is built on the first conversion
(importing pint and building the registry take about 0.4 s, never paid at import time).
Names pint reads differently from what people mean are mapped first: ``C`` is Celsius (not
coulomb), ``F`` Fahrenheit (not farad), ``lbs`` pounds, ``fl oz`` fluid ounces (not
femtoliter-ounces). Temperatures are converted as points on their scale (0 °C = 32 °F), with
pint's offset units.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import Field, field_validator

from tools._base import ToolArgs, ToolException, build_tool, format_number

__all__ = ["convert", "convert_units", "unit_registry"]

_ALIASES = {
    # temperature: pint reads "C" as coulomb and "F" as farad
    "c": "degC",
    "°c": "degC",
    "ºc": "degC",
    "deg c": "degC",
    "degc": "degC",
    "celsius": "degC",
    "centigrade": "degC",
    "f": "degF",
    "°f": "degF",
    "ºf": "degF",
    "deg f": "degF",
    "degf": "degF",
    "fahrenheit": "degF",
    "k": "kelvin",
    "kelvins": "kelvin",
    # mass
    "lbs": "pound",
    "lb": "pound",
    "pounds": "pound",
    "kilos": "kilogram",
    "kgs": "kilogram",
    "tonnes": "metric_ton",
    "tonne": "metric_ton",
    "metric ton": "metric_ton",
    "metric tons": "metric_ton",
    # volume
    "fl oz": "fluid_ounce",
    "fluid ounces": "fluid_ounce",
    "fluid ounce": "fluid_ounce",
    "litres": "liter",
    "litre": "liter",
    "l": "liter",
    "gallons": "gallon",
    "gal": "gallon",
    "cc": "cubic_centimeter",
    # speed
    "kph": "kilometer/hour",
    "kmh": "kilometer/hour",
    "km/hr": "kilometer/hour",
    "mph": "mile/hour",
    "knots": "knot",
    # length
    "nautical miles": "nautical_mile",
    "nautical mile": "nautical_mile",
    '"': "inch",
    "'": "foot",
}
_DEGREES = re.compile(r"^degrees?\s+")
_PER = re.compile(r"\s+per\s+")
_EXAMPLE_UNITS = "kg, lb, km, miles, feet, °C, F, liters, gallons, km/h, mph"

_MAX_UNIT_CHARS = 40
_LONG_NUMBER = re.compile(r"\d{3,}")
_POWER = re.compile(r"\*\*|\^")
_POWER_CHAIN = re.compile(r"(?:\*\*|\^)[\s()+-]*[\d.]+[\s()]*(?:\*\*|\^)")

_registry: Any = None
_lock = threading.Lock()


def unit_registry() -> Any:
    """The shared pint ``UnitRegistry``, built on first use."""
    global _registry
    with _lock:
        if _registry is None:
            import pint

            _registry = pint.UnitRegistry()
        return _registry


def _spellings(unit: str) -> list[str]:
    """Ways to read ``unit``: the alias, then pint's own reading, then words joined by ``_``."""
    text = unit.strip()
    key = re.sub(r"\s+", " ", text.lower())
    key = _PER.sub("/", key)
    candidates = [_ALIASES.get(key), _ALIASES.get(_DEGREES.sub("", key))]
    if _DEGREES.match(key):
        candidates.append(_ALIASES.get("deg " + _DEGREES.sub("", key)))
    joined = key.replace(" ", "_")
    candidates += [joined, key, text]
    return [c for i, c in enumerate(candidates) if c and c not in candidates[:i]]


def _check_size(unit: str) -> None:
    """Refuse unit text that would make pint compute a huge number (its parser evaluates
    ``9**9**9`` exactly, which never ends): long text, long numbers, chained powers."""
    powers = len(_POWER.findall(unit))
    if len(unit) > _MAX_UNIT_CHARS or _LONG_NUMBER.search(unit) or powers > 3 or _POWER_CHAIN.search(unit):
        raise ToolException(f"{unit[:_MAX_UNIT_CHARS]!r} is not a unit - write units like {_EXAMPLE_UNITS}")


def _unit(registry: Any, unit: str) -> Any:
    if not unit.strip():
        raise ToolException(f"a unit is missing - write units like {_EXAMPLE_UNITS}")
    _check_size(unit)
    for spelling in _spellings(unit):
        try:
            return registry.parse_units(spelling)
        except Exception:  # UndefinedUnitError, and assorted parser errors on odd text: try the next
            continue
    raise ToolException(f"unknown unit {unit!r} - write units like {_EXAMPLE_UNITS}")


def _dimension(registry: Any, units: Any) -> str:
    dims = str(registry.get_dimensionality(units)).replace("[", "").replace("]", "")
    return dims or "no dimension (a pure number)"


def _shown(value: float) -> str:
    """Enough digits for the number's size (6 significant, more for big numbers), no float noise."""
    digits = len(str(int(abs(value)))) if abs(value) >= 1 else 1
    return format_number(value, significant=max(6, digits + 2))


def convert(value: float, from_unit: str, to_unit: str) -> tuple[float, str, str]:
    """Convert ``value`` from one unit to another.

    Returns:
        The converted value and both units as pint abbreviates them (``("kg", "lb")``).

    Raises:
        ToolException: Unknown unit, or units of different dimensions (the message names both).
    """
    import pint

    registry = unit_registry()
    source, target = _unit(registry, from_unit), _unit(registry, to_unit)
    quantity = registry.Quantity(value, source)
    try:
        result = quantity.to(target)
    except pint.errors.DimensionalityError as exc:
        raise ToolException(
            f"cannot convert {from_unit} to {to_unit}: {from_unit} measures "
            f"{_dimension(registry, source)} but {to_unit} measures {_dimension(registry, target)} "
            "- pick two units of the same kind"
        ) from exc
    return float(result.magnitude), f"{source:~P}", f"{target:~P}"


class ConvertUnitsArgs(ToolArgs):
    value: float = Field(description="The number to convert, e.g. 2340.")
    from_unit: str = Field(description="Unit of the value, e.g. kg, miles, °C, liters.")
    to_unit: str = Field(description="Unit to convert to, e.g. pounds, km, F, gallons.")

    @field_validator("value", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        # "2,340", "2340 kg", "-40°": the number is what comes first
        if isinstance(value, str):
            found = re.match(r"^\s*([+-]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?)", value, re.IGNORECASE)
            if found:
                return found.group(1).replace(",", "")
        return value


def _convert_units(value: float, from_unit: str, to_unit: str) -> str:
    result, source, target = convert(value, from_unit, to_unit)
    return f"{_shown(value)} {source} = {_shown(result)} {target}"


convert_units: BaseTool = build_tool(
    _convert_units,
    name="convert_units",
    description="Convert a value between units: weight, length, volume, speed, temperature (e.g. kg to pounds).",
    args_schema=ConvertUnitsArgs,
    examples=[
        "Convert 2340 kg to pounds",
        "How many miles is 42 km?",
        "What is 100 °F in Celsius?",
        "How many liters are in 5 gallons?",
        "Convert 6 feet to cm",
        "120 km/h in mph?",
        "How many ounces in a pound?",
    ],
    example_args={"value": 2340, "from_unit": "kg", "to_unit": "pounds"},
)
"""``convert_units(value, from_unit, to_unit)``: answers ``"2340 kg = 5158.82 lb"``."""
