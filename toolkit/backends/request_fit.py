"""Can the chosen tool serve the request at all? Checks that catch near misses similarity cannot.

The similarity router matches a request to a tool by what they are about, so a request on the
tool's subject but asking for something else scores as high as one the tool serves: "Cancel
my flight" against a flight search, "Buy 10 shares" against a share price, "Convert 5 kg to
pounds" against a length converter, "40 degrees Celsius in Fahrenheit" against a Fahrenheit to
Celsius converter. :func:`misfit` names why such a call would be wrong, from the text alone:

- **the action**: the request opens with a verb that does something (cancel, buy, pay, delete,
  call, stop...), and nothing in the tool's name, description or examples names that action
  or a synonym: a tool that does not say it does a thing does not do it;
- **the kind of quantity**: the tool names a kind of quantity (length, weight, temperature...)
  and every unit the request writes is of another kind;
- **the unit of a number parameter**: a required number parameter names its unit ("Temperature
  in degrees Fahrenheit", ``weight_kg``) and every number the request writes with a unit of
  that kind has another unit of it.

Each check errs towards calling: it speaks only when the request itself says something the
tool contradicts. The development set these were tuned on is ``tests/tool_prompts_dev.py``;
``bench/tool_calls.py`` measures them on the held-out set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from toolkit.text.candidates import Candidate, Candidates, extract_candidates, unit_registry

__all__ = ["misfit", "request_action", "units_of_numbers"]

# Verbs of actions a tool either performs or not, with the words a tool that performs the
# action would use; matched as word prefixes ("book" in "booking", "remind" in "reminder").
_ACTIONS: dict[str, tuple[str, ...]] = {
    "cancel": ("cancel", "abort", "call off"),
    "delete": ("delete", "remove", "erase", "clear", "trash"),
    "buy": ("buy", "purchase", "order", "checkout", "shop"),
    "sell": ("sell", "sale"),
    "pay": ("pay", "transfer", "send money"),
    "book": ("book", "reserv", "schedul", "appointment"),
    "open": ("open", "creat", "new ", "read", "view", "show", "file"),
    "close": ("close", "shut"),
    "call": ("call", "phone", "dial", "ring"),
    "email": ("email", "e-mail", "mail"),
    "text": ("text", "sms", "message"),
    "send": ("send", "mail", "message", "post", "deliver", "ship"),
    "switch": ("switch", "turn", "power", "light", "device"),
    "stop": ("stop", "pause", "halt", "end", "cancel"),
    "play": ("play", "music", "song"),
    "return": ("return", "refund"),
    "refund": ("refund", "return"),
    "print": ("print",),
    "install": ("install",),
    "download": ("download",),
    "upload": ("upload",),
    "recommend": ("recommend", "suggest"),
    "write": ("write", "draft", "compose", "generat"),
    "order": ("order", "buy", "purchase"),
    "rent": ("rent", "hire", "lease"),
    "hire": ("hire", "rent", "book"),
    "lock": ("lock",),
    "unlock": ("unlock",),
}
# The request's verb under another spelling.
_VERB_FORMS = {
    "phone": "call",
    "ring": "call",
    "dial": "call",
    "e-mail": "email",
    "mail": "send",
    "purchase": "buy",
    "remove": "delete",
    "erase": "delete",
    "reserve": "book",
    "turn": "switch",
    "pause": "stop",
    "halt": "stop",
    "suggest": "recommend",
    "compose": "write",
    "draft": "write",
    "sms": "text",
    "message": "text",
    "ship": "send",
    "post": "send",
}
_POLITE = re.compile(
    r"(?i)^\s*(?:please|pls|kindly|go ahead and|hey|ok(?:ay)?|now|"
    r"(?:can|could|would|will) you(?: please)?|i(?:'d| would) like (?:you )?to|i want (?:you )?to|"
    r"i need (?:you )?to|help me|let's|just)[\s,]+"
)
_WORD = re.compile(r"[a-z][a-z'-]*")


def request_action(request: str) -> str | None:
    """The action a request opens with ("Please cancel my flight" -> ``cancel``), or None."""
    text = request
    while (m := _POLITE.match(text)) is not None and m.end() > 0:
        text = text[m.end() :]
    words = _WORD.findall(text.lower())
    if not words:
        return None
    verb = _VERB_FORMS.get(words[0], words[0])
    if verb == "switch" and not set(words[1:5]) & {"on", "off", "up", "down"}:
        return None  # "Turn 500 grams into ounces" converts; "turn off the lights" switches
    return verb if verb in _ACTIONS else None


def _tool_text(schema: Mapping[str, Any], examples: Sequence[str]) -> str:
    fn = schema.get("function", schema)
    params = (fn.get("parameters") or {}).get("properties") or {}
    parts = [fn.get("name", "").replace("_", " "), fn.get("description") or "", *examples]
    parts += [
        f"{name.replace('_', ' ')} {p.get('description', '')}"
        for name, p in params.items()
        if isinstance(p, dict)
    ]
    return " " + " ".join(parts).lower()


def _names_action(text: str, action: str) -> bool:
    return any(re.search(rf"\b{re.escape(stem)}", text) for stem in _ACTIONS[action])


# Words a tool uses for a kind of quantity, with the pint dimensionality of that kind.
_KINDS: dict[str, tuple[str, ...]] = {
    "[length]": ("length", "distance", "height", "width", "depth", "radius", "diameter"),
    "[mass]": ("mass", "weight"),
    "[temperature]": ("temperature",),
    "[length] ** 3": ("volume", "capacity"),
    "[length] ** 2": ("area",),
    "[time]": ("duration",),
    "[length] / [time]": ("speed", "velocity"),
}


@functools.lru_cache(maxsize=1024)
def _dimension(unit: str) -> str | None:
    """pint's dimensionality of a unit name, or None (currencies, unknown names, angles)."""
    try:
        dims = unit_registry()[0].get_dimensionality(unit)
    except Exception:  # pint raises several unrelated types for a name it cannot read
        return None
    text = str(dims)
    return None if text in ("dimensionless", "") else text


def _kinds_named(text: str) -> set[str]:
    return {dim for dim, words in _KINDS.items() if any(re.search(rf"\b{w}", text) for w in words)}


def _request_units(found: Candidates) -> list[Candidate]:
    return [u for u in found.units if u.turn == 0 and _dimension(str(u.value)) is not None]


def _wrong_kind(text: str, found: Candidates) -> str | None:
    kinds = _kinds_named(text)
    units = _request_units(found)
    if not kinds or not units or any(_dimension(str(u.value)) in kinds for u in units):
        return None
    return f"the request's units ({', '.join(u.text for u in units)}) are not a {' or '.join(sorted(kinds))} quantity"


def units_of_numbers(found: Candidates) -> list[Candidate | None]:
    """For each number of the request, the unit written right after it ("3 weeks"; None: no unit)."""
    units = [u for u in found.units if u.turn == 0]
    out: list[Candidate | None] = []
    for n in (c for c in found.numbers if c.turn == 0):
        end = n.start + len(n.text)
        out.append(next((u for u in units if 0 <= u.start - end <= 2), None))
    return out


def _wrong_unit(schema: Mapping[str, Any], found: Candidates) -> str | None:
    params = schema.get("function", schema).get("parameters") or {}
    props = params.get("properties") or {}
    written = units_of_numbers(found)
    if not written or any(u is None for u in written):
        return None  # a number without a unit may be in any unit
    for name in params.get("required") or ():
        prop = props.get(name)
        if not isinstance(prop, dict) or prop.get("type") not in ("number", "integer"):
            continue
        wanted = [str(u.value) for u in _param_units(name, prop.get("description") or "")]
        dims = {_dimension(w) for w in wanted} - {None}
        if not wanted or not dims:
            continue
        same_kind = [u for u in written if u is not None and _dimension(str(u.value)) in dims]
        if same_kind and all(str(u.value) not in wanted for u in same_kind):
            return f"{name} is in {wanted[0]}, and the request's numbers are in {same_kind[0].text}"
    return None


@functools.lru_cache(maxsize=1024)
def _param_units(name: str, description: str) -> tuple[Candidate, ...]:
    """The units a parameter names ("weight_kg", "Temperature in degrees Fahrenheit")."""
    text = f"{description} {name.replace('_', ' ')}"
    return tuple(extract_candidates(text, max_ngram=1).units)


def misfit(
    schema: Mapping[str, Any], request: str, found: Candidates, examples: Iterable[str] = ()
) -> str | None:
    """Why the tool ``schema`` cannot serve ``request`` (whose candidates are ``found``), or None.

    ``examples`` are the tool's example requests, when it has them.
    """
    text = _tool_text(schema, list(examples))
    action = request_action(request)
    if action is not None and not _names_action(text, action):
        return f"the request asks to {action}, which the tool does not say it does"
    return _wrong_kind(text, found) or _wrong_unit(schema, found)
