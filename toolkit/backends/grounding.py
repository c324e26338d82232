"""Grounded tool arguments: a call's values can only be values the request really holds.

A grammar guarantees a call's shape; this ties its values to what the user said. Before a
call is decoded, :func:`ground_schemas` rewrites each offered tool's parameter schemas from
the candidate values found in the request and recent turns (:mod:`toolkit.text.candidates`):

- ``number`` / ``integer`` parameters: an ``enum`` of the request's numbers (a percentage
  offered both as written and as a fraction: ``17%`` -> 17 and 0.17);
- ``string`` parameters a tool marks ``"x-grounded": <kind>`` (``unit``, ``timezone``,
  ``filename``, ``date``, ``time``, ``quoted``, ``url``): an ``enum`` of those candidates, as
  written and normalised (``kg`` and ``kilogram``);
- ``"x-grounded": "expression"`` (the calculator): a ``pattern`` that admits the request's
  numbers, the operators and the functions the calculator knows, so ``23% of 5,600`` cannot
  become ``.23.5600``;
- paired parameters (``from_unit`` / ``to_unit``, ``start`` / ``end``, ``origin`` /
  ``destination``): when the text says which is which ("from X", "to Y"), each side is
  offered only its own, so the pair cannot be swapped.

A parameter with no candidates, or a free-text one (a query), keeps its schema: the model
still writes what the request does not contain. :func:`ungrounded_numbers` checks a call
after the fact (for backends without grammars, such as Ollama).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from toolkit.text.candidates import Candidate, Candidates, extract_candidates

__all__ = [
    "GROUNDED_KEY",
    "MAX_ENUM",
    "candidates_for",
    "expression_pattern",
    "ground_schemas",
    "grounded_text_gbnf",
    "grounded_values",
    "mark_grounded",
    "request_turns",
    "ungrounded_numbers",
]

GROUNDED_KEY = "x-grounded"
"""The JSON-schema key a tool sets on a string parameter to have it grounded, with its kind."""

MAX_ENUM = 48
"""Most values one grounded parameter offers (the first found, the request's first)."""

_KIND_LISTS = {
    "unit": "units",
    "timezone": "timezones",
    "filename": "filenames",
    "date": "dates",
    "time": "times",
    "quoted": "quoted",
    "url": "urls",
}
# Parameter name pairs: (first, second) roles the text marks with "from"/"to".
_PAIRS = (
    ("from", "to"),
    ("source", "target"),
    ("origin", "destination"),
    ("start", "end"),
    ("start", "until"),
    ("since", "until"),
)


def mark_grounded(schemas: Sequence[dict[str, Any]], tools: Sequence[Any]) -> list[dict[str, Any]]:
    """The schemas with each LangChain tool's ``x-grounded`` markers copied onto its parameters.

    LangChain's tool-to-schema conversion drops a field's ``json_schema_extra``; the markers
    are read back from the tool's argument model. Schemas given as dicts keep their own.
    """
    marks: dict[str, dict[str, str]] = {}
    for tool in tools:
        model, name = getattr(tool, "args_schema", None), getattr(tool, "name", None)
        if isinstance(name, str) and hasattr(model, "model_json_schema"):
            props = model.model_json_schema().get("properties", {})  # type: ignore[union-attr]
            found = {
                k: v[GROUNDED_KEY] for k, v in props.items() if isinstance(v, dict) and GROUNDED_KEY in v
            }
            if found:
                marks[name] = found
    out = []
    for schema in schemas:
        wanted = marks.get(schema["function"]["name"])
        if wanted:
            schema = copy.deepcopy(schema)
            props = (schema["function"].get("parameters") or {}).get("properties") or {}
            for key, kind in wanted.items():
                if isinstance(props.get(key), dict):
                    props[key][GROUNDED_KEY] = kind
        out.append(schema)
    return out


def request_turns(messages: Sequence[BaseMessage], history: int = 4) -> tuple[str, list[str]]:
    """The request a call answers (the last user message) and up to ``history`` turns before it.

    Tool results after the request count as recent turns: a follow-up call may use them.
    """
    texts = [(m, m.text) for m in messages if isinstance(m, (HumanMessage, ToolMessage))]
    last = max((i for i, (m, _) in enumerate(texts) if isinstance(m, HumanMessage)), default=None)
    if last is None:
        return "", []
    request = texts[last][1]
    earlier = [t for _, t in texts[:last]][-history:]
    after = [t for _, t in texts[last + 1 :]]
    return request, [*earlier, *after]


def candidates_for(messages: Sequence[BaseMessage]) -> Candidates:
    """The candidate values of a conversation's latest request."""
    request, history = request_turns(messages)
    return extract_candidates(request, history=history)


def _number_values(found: Sequence[Candidate], integer: bool) -> list[int | float]:
    values: list[int | float] = []
    for c in found:
        options = [c.value]
        if c.role == "percent":
            options.append(round(c.value / 100, 12))
        for v in options:
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                if integer and not float(v).is_integer():
                    continue
                v = int(v) if float(v).is_integer() and abs(v) < 2**53 else float(v)
                if v not in values:
                    values.append(v)
    return values[:MAX_ENUM]


def grounded_values(found: Sequence[Candidate]) -> list[str]:
    """String values to offer from candidates: each as written, then normalised."""
    values: list[str] = []
    for c in found:
        for v in (c.text.strip("\"'`“”‘’"), str(c.value)):
            if v and v not in values:
                values.append(v)
    return values[:MAX_ENUM]


def _number_forms(found: Sequence[Candidate], *, percent_as_fraction: bool) -> list[str]:
    """The ways the numbers may be written: as in the request, and plain (``2,340``, ``2340``).

    With ``percent_as_fraction``, "17%" is offered as ``17%`` or ``0.17``, never a bare 17.
    """
    forms: list[str] = []
    for c in found:
        plain = str(round(c.value / 100, 12)) if percent_as_fraction and c.role == "percent" else str(c.value)
        for form in (c.text.strip(), plain):
            if form and re.fullmatch(r"[\d., %]+", form) and form not in forms:
                forms.append(form)
    return forms


def expression_pattern(found: Sequence[Candidate]) -> str | None:
    """A regex for arithmetic over the request's numbers, or None if it has none.

    Terms are the request's numbers (as written, plain; a percentage as written or as a fraction),
    ``pi`` and ``e``, each behind any openers (``sqrt(``, ``(``, a minus) and before any
    ``)``; an operator (``+ - * / // % ** ^ ,`` or ``of``) must stand between two terms, so
    two numbers can never run together into one the request does not hold.
    """
    numbers = _number_forms(found, percent_as_fraction=True)
    if not numbers:
        return None
    # Longest first, so a grammar never stops inside a longer number. "." is written "[.]":
    # llama.cpp's grammar parser knows no "\." escape inside a literal.
    atoms = [n.replace(".", "[.]") for n in sorted(numbers, key=len, reverse=True)[: MAX_ENUM * 2]]
    term = f"({'|'.join(_FN_OPENERS)}|\\( ?|- ?)*({'|'.join([*atoms, 'pi', 'e'])})( ?\\))*"
    op = " ?(\\*\\*|//|[-+*/%^,]|of) ?"
    return f"^ ?{term}({op}{term})* ?$"


_FN_OPENERS = tuple(
    f"{name} ?\\( ?" for name in ("sqrt", "log10", "log", "exp", "sin", "cos", "tan", "abs", "round")
)


def grounded_text_gbnf(found: Candidates) -> str | None:
    """A grammar for a text answer whose numbers are all numbers of the request or the tool
    results (as written or plain), or None when they hold none.

    A small model answering from a tool result copies its number wrong ("397.8" became
    "39.78"); under this grammar a digit can only start one of the numbers it was given.
    Like any text answer, the first character cannot open a call.
    """
    forms = [f for f in _number_forms(found.numbers, percent_as_fraction=False) if " " not in f]
    if not forms:
        return None
    numbers = " | ".join(f'"{f}"' for f in sorted(forms, key=len, reverse=True)[: MAX_ENUM * 2])
    # Braces never: an answer from a tool result has no JSON to write (a small model copies calls).
    return f"root ::= ([^{{[ \\t\\n0-9] | num) ([^{{}}0-9] | num)*\nnum ::= {numbers}\n"


def _role_of(name: str) -> tuple[str, str] | None:
    """("from"|"to", the name with the role word taken out) for a paired parameter name."""
    low = name.lower()
    for first, second in _PAIRS:
        for word, role in ((first, "from"), (second, "to")):
            for pattern in (rf"^{word}_(.+)$", rf"^(.+)_{word}$", rf"^{word}$"):
                m = re.match(pattern, low)
                if m:
                    return role, m.group(1) if m.groups() else ""
    return None


def _paired_roles(props: dict[str, Any]) -> dict[str, str]:
    """``{parameter: role}`` for parameters that come in a from/to pair in one schema."""
    roles = {name: r for name in props if (r := _role_of(name)) is not None}
    stems: dict[str, set[str]] = {}
    for _, (role, stem) in roles.items():
        stems.setdefault(stem, set()).add(role)
    return {name: role for name, (role, stem) in roles.items() if stems[stem] == {"from", "to"}}


def _for_role(found: list[Candidate], role: str | None) -> list[Candidate]:
    """Only the candidates the text gives ``role``, when it gives the pair's roles at all."""
    if role is None or not any(c.role in ("from", "to") for c in found):
        return found
    mine = [c for c in found if c.role == role]
    return mine or [c for c in found if c.role is None] or found


def _types(prop: dict[str, Any]) -> set[str]:
    kind = prop.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind} if kind else set()
    for option in prop.get("anyOf") or ():
        if isinstance(option, dict):
            kinds |= _types(option)
    return kinds


def _ground_property(prop: Any, found: Candidates, role: str | None) -> Any:
    if not isinstance(prop, dict) or {"enum", "const"} & prop.keys():
        return prop  # an enum is grounded already
    kinds = _types(prop)
    marker = prop.get(GROUNDED_KEY)
    if marker == "expression":
        pattern = expression_pattern(found.numbers)
        return {**_plain(prop), "type": "string", "pattern": pattern} if pattern else prop
    default = prop.get("default")
    if isinstance(marker, str) and marker in _KIND_LISTS:
        values = grounded_values(_for_role(getattr(found, _KIND_LISTS[marker]), role))
        if isinstance(default, str) and values and default not in values:
            values.append(default)  # an optional parameter can still say its default
        return {**_plain(prop), "type": "string", "enum": values} if values else prop
    if kinds & {"number", "integer"} and not kinds & {"string", "object", "array"}:
        numbers = _number_values(_for_role(found.numbers, role), integer=kinds == {"integer"})
        if isinstance(default, (int, float)) and not isinstance(default, bool) and numbers:
            numbers = [*numbers, default] if default not in numbers else numbers
        return {**_plain(prop), "enum": numbers} if numbers else prop
    return prop


def _plain(prop: dict[str, Any]) -> dict[str, Any]:
    drop = {"type", "anyOf", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "maxLength"}
    return {k: v for k, v in prop.items() if k not in drop}


def _with_unit_roles(found: Candidates) -> Candidates:
    """When the text marks no unit "from" or "to", the unit written just after a number is the
    one converted from ("How many km is 26.2 miles?"), and the others are targets."""
    units = found.units
    if len(units) < 2 or any(c.role in ("from", "to") for c in units):
        return found
    ends = [(c.turn, c.start + len(c.text)) for c in found.numbers]

    def after_number(u: Candidate) -> bool:
        return any(turn == u.turn and 0 <= u.start - end <= 12 for turn, end in ends)

    sources = [u for u in units if after_number(u)]
    if len(sources) != 1:
        return found
    roles = [replace(u, role="from" if u is sources[0] else "to") for u in units]
    return replace(found, units=roles)


def ground_schemas(schemas: Sequence[dict[str, Any]], found: Candidates) -> list[dict[str, Any]]:
    """Tool schemas whose parameters admit only the candidate values (see the module's doc).

    Args:
        schemas: OpenAI-style ``{"type": "function", "function": {...}}`` schemas.
        found: The request's candidates (:func:`candidates_for`).

    Returns:
        New schemas; the given ones are not changed.
    """
    found = _with_unit_roles(found)
    out = []
    for schema in schemas:
        grounded = copy.deepcopy(schema)
        params = grounded["function"].get("parameters") or {}
        props = params.get("properties") or {}
        roles = _paired_roles(props)
        for name, prop in props.items():
            props[name] = _ground_property(prop, found, roles.get(name))
        out.append(grounded)
    return out


def ungrounded_numbers(args: dict[str, Any], schema: dict[str, Any], found: Candidates) -> list[str]:
    """Number arguments of a call whose value is not among the request's numbers.

    For backends that cannot constrain decoding (Ollama): a call naming a number the user
    never wrote is refused with this list, and the model is asked once more.
    """
    props = (schema.get("function", schema).get("parameters") or {}).get("properties") or {}
    allowed = set(_number_values(found.numbers, integer=False))
    bad = []
    for name, value in args.items():
        prop = props.get(name)
        if not isinstance(prop, dict) or not _types(prop) & {"number", "integer"} or not allowed:
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value not in allowed:
            bad.append(f"{name}={value}")
    return bad
