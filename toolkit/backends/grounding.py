"""Grounded tool arguments: a call's values can only be values the request really holds.

A grammar guarantees a call's shape; this ties its values to what the user said. Before a
call is decoded, :func:`ground_schemas` rewrites each offered tool's parameter schemas from
the candidate values found in the request and recent turns (:mod:`toolkit.text.candidates`):

- ``number`` / ``integer`` parameters: an ``enum`` of the request's numbers (a percentage
  offered both as written and as a fraction: ``17%`` -> 17 and 0.17);
- ``string`` parameters a tool marks ``"x-grounded": <kind>`` (``unit``, ``timezone``,
  ``filename``, ``date``, ``time``, ``quoted``, ``url``): an ``enum`` of those candidates, as
  written and normalised (``kg`` and ``kilogram``);
- ``"x-grounded": "words"`` (a search query): a ``pattern`` of up to eight of the request's
  own words; ``"folder"``: a file name, a word written next to "folder", or the default;
- ``"x-grounded": "expression"`` (the calculator): a ``pattern`` that admits the request's
  numbers, the operators and the functions the calculator knows, so ``23% of 5,600`` cannot
  become ``.23.5600``;
- paired parameters (``from_unit`` / ``to_unit``, ``start`` / ``end``, ``origin`` /
  ``destination``): when the text says which is which ("from X", "to Y"), each side is
  offered only its own, so the pair cannot be swapped.

A marked string parameter with a default and no candidates takes its default; one the
request does give a value for, that value. A parameter with no candidates, or an unmarked
one, keeps its schema: the model still writes what the request does not contain. :func:`ungrounded_numbers` checks a call
after the fact (for backends without grammars, such as Ollama).
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from toolkit.backends.request_fit import units_of_numbers
from toolkit.backends.value_patterns import (
    MAX_ENUM,
    expression_pattern,
    folder_names,
    grounded_text_gbnf,
    words_pattern,
)
from toolkit.text.candidates import Candidate, Candidates, extract_candidates

__all__ = [
    "GROUNDED_KEY",
    "MAX_ENUM",
    "PERCENT_OF",
    "candidates_for",
    "expression_pattern",
    "ground_schemas",
    "grounded_text_gbnf",
    "grounded_values",
    "mark_grounded",
    "request_turns",
    "unfillable",
    "ungrounded_numbers",
    "words_pattern",
]

GROUNDED_KEY = "x-grounded"
"""The JSON-schema key a tool sets on a string parameter to have it grounded, with its kind."""

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

    Tool results after the request count as recent turns: a follow-up call may use them. A
    tool's error does not: it repeats the values it rejected, which a repair must not reuse.
    """
    texts = [
        (m, m.text)
        for m in messages
        if isinstance(m, HumanMessage) or (isinstance(m, ToolMessage) and m.status != "error")
    ]
    last = max((i for i, (m, _) in enumerate(texts) if isinstance(m, HumanMessage)), default=None)
    if last is None:
        return "", []
    request = texts[last][1]
    earlier = [t for _, t in texts[:last]][-history:]
    after = [t for _, t in texts[last + 1 :]]
    return request, [*earlier, *after]


def candidates_for(messages: Sequence[BaseMessage]) -> Candidates:
    """The candidate values of a conversation's latest request, with the quantities its
    "P% of N" phrases name (:data:`PERCENT_OF`)."""
    request, history = request_turns(messages)
    found = extract_candidates(request, history=history)
    return replace(found, numbers=[*found.numbers, *_percents_of(request, found.numbers)])


PERCENT_OF = "percent of"
"""The role of a number the request names as "P% of N" (its value P * N / 100, its text the
phrase): a number parameter of a tool that takes no percentage is offered it in place of P
and N ("17% of 2,340 kg in pounds" converts 397.8 kg)."""
_OF = re.compile(r"\s+of\s+(?:(?:the|an?|my|our|your|their|his|her)\s+)?[$€£¥₹]?")
_TAKES_PERCENT = re.compile(r"(?i)percent|rate|fraction|ratio|%")


def _percents_of(request: str, numbers: Sequence[Candidate]) -> list[Candidate]:
    written = [c for c in numbers if c.turn == 0]
    out = []
    for p, n in itertools.pairwise(written):
        if p.role == "percent" and _OF.fullmatch(request, p.start + len(p.text), n.start):
            value = round(p.value * n.value / 100, 10)
            value = int(value) if float(value).is_integer() else value
            out.append(
                Candidate("number", value, request[p.start : n.start + len(n.text)], p.start, PERCENT_OF)
            )
    return out


def _numbers_for(props: dict[str, Any], found: Candidates) -> Candidates:
    """``found`` with the numbers a tool's parameters ``props`` are offered: the "P% of N"
    quantities in place of P and N, unless a parameter takes the percentage itself (or an
    expression holds it)."""
    derived = [c for c in found.numbers if c.role == PERCENT_OF]
    if not derived:
        return found
    written = [c for c in found.numbers if c.role != PERCENT_OF]
    takes = any(
        isinstance(p, dict)
        and (
            p.get(GROUNDED_KEY) == "expression"
            or (_is_number(p) and _TAKES_PERCENT.search(f"{n} {p.get('description', '')}"))
        )
        for n, p in props.items()
    )
    if takes:
        return replace(found, numbers=written)
    spans = [(d.turn, d.start, d.start + len(d.text)) for d in derived]
    kept = [c for c in written if not any(t == c.turn and a <= c.start < b for t, a, b in spans)]
    return replace(found, numbers=sorted([*kept, *derived], key=lambda c: (c.turn, c.start)))


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


def _marked_for_the_other(found: list[Candidate], role: str | None) -> bool:
    """The text gives every candidate the other role of the pair ``role`` belongs to."""
    return (
        role is not None and bool(found) and all(c.role in ("from", "to") and c.role != role for c in found)
    )


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
    if marker == "words":
        pattern = words_pattern(found.ngrams)
        return {**_plain(prop), "type": "string", "pattern": pattern} if pattern else prop
    default = prop.get("default")
    if marker == "folder":
        values = [*grounded_values(found.filenames), *folder_names(found.ngrams)][:MAX_ENUM]
        if isinstance(default, str) and default not in values:
            values.insert(0, default)
        return {**_plain(prop), "type": "string", "enum": values} if values else prop
    if isinstance(marker, str) and marker in _KIND_LISTS:
        pool = getattr(found, _KIND_LISTS[marker])
        values = grounded_values(_for_role(pool, role))
        if isinstance(default, str) and (not values or _marked_for_the_other(pool, role)):
            # The request names none ("What time is it?") or only the pair's other side ("until
            # 2026-12-25"): the default. A value it does name is meant instead of the default.
            values = [default]
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
        original = dict(props)
        offered = _numbers_for(props, found)
        for name, prop in props.items():
            props[name] = _ground_property(prop, offered, roles.get(name))
        if props:
            grounded["function"]["parameters"] = _using_the_request(params, original, offered)
        out.append(grounded)
    return out


def _using_the_request(params: dict[str, Any], original: dict[str, Any], found: Candidates) -> dict[str, Any]:
    """``params`` with the optional parameters a call must name to use the request's values.

    A small model stops a call early ("90 days after 2026-01-15" became ``{"start":
    "2026-01-15"}``). When the request writes numbers and no required parameter takes a
    number, the call must name one of the optional number parameters (one schema per choice,
    under ``anyOf``); when it writes k values of a grounded kind, the first k optional
    parameters of that kind offered one are required (two dates: ``start`` and ``until``).
    Optional parameters with a default that no value is left for are taken out: one date is
    not both ``start`` and ``until``, one number not both ``add_weeks`` and ``add_months``.
    """
    required = list(params.get("required") or [])
    optional = [n for n in original if n not in required and isinstance(original[n], dict)]
    by_kind: dict[str, list[str]] = {}
    for name in optional:
        kind = original[name].get(GROUNDED_KEY)
        if kind in _KIND_LISTS:
            by_kind.setdefault(kind, []).append(name)
    unused: set[str] = set()  # optional parameters left to their defaults
    for kind, names in by_kind.items():
        written = [c for c in getattr(found, _KIND_LISTS[kind]) if c.turn == 0]
        values = set(grounded_values(written))
        offered = [n for n in names if values & set(params["properties"][n].get("enum") or ())]
        required += offered[: len(written)]  # one date: start, or until when "until" says so
        if written and len(offered) >= len(written):
            unused |= {n for n in names if n not in required and "default" in original[n]}
    numeric = [n for n in original if _is_number(original[n]) and "enum" in params["properties"][n]]
    numbers = sum(c.turn == 0 for c in found.numbers)
    if not numbers or not numeric or set(numeric) & set(required):
        return _without({**params, "required": required} if required else params, unused)
    choices = (_named_by_unit(numeric, found) or numeric)[:MAX_CHOICES]
    # One number, one parameter: the others keep their defaults ("3 weeks" is not 3 months too).
    others = {n for n in numeric if "default" in original[n]} if numbers == 1 else set()
    return {
        "anyOf": [
            _without({**params, "required": [*required, name]}, unused | (others - {name}))
            for name in choices
        ]
    }


def _without(params: dict[str, Any], names: set[str]) -> dict[str, Any]:
    """``params`` without the (optional) parameters ``names``: a call cannot name them."""
    if not names:
        return params
    props = {k: v for k, v in params["properties"].items() if k not in names}
    return {**params, "properties": props}


def _named_by_unit(names: list[str], found: Candidates) -> list[str]:
    """The parameters whose name holds the unit written right after a request number
    ("3 weeks" -> ``add_weeks``, not ``add_days``)."""
    units = [u for u in units_of_numbers(found) if u is not None]
    words = {w for u in units for w in (str(u.value).lower(), u.text.lower())}
    words |= {w[:-1] for w in words if w.endswith("s")}
    return [n for n in names if words & {part.rstrip("s") for part in n.lower().split("_")}]


MAX_CHOICES = 4
"""Most optional number parameters a call is offered to choose among (one schema each)."""


def _is_number(prop: Any) -> bool:
    kinds = _types(prop) if isinstance(prop, dict) else set()
    return bool(kinds & {"number", "integer"}) and not kinds & {"string", "object", "array"}


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


def unfillable(schema: dict[str, Any], found: Candidates) -> list[str]:
    """Required parameters of a tool that nothing in the request (or recent turns) can fill.

    A required number when the conversation holds no number, a required ``x-grounded`` string
    when it holds nothing of that kind: a call would have to invent the value, which grounding
    exists to prevent. The tool router then answers in text instead of calling.
    """
    params = schema.get("function", schema).get("parameters") or {}
    props = params.get("properties") or {}
    missing = []
    for name in params.get("required") or ():
        prop = props.get(name)
        if not isinstance(prop, dict) or {"enum", "const", "default"} & prop.keys():
            continue
        kind = prop.get(GROUNDED_KEY)
        pool = getattr(found, _KIND_LISTS[kind]) if kind in _KIND_LISTS else None
        if pool == [] or (kind is None and _is_number(prop) and not found.numbers):
            missing.append(name)
    return missing
