"""Unit conversion with pint, accepting the unit names small models write.

One pint ``UnitRegistry`` is shared by every call; it is built on the first conversion
(importing pint and building the registry take about 0.4 s, never paid at import time).
Names pint reads differently from what people mean are mapped first: ``C`` is Celsius (not
coulomb), ``F`` Fahrenheit (not farad), ``lbs`` pounds, ``fl oz`` fluid ounces (not
femtoliter-ounces). Temperatures are converted as points on their scale (0 °C = 32 °F), with
pint's offset units.

pint's parser evaluates whatever arithmetic a unit holds, exactly and holding the GIL:
``(99*99*99*99)**(99*99*99*99)`` is a multi-gigabit integer that no timeout thread can
interrupt. So unit text is read first by a strict grammar (:class:`_Shape`): unit names,
``* / ·`` and spaces, parentheses three deep, the number 1, and at most three small literal
exponents (-12 to 12); anything else is refused before pint sees it.
"""

from __future__ import annotations

import math
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
    "%": "percent",
}
_DEGREES = re.compile(r"^degrees?\s+")
_PER = re.compile(r"\s+per\s+")
_EXAMPLE_UNITS = "kg, lb, km, miles, feet, °C, F, liters, gallons, km/h, mph"

_MAX_UNIT_CHARS = 40
_MAX_POWERS = 3
_MAX_EXPONENT = 12
_MAX_DEPTH = 3
_POWER_WORDS = frozenset({"squared", "cubed", "square", "cubic", "sq"})  # pint turns these into ** 2 or ** 3
_TOKEN = re.compile(
    r"(?P<space> +)|(?P<pow>\*\*|\^)|(?P<mul>[*/·])|(?P<minus>-)|(?P<open>\()|(?P<close>\))"
    r"|(?P<sup>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)|(?P<num>[0-9]+(?:\.[0-9]+)?)"
    r"|(?P<name>(?:[^\W\d_]|[_°º])(?:[^\W⁰¹²³⁴⁵⁶⁷⁸⁹]|[°º])*)"
)
_OPERAND_ENDS = ("name", "num", "close", "sup")
_OPERAND_STARTS = ("name", "num", "open")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")

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


def _tokens(text: str) -> list[tuple[str, str]]:
    """``text`` as ``(kind, text)`` pairs, or ``ValueError`` naming the first character no unit has."""
    tokens: list[tuple[str, str]] = []
    at = 0
    while at < len(text):
        found = _TOKEN.match(text, at)
        if found is None:
            raise ValueError(f"{text[at]!r} cannot be part of a unit")
        if found.lastgroup == "name" and not _name_ok(found.group()):
            raise ValueError(f"{found.group()!r} is not a unit name")
        if found.lastgroup == "num" and text[found.end() : found.end() + 1].isalnum():
            raise ValueError("write a space between a number and a unit, and no scientific notation")
        tokens.append((found.lastgroup or "", found.group()))
        at = found.end()
    return _mark_spaces(tokens)


def _name_ok(name: str) -> bool:
    # letters, "_" and ASCII digits only: "²" or "٣" count as word characters for re but pint reads
    # superscripts as powers, and other digits are not part of any unit name
    return all(c.isalpha() or c in "_°º" or c in "0123456789" for c in name)


def _mark_spaces(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop spaces; a space between two operands is a multiplication (pint reads ``m s`` as ``m*s``)."""
    out: list[tuple[str, str]] = []
    for i, (kind, text) in enumerate(tokens):
        if kind != "space":
            out.append((kind, text))
        elif (
            out
            and out[-1][0] in _OPERAND_ENDS
            and i + 1 < len(tokens)
            and tokens[i + 1][0] in _OPERAND_STARTS
        ):
            out.append(("mul", "*"))
    return out


class _Shape:
    """A strict reading of a unit expression, refusing whatever could make pint compute a lot.

    Allowed: unit names, ``* / ·`` and spaces between them, parentheses ``_MAX_DEPTH`` deep, the
    number 1 (as in ``1/s``), and at most ``_MAX_POWERS`` powers, each a literal exponent of at
    most ``_MAX_EXPONENT`` (``m**2``, ``s^-1``, ``s**(1/2)``, ``m²``) that is not itself raised to a
    power. Every number pint would otherwise evaluate (``9**9``, ``99*99``, ``1e308``) is refused.
    """

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0
        self.powers = 0

    def peek(self) -> str:
        return self.tokens[self.at][0] if self.at < len(self.tokens) else "end"

    def take(self) -> str:
        self.at += 1
        return self.tokens[self.at - 1][1]

    def check(self) -> None:
        self.product(0)
        if self.peek() != "end":
            raise ValueError(f"unexpected {self.tokens[self.at][1]!r}")

    def product(self, depth: int) -> None:
        self.term(depth)
        while self.peek() == "mul":
            self.take()
            self.term(depth)

    def term(self, depth: int) -> None:
        kind = self.peek()
        if kind == "open":
            if depth >= _MAX_DEPTH:
                raise ValueError(f"parentheses nest more than {_MAX_DEPTH} deep")
            self.take()
            self.product(depth + 1)
            if self.peek() != "close":
                raise ValueError("a parenthesis is not closed")
            self.take()
        elif kind == "name":
            if self.take().lower() in _POWER_WORDS:
                self.count_power()
        elif kind == "num":
            if self.take() != "1":
                raise ValueError("a number in a unit can only be a small exponent, like m**2 or s^-1")
            if self.peek() in ("pow", "sup"):
                raise ValueError("a number raised to a power is not a unit")
            return
        else:
            raise ValueError("a unit name is missing")
        self.power()

    def power(self) -> None:
        kind = self.peek()
        if kind == "sup":
            self.exponent(self.take().translate(_SUPERSCRIPTS))
        elif kind == "pow":
            self.take()
            self.exponent(self.exponent_text())
        else:
            return
        if self.peek() in ("pow", "sup"):
            raise ValueError("a power of a power, like m**2**3")

    def exponent_text(self) -> str:
        """The literal after ``**``: ``2``, ``-1``, ``(-2)``, ``(1/2)``; nothing pint would compute."""
        closing = self.peek() == "open"
        if closing:
            self.take()
        parts = [self.take()] if self.peek() == "minus" else []
        parts += [self.take()] if self.peek() == "num" else []
        if closing and self.peek() == "mul" and self.tokens[self.at][1] == "/":
            parts += [self.take()] + ([self.take()] if self.peek() == "num" else [])
        if closing:
            if self.peek() != "close":
                raise ValueError(f"an exponent must be a number from -{_MAX_EXPONENT} to {_MAX_EXPONENT}")
            self.take()
        return "".join(parts)

    def exponent(self, text: str) -> None:
        found = re.fullmatch(r"(-?)(\d{1,2}(?:\.\d{1,2})?)(?:/(\d{1,2}))?", text)
        if not found or float(found.group(2)) > _MAX_EXPONENT or found.group(3) in ("0", "00"):
            raise ValueError(f"an exponent must be a number from -{_MAX_EXPONENT} to {_MAX_EXPONENT}")
        self.count_power()

    def count_power(self) -> None:
        self.powers += 1
        if self.powers > _MAX_POWERS:
            raise ValueError(f"more than {_MAX_POWERS} powers")


def _refusal(unit: str, reason: str) -> ToolException:
    shown = unit if len(unit) <= _MAX_UNIT_CHARS else unit[:_MAX_UNIT_CHARS] + "..."
    return ToolException(f"{shown!r} is not a unit ({reason}) - write units like {_EXAMPLE_UNITS}")


def _bounded(spelling: str) -> str | None:
    """Why pint must not read ``spelling`` (its parser evaluates ``9**9**9`` exactly, holding the GIL
    until it is done), or ``None`` when its cost is bounded."""
    if len(spelling) > _MAX_UNIT_CHARS:
        return f"longer than {_MAX_UNIT_CHARS} characters"
    try:
        _Shape(spelling).check()
    except ValueError as exc:
        return str(exc)
    return None


def _unit(unit: str) -> Any:
    """``unit`` as pint units; text whose cost pint cannot bound is refused before pint sees it."""
    if not unit.strip():
        raise ToolException(f"a unit is missing - write units like {_EXAMPLE_UNITS}")
    if len(unit) > _MAX_UNIT_CHARS:
        raise _refusal(unit, f"longer than {_MAX_UNIT_CHARS} characters")
    spellings = _spellings(unit)
    reasons = [_bounded(s) for s in spellings]
    safe = [s for s, why in zip(spellings, reasons, strict=True) if why is None]
    if not safe:
        raise _refusal(unit, next(why for why in reasons if why))
    registry = unit_registry()
    for spelling in safe:
        try:
            return registry.parse_units(spelling)
        except Exception:  # UndefinedUnitError, and assorted parser errors on odd text: try the next
            continue
    raise ToolException(f"unknown unit {_one_line(unit)!r} - write units like {_EXAMPLE_UNITS}")


def _one_line(text: str) -> str:
    return " ".join(text.split())[:_MAX_UNIT_CHARS]


def _dimension(registry: Any, units: Any) -> str:
    dims = str(registry.get_dimensionality(units)).replace("[", "").replace("]", "")
    return dims or "no dimension (a pure number)"


def _shown(value: float) -> str:
    """Enough digits for the number's size (6 significant, up to 17 for big numbers), no float noise."""
    digits = int(math.log10(abs(value))) + 1 if abs(value) >= 1 else 1
    return format_number(value, significant=min(max(6, digits + 2), 17))


def _finite(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ToolException(f"{value!r:.40} is not a number - give the value as a number, e.g. 2340") from exc
    if not math.isfinite(number):
        raise ToolException(f"the value {number} is not a finite number - give a number, e.g. 2340 or 2.5e6")
    return number


def convert(value: float, from_unit: str, to_unit: str) -> tuple[float, str, str]:
    """Convert ``value`` from one unit to another.

    Returns:
        The converted value and both units as pint abbreviates them (``("kg", "lb")``).

    Raises:
        ToolException: Unknown unit, a unit whose cost cannot be bounded (refused before pint
            reads it), a value or result that is not a finite number, or units of different
            dimensions (the message names both).
    """
    import pint

    number = _finite(value)
    source, target = _unit(from_unit), _unit(to_unit)
    registry = unit_registry()
    quantity = registry.Quantity(number, source)
    shown_from, shown_to = _one_line(from_unit), _one_line(to_unit)
    try:
        result = float(quantity.to(target).magnitude)
    except pint.errors.DimensionalityError as exc:
        raise ToolException(
            f"cannot convert {shown_from} to {shown_to}: {shown_from} measures "
            f"{_dimension(registry, source)} but {shown_to} measures {_dimension(registry, target)} "
            "- pick two units of the same kind"
        ) from exc
    except pint.errors.PintError as exc:  # e.g. a power of an offset unit such as degC**2
        detail = " ".join(str(exc).split())[:120]
        raise ToolException(
            f"cannot convert {shown_from} to {shown_to} ({detail}) - convert plain units, e.g. C to F"
        ) from exc
    except (OverflowError, ZeroDivisionError) as exc:
        raise ToolException(
            f"the result is too large to compute ({exc}) - use smaller powers or values"
        ) from exc
    if not math.isfinite(result):
        raise ToolException("the result is too large (beyond about 1.8e308) - convert a smaller value")
    return result, f"{source:~P}", f"{target:~P}"


class ConvertUnitsArgs(ToolArgs):
    value: float = Field(description="The number to convert, e.g. 2340.")
    from_unit: str = Field(
        json_schema_extra={"x-grounded": "unit"}, description="Unit of the value, e.g. kg, miles, °C, liters."
    )
    to_unit: str = Field(
        json_schema_extra={"x-grounded": "unit"},
        description="Unit to convert to, e.g. pounds, km, F, gallons.",
    )

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
    example_request="Convert 2340 kg to pounds",
)
"""``convert_units(value, from_unit, to_unit)``: answers ``"2340 kg = 5158.82 lb"``."""
