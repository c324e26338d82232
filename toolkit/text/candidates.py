"""Candidate values for tool-call arguments: the values a request really contains (issue 16).

Numbers, dates, times, quoted strings, file names, URLs, units and currencies (pint), time zones
(tz database) and word n-grams, so that a grammar can make a small model choose among them.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = ["KINDS", "MAX_CANDIDATES", "Candidate", "Candidates", "extract_candidates", "ordered_for"]

MAX_CANDIDATES = 500
KINDS = ("number", "unit", "date", "time", "timezone", "quoted", "filename", "url", "ngram")
_LISTS = {kind: kind if kind == "quoted" else kind + "s" for kind in KINDS}
_SCANNED, _TAIL, _HISTORY = 20_000, 2_000, 8  # characters read, of them the tail; history turns read


def _table(text: str) -> dict[str, str]:
    return {word: value or word for word, _, value in (pair.partition("=") for pair in text.split())}


def _series(kind: str, words: str, first: float, step: float = 1) -> dict[str, tuple[str, float]]:
    return {word: (kind, first + i * step) for i, word in enumerate(words.split())}


_STOP = _table("""a about after all am an and any are as at be been before between both but by can could did do
    does each few for from had has have he her here him his how i if in into is it its just me more most my no not now
    of off on or other our out over please she should so some such than that the their them then there these they
    this those to too under until up us very was we what when where which who why will with would you your""")
_WORD_VALUES = {
    **_series("digit", "one two three four five six seven eight nine", 1),
    **_series("teen", "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen", 10),
    **_series("tens", "twenty thirty forty fifty sixty seventy eighty ninety", 20, 10),
    **_series("ord", "first second third fourth fifth sixth seventh eighth ninth tenth", 1),
    **{w: ("scale", 1000.0 ** (i + 1)) for i, w in enumerate(("thousand", "million", "billion", "trillion"))},
    **{w: (w, v) for w, v in (("hundred", 100), ("dozen", 12), ("half", 0.5), ("a", 1), ("and", 0))},
    "zero": ("teen", 0),
}
# What may follow each kind of number word: "one hundred and five", "twenty-first", "a dozen".
_FOLLOWS = _table("""start=digit,teen,tens,a,half,ord,dozen digit=hundred,scale,dozen teen=hundred,scale,dozen
    tens=digit,scale,ord a=hundred,scale,dozen and=digit,teen,tens,ord hundred=digit,teen,tens,scale,and,ord
    scale=digit,teen,tens,and,ord dozen=- half=- ord=-""")
_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "bn": 1e9, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_CURRENCY = _table("""$=USD €=EUR £=GBP ¥=JPY ₹=INR dollar=USD euro=EUR yen=JPY rupee=INR franc=CHF yuan=CNY
    renminbi=CNY sterling=GBP USD EUR GBP JPY CHF CAD AUD NZD CNY INR SEK NOK DKK PLN MXN BRL KRW SGD HKD""")
# Unit words: short ones that stand alone (other short ones need a number or "to" before them:
# "5 in"), pint names that are ordinary English words, names that are units only after a number.
_FREE_UNITS = _table("""degC degF degK=kelvin kg km cm mm ml mL lb lbs oz ft yd mi mph kph gal qt tsp tbsp hr hrs min
    mins sec secs ms kWh kW KB kB MB GB TB Hz kHz MHz GHz psi atm cal kcal mg µg feet""")
_NOT_UNITS = _table("""count section point link chain alpha sigma gamma zeta lambda cycle hand turn octet circle
    shot quad grade quarter blob shake grad thou fifth gravity candle strain pole pond league grain gray perch
    scruple slug decade mole peck denier jute molar rads stokes""")
_SINGULAR = _table("second minute degree newton pascal tesla curie henry gilbert darcy maxwell")
_PREFIXES = ("kilo", "centi", "milli", "micro", "mega", "giga", "nano", "deci", "hecto", "tera")
_TZ_ABBREVIATIONS = _table("""UTC GMT CET=Europe/Berlin CEST=Europe/Berlin EET=Europe/Athens BST=Europe/London
    MSK=Europe/Moscow EST=America/New_York EDT=America/New_York CST=America/Chicago CDT=America/Chicago
    MST=America/Denver PST=America/Los_Angeles PDT=America/Los_Angeles HST=Pacific/Honolulu IST=Asia/Kolkata
    JST=Asia/Tokyo KST=Asia/Seoul HKT=Asia/Hong_Kong AEST=Australia/Sydney WET=Europe/Lisbon""")
_TZ_REGIONS = ("Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Europe/", "Indian/", "Pacific/")
_NOT_CITIES = _table("""christmas reunion easter midway wake resolute center jersey north south west east knox
    marengo vincennes petersburg monticello beulah winamac vevay man virgin""")

# Every repetition is bounded, so a failed match costs a constant and a scan stays linear.
# fmt: off
_MONTH = "(january|february|march|april|june|july|august|september|october|november|december|sept|" + "|".join(_MONTHS) + ")"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_NUMBER = re.compile(
    r"(?<![\w.])(?P<cur>[$€£¥₹]\s?)?(?P<sign>[-+\u2212])?"
    r"(?P<body>\d{1,3}(?:[ \u00a0\u202f\u2009'’]\d{3}){1,6}(?:[.,]\d{1,9})?(?!\d)"
    r"|\d{1,20}(?:[.,]\d{1,20}){0,8}(?!\d)|\.\d{1,20}(?!\d))(?P<exp>[eE][-+]?\d{1,3}(?!\w))?"
    r"(?P<suf>\s?%|\s?per\s?cent\b|(?:st|nd|rd|th)\b|(?:k|K|M|bn)\b|\s(?:thousand|million|billion)\b)?")
_FRACTION = re.compile(r"(?<![\w/.])(\d{1,6})/(\d{1,6})(?![\w/]|\.\d)")
_COMMA_EVIDENCE = re.compile(r"\d\.\d{3},\d|\d,\d{1,2}\s?(?:€|EUR\b)|\d\.\d{3}\.\d{3}(?![\d.])")
_ISO_DATE = re.compile(r"(?<![\w/.-])(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!(?!T\d)[\w/]|[.-]\d)")
_NUM_DATE = re.compile(r"(?<![\w/.:-])(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/]|[.-]\d)")
_DAY_MONTH = re.compile(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH}\b\.?(?:,?\s+(\d{{4}})\b)?")
_MONTH_DAY = re.compile(rf"(?i)\b{_MONTH}\b\.?\s+(?:the\s+)?(?:(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}})\b)?|(\d{{4}})\b)")
_RELATIVE = re.compile(rf"(?i)\b(?:the\s+day\s+(?:after\s+tomorrow|before\s+yesterday)|today|tonight|tomorrow|yesterday"
                       rf"|(?:next|last|this|coming)\s+(?:week(?:end)?|month|year|{_DAYS})|{_DAYS})\b")
_CLOCK = re.compile(r"(?<![\d:.])([01]?\d|2[0-3])[:h]([0-5]\d)(?::([0-5]\d))?(?:\s?([aApP])\.?[mM]\b\.?)?(?![\d:])")
_AMPM = re.compile(r"(?<![\w.:])(1[0-2]|0?[1-9])()()\s?([aApP])\.?[mM]\b\.?")
_NOON = re.compile(r"(?i)\b(noon|midday|midnight)\b")
_QUOTED = re.compile(r"\"([^\"\n]{1,500})\"|“([^”\n]{1,500})”|«([^»\n]{1,500})»|`([^`\n]{1,500})`"
                     r"|(?<!\w)‘((?:[^’\n]|’(?=\w)){1,500})’(?!\w)|(?<!\w)'((?:[^'\n]|'(?=\w)){1,500})'(?!\w)")
_URL = re.compile(r"(?i)\b(?:https?://|ftp://|www\.)[^\s<>\"'`()\[\]{}]{1,2000}")
_WINDOWS_PATH = re.compile(r"(?<![\w\\])[A-Za-z]:\\(?:[^\\/:*?\"<>|\r\n]{1,99}\\){0,20}[^\\/:*?\"<>|\s]{1,99}")
_PATH = re.compile(r"(?<![\w./\\@:-])(?:~|\.{1,2})?/?(?:[\w.-]{1,99}/){0,20}[\w-]{1,99}(?:\.[\w-]{1,40}){1,4}(?!\.?[\w/-])")
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,5}")
_DEGREES = re.compile(r"(?i)(?<!\w)(?:(?:degrees?\s+|deg\s?|[°º]\s?)?(celsius|centigrade|fahrenheit|kelvin)|(?:degrees?\s+|[°º]\s?)([cfk]))\b")
_UNIT_WORD = re.compile(r"(?<![A-Za-zµ])(?:[$€£¥₹]|[°º](?![CFKcfk])|[A-Za-zµ][A-Za-z²³]{0,24}(?![A-Za-z]))")
_PER = re.compile(r"\s?/\s?([A-Za-z]{1,10})(?![A-Za-z/])|\s+per\s+([A-Za-z]{1,20})\b")
_TZ_NAME = re.compile(r"\b[A-Z][A-Za-z_]{1,20}(?:/[A-Za-z0-9_+\-]{1,30}){1,2}\b")
_TZ_OFFSET = re.compile(r"\b(UTC|GMT)\s?([-+\u2212])\s?(\d{1,2})(?::?(\d{2}))?(?!\d)")
_TZ_ABBREVIATION = re.compile(r"\b[A-Z]{2,5}\b")
_TOKEN = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,20}(?![A-Za-z])")
_NGRAM_WORD = re.compile(r"\w(?:[\w'’.,:/\\-]{0,60}\w)?")
_GAP, _SPACES = re.compile(r"[ \t\-]{1,3}"), re.compile(r"[ \t]{1,3}")
_ROLE = re.compile(r"(?i)\b(?:(?P<from>from|convert|since|starting(?:\s+at)?)|(?P<to>to|into|in|until|till))\s+(?:the\s+|an?\s+)?[$€£¥₹]?$")
_RANGE_GAP = re.compile(r"\s{0,3}(?:-|–|—|\.\.|to|through|thru|and)\s{0,3}")
# fmt: on


@dataclass(frozen=True)
class Candidate:
    """One value a tool argument could take.

    Attributes:
        kind: One of :data:`KINDS`.
        value: An int (when integral) or float; ``YYYY-MM-DD`` (``--MM-DD`` without a year,
            ``YYYY-MM``, or the words: ``"next monday"``); ``HH:MM``; pint's unit name or an
            ISO 4217 code; a tz database name or ``UTC+05:30``; else the text, unquoted.
        text: The exact surface text, at offset ``start`` in the request (or history ``turn``).
        start: The offset.
        role: "from" or "to" as the text pairs values ("convert X to Y"), "percent", or None.
        turn: 0 for the request, k for the k-th most recent history turn.
    """

    kind: str
    value: Any
    text: str
    start: int
    role: str | None = None
    turn: int = 0


@dataclass
class Candidates:
    """Candidates by kind, each list in order of appearance (request first), one per value."""

    numbers: list[Candidate] = field(default_factory=list)
    units: list[Candidate] = field(default_factory=list)
    dates: list[Candidate] = field(default_factory=list)
    times: list[Candidate] = field(default_factory=list)
    timezones: list[Candidate] = field(default_factory=list)
    quoted: list[Candidate] = field(default_factory=list)
    filenames: list[Candidate] = field(default_factory=list)
    urls: list[Candidate] = field(default_factory=list)
    ngrams: list[Candidate] = field(default_factory=list)
    truncated: bool = False  # True when a length, history or count limit left something out

    @property
    def all(self) -> list[Candidate]:
        """Every candidate, by turn (request first) and position."""
        return sorted((c for k in KINDS for c in getattr(self, _LISTS[k])), key=lambda c: (c.turn, c.start))


def _number(x: float) -> int | float:
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def _role(text: str, start: int) -> str | None:
    m = _ROLE.search(text[max(0, start - 30) : start])
    return m.lastgroup if m else None


def _readings(body: str, comma_decimal: bool | None, evidence: bool) -> list[tuple[float, int, int]]:
    """(value, start, end) readings of a run of digits and separators, the likeliest first."""
    end = len(body)
    if re.search(r"[ \u00a0\u202f\u2009'’]", body):  # grouped by spaces: "2 340", "1 234,5"
        head, _, fraction = body.replace(",", ".").partition(".")
        value = float(re.sub(r"\D", "", head) + "." + (fraction or "0"))
        parts = re.finditer(r"[1-9]\d*", head) if " " in head else ()  # or two numbers: "5 100 m runs"
        return [(value, 0, end), *((float(m[0]), *m.span()) for m in parts)]
    seps, groups = re.findall(r"[.,]", body), re.split(r"[.,]", body)
    if len(set(seps)) == 2 and seps.count(seps[-1]) == 1 and all(len(g) == 3 for g in groups[1:-1]):
        return [(float("".join(groups[:-1]) + "." + groups[-1]), 0, end)]  # "1.234,56", "1,234.56"
    grouping = len(set(seps)) == 1 and 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    if len(seps) != 1:
        if grouping or not seps:
            return [(float("".join(groups)), 0, end)]
        spans = [m.span() for m in re.finditer(r"\d+", body)]
        return [(float(body[s:e]), s, e) for s, e in spans] if seps[0] == "," else []  # "1.2.3": a version
    locale = comma_decimal if comma_decimal is not None else evidence
    decimal = float(groups[0] + "." + groups[1])
    if grouping and groups[0] != "0":  # "2,340" or "1.234": thousands or decimal, by locale
        joined = float(groups[0] + groups[1])
        first, other = (decimal, joined) if (seps[0] == ",") == locale else (joined, decimal)
        return [(first, 0, end), (other, 0, end)] if locale else [(first, 0, end)]
    if seps[0] == "." or locale:
        return [(decimal, 0, end)]
    split = [(float(groups[0]), 0, len(groups[0])), (float(groups[1]), len(groups[0]) + 1, end)]
    return split if comma_decimal is False else [split[0], (decimal, 0, end), split[1]]


def _numbers(text: str, comma: bool | None, mask: bytearray, ends: dict[int, str]) -> Iterator[Candidate]:
    fractions = (m for m in _FRACTION.finditer(text) if int(m[2]) and not mask[m.start()])
    found = [Candidate("number", _number(int(m[1]) / int(m[2])), m[0], m.start()) for m in fractions]
    evidence = bool(_COMMA_EVIDENCE.search(text))
    for m in _NUMBER.finditer(text):
        suffix, body, at = (m["suf"] or "").strip(), m["body"], m.start("body")
        scale = _SUFFIX.get(suffix, _SUFFIX.get(suffix.lower(), 1.0)) * float(f"1{m['exp'] or ''}")
        start, role = m.start("sign") if m["sign"] else at, "percent" if suffix[:1] in ("%", "p") else None
        for value, s, e in [] if mask[at] else _readings(body, comma, evidence):
            if (s, e) != (0, len(body)):  # one of several numbers in the run
                found.append(Candidate("number", _number(value), body[s:e], at + s))
            elif value * scale < float("inf"):
                value *= scale * (-1 if m["sign"] in ("-", "\u2212") else 1)
                found.append(Candidate("number", _number(value), text[start : m.end()], start, role))
                mask[start : m.end()] = b"\1" * (m.end() - start)
    tokens, i = list(_TOKEN.finditer(text)), 0
    while i < len(tokens):  # written out: "twenty-three", "one hundred and five", "a dozen"
        value, j = _word_number(text, tokens, i)
        if j > i:
            at = tokens[i].start()
            found.append(Candidate("number", _number(value), text[at : tokens[j - 1].end()], at))
        i = max(j, i + 1)
    found.sort(key=lambda c: c.start)
    roles = [c.role or _role(text, c.start) for c in found]
    for k, (a, b) in enumerate(itertools.pairwise(found)):  # ranges: "5-10", "5 to 10", "between 5 and 10"
        gap = _RANGE_GAP.fullmatch(text, a.start + len(a.text), b.start)
        if gap and ("and" not in gap[0] or text[max(0, a.start - 9) : a.start].lower().strip() == "between"):
            roles[k], roles[k + 1] = roles[k] or "from", roles[k + 1] or "to"
    for c, role in zip(found, roles, strict=True):
        ends[c.start + len(c.text)] = role if role in ("from", "to") else ""  # for the units after it
        yield c if c.role == role else replace(c, role=role)


def _word_number(text: str, tokens: list[re.Match[str]], i: int) -> tuple[float, int]:
    """The longest written-out number starting at ``tokens[i]``: (value, index after it)."""
    total = current = 0.0
    state, best, j = "start", (0.0, i), i
    while j < len(tokens) and (j == i or _GAP.fullmatch(text, tokens[j - 1].end(), tokens[j].start())):
        kind, value = _WORD_VALUES.get(tokens[j][0].lower(), ("?", 0))
        if kind not in _FOLLOWS[state].split(","):
            break
        current = (current or 1) * value if kind in ("hundred", "dozen", "scale") else current + value
        if kind == "scale":
            total, current = total + current, 0.0
        state, j = kind, j + 1
        best = best if kind in ("a", "and") else (total + current, j)
    return best


def _iso(year: str | int | None, month: str | int, day: str | int | None) -> str | None:
    y, mo, d = int(year or 0), int(month), int(day or 0)
    try:
        datetime.date(y or 2000, mo, d or 1)
    except ValueError:
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}" if y and d else f"{y:04d}-{mo:02d}" if y else f"--{mo:02d}-{d:02d}"


def _dates(text: str, mask: bytearray) -> Iterator[Candidate]:
    """Dates and times; each takes its text (unless a lower-case "may" or "march", maybe a verb)."""
    found = [("date", m, [_iso(m[1], m[2], m[3])]) for m in _ISO_DATE.finditer(text)]
    for m in _NUM_DATE.finditer(text):  # 07/12/2026: day first, then month first
        year = m[4] if len(m[4]) == 4 else "20" + m[4]
        if len(m[4]) == 4 or m[2] != "-":
            found.append(("date", m, [_iso(year, m[3], m[1]), _iso(year, m[1], m[3])]))
    for m in itertools.chain(_DAY_MONTH.finditer(text), _MONTH_DAY.finditer(text)):
        month, day, year = (m[2], m[1], m[3]) if m.re is _DAY_MONTH else (m[1], m[2], m[3] or m[4])
        found.append(("date", m, [_iso(year, _MONTHS.index(month[:3].lower()) + 1, day)]))
    found += [("date", m, [" ".join(m[0].lower().split())]) for m in _RELATIVE.finditer(text)]
    for m in itertools.chain(_CLOCK.finditer(text), _AMPM.finditer(text)):
        hour, minute, half = int(m[1]), int(m[2] or 0), (m[4] or "").lower()
        hour = hour % 12 + (12 if half == "p" else 0) if half and hour <= 12 else hour
        found.append(("time", m, [f"{hour:02d}:{minute:02d}" + (f":{m[3]}" if m[3] else "")]))
    found += [("time", m, ["00:00" if m[1].lower() == "midnight" else "12:00"]) for m in _NOON.finditer(text)]
    for kind, m, values in found:
        if any(values) and not mask[m.start()]:
            role = _role(text, m.start())
            yield from (Candidate(kind, v, m[0], m.start(), role) for v in dict.fromkeys(values) if v)
            if not re.search(r"\b(?:may|mar|march)\b", m[0]):
                mask[m.start() : m.end()] = b"\1" * (m.end() - m.start())


def _is_filename(name: str) -> bool:
    base, _, ext = re.split(r"[/\\]", name)[-1].rpartition(".")
    plain = _EXTENSION.fullmatch(ext) and not ext.isdigit() and (ext.islower() or ext.isupper())  # "end.Next"
    if not plain or not base.strip() or re.match(r"[-+]?\d+\.\d", name) or len(base + ext) == 2:
        return False  # "3.5kg", "e.g"
    return "/" in name or "\\" in name or ext.lower() not in ("com", "org", "net", "edu", "gov")


def _files(text: str, mask: bytearray) -> Iterator[Candidate]:
    for m in _URL.finditer(text):
        url = m[0].rstrip(".,;:!?")
        mask[m.start() : m.start() + len(url)] = b"\1" * len(url)
        yield Candidate("url", url, url, m.start())
    for m in _QUOTED.finditer(text):
        inner, at = m.group(m.lastindex or 0), m.start(m.lastindex or 0)
        if name := inner.strip():
            yield Candidate("quoted", name, m[0], m.start())
        if name and "://" not in name and _is_filename(name):
            at += len(inner) - len(inner.lstrip())
            mask[at : at + len(name)] = b"\1" * len(name)
            yield Candidate("filename", name, name, at)
    for m in itertools.chain(_WINDOWS_PATH.finditer(text), _PATH.finditer(text)):
        name = m[0].rstrip(".,;:!?)")
        if not mask[m.start()] and _is_filename(name):
            mask[m.start() : m.start() + len(name)] = b"\1" * len(name)
            yield Candidate("filename", name, name, m.start())


@functools.cache
def unit_registry() -> tuple[Any, frozenset[str]]:
    import pint  # heavy: loaded on first use

    registry: Any = pint.UnitRegistry()
    return registry, frozenset(name.lower() for name in registry if len(name) >= 3)


@functools.lru_cache(maxsize=4096)
def _pint_unit(word: str) -> str | None:
    try:
        return str(unit_registry()[0].parse_units(word))
    except Exception:  # pint raises several unrelated types for a word it cannot read
        return None


def _unit_value(word: str, after_number: bool) -> str | None:
    """pint's name (or an ISO 4217 code) for a unit word, or None where it is an ordinary word."""
    lower = word.lower()
    if currency := _CURRENCY.get(word) or _CURRENCY.get(lower.removesuffix("s")):
        return currency
    if word in _FREE_UNITS or lower in _FREE_UNITS:
        return _pint_unit(word) or _pint_unit(lower)
    if len(word) <= 3:
        return _pint_unit(word) if after_number and (lower == "in" or lower not in _STOP) else None
    stems = (lower, lower.removesuffix("s"), lower.removesuffix("es"))
    bases = {b for s in stems for b in (s, *(s[len(p) :] for p in _PREFIXES if s.startswith(p)))}
    bases &= unit_registry()[1]
    if not bases or any(b in _NOT_UNITS for b in bases) or (lower in _SINGULAR and not after_number):
        return None
    return _pint_unit(word) or _pint_unit(lower)


def _units(text: str, mask: bytearray, ends: dict[int, str]) -> Iterator[Candidate]:
    """Units and currencies; a short word ("in", "g") only after a number, or a "to" or "from"."""
    for m in itertools.chain(_DEGREES.finditer(text), _UNIT_WORD.finditer(text)):
        at, end = m.start(), m.end()
        word = m[0] if m.re is _UNIT_WORD else _FREE_UNITS["deg" + m[m.lastindex or 1][0].upper()]
        role = ends.get(at) or ends.get(at - 1) or _role(text, at)  # right after a number: its role
        after = at in ends or at - 1 in ends or bool(role and len(word) < 3 and word.islower())
        if mask[at] or (value := _unit_value(word, after)) is None:
            continue
        per = _PER.match(text, end) if value not in _CURRENCY.values() else None
        if per and _unit_value(per[1] or per[2], True):
            value, end = _pint_unit(f"{word}/{per[1] or per[2]}") or value, per.end()
        mask[at:end] = b"\1" * (end - at)
        yield Candidate("unit", value, text[at:end], at, role)


@functools.cache
def _zones() -> tuple[dict[str, str], dict[str, str]]:
    import zoneinfo

    names, cities = zoneinfo.available_timezones(), dict[str, str]()
    for name in sorted(names, key=lambda n: (n.count("/"), n)):
        city = name.rsplit("/", 1)[-1].replace("_", " ").replace("-", " ").lower()
        if name.startswith(_TZ_REGIONS) and city not in _NOT_CITIES:
            cities.setdefault(city, name)
    return {n.lower(): n for n in names}, cities


def _timezones(text: str, mask: bytearray) -> Iterator[Candidate]:
    names, cities = _zones()
    for m in itertools.chain(_TZ_NAME.finditer(text), _TZ_OFFSET.finditer(text)):
        offset = f"UTC{'+' if m[2] == '+' else '-'}{int(m[3]):02d}:{m[4] or '00'}" if m.lastindex else None
        if zone := offset or names.get(m[0].lower()):
            mask[m.start() : m.end()] = b"\1" * (m.end() - m.start())
            yield Candidate("timezone", zone, m[0], m.start())
    for m in _TZ_ABBREVIATION.finditer(text):
        if m[0] in _TZ_ABBREVIATIONS and not mask[m.start()]:
            yield Candidate("timezone", _TZ_ABBREVIATIONS[m[0]], m[0], m.start())
    tokens, skip = list(_TOKEN.finditer(text)), 0
    for i in range(len(tokens)):  # city names of up to three words: "Tokyo", "New York", "Ho Chi Minh"
        for group in (tokens[i : i + 3], tokens[i : i + 2], tokens[i : i + 1]):
            zone = cities.get(" ".join(t[0].lower() for t in group))
            joined = all(_GAP.fullmatch(text, a.end(), b.start()) for a, b in itertools.pairwise(group))
            if zone and joined and i >= skip and not mask[group[0].start()]:
                yield Candidate("timezone", zone, text[group[0].start() : group[-1].end()], group[0].start())
                skip = i + len(group)


def _ngrams(text: str, max_ngram: int) -> Iterator[Candidate]:
    words, seen = list(_NGRAM_WORD.finditer(text)), set()
    for i, first in enumerate(words):
        for n in range(1, min(max_ngram, len(words) - i) + 1):
            group = words[i : i + n]
            if n > 1 and not _SPACES.fullmatch(text, group[-2].end(), group[-1].start()):
                break
            value = " ".join(w[0] for w in group)
            if value not in seen and any(w[0].lower() not in _STOP for w in group):
                seen.add(value)
                yield Candidate("ngram", value, text[first.start() : group[-1].end()], first.start())


def _found(turns: list[str], comma: bool | None, max_ngram: int) -> Iterator[tuple[int, int, Candidate]]:
    """Each turn's candidates, typed kinds first (they take their text); a long turn in two windows."""
    for turn, text in enumerate(turns):
        cut = len(text) > _SCANNED
        windows = [(0, text[: _SCANNED - _TAIL]), (len(text) - _TAIL, text[-_TAIL:])] if cut else [(0, text)]
        for offset, window in windows:
            mask, ends = bytearray(len(window) + 1), dict[int, str]()  # text taken; number end -> its role
            finders = [_files(window, mask), _dates(window, mask), _numbers(window, comma, mask, ends)]
            finders += [_units(window, mask, ends), _timezones(window, mask), _ngrams(window, max_ngram)]
            yield from ((turn, offset, c) for c in itertools.chain.from_iterable(finders))


def extract_candidates(
    text: str, *, history: Sequence[str] = (), locale_decimal_comma: bool | None = None, max_ngram: int = 4
) -> Candidates:
    """Find the values a tool call's arguments could take in a request.

    Bounded: 20,000 characters of a text are read (beyond that, its head and last 2,000), and
    ``Candidates.truncated`` says when a limit cut.

    Args:
        text: The user's request.
        history: Earlier turns, oldest first; the last 8 are read after the request, newest first.
        locale_decimal_comma: True if "12,5" means 12.5, False if 12 and 5, None to decide by the
            text (a "1.234,56" or "12,50 €" in it means a decimal comma).
        max_ngram: The longest word n-gram offered, 0 for none.

    Returns:
        The candidates by kind, the request's first, at most ``MAX_CANDIDATES`` in all.

    Raises:
        ValueError: If ``max_ngram`` is not between 0 and 8.
    """
    if not 0 <= max_ngram <= 8:
        raise ValueError(f"max_ngram must be between 0 and 8, not {max_ngram}")
    turns = [text, *reversed(list(history)[-_HISTORY:])]
    result = Candidates(truncated=len(history) > _HISTORY or any(len(t) > _SCANNED for t in turns))
    kept: dict[tuple[str, Any], Candidate] = {}  # the first candidate of each value
    for turn, offset, c in _found(turns, locale_decimal_comma, max_ngram):
        if (c.kind, c.value) in kept:
            continue
        if len(kept) == MAX_CANDIDATES:
            result.truncated = True
            break
        kept[c.kind, c.value] = replace(c, start=c.start + offset, turn=turn)
    for c in sorted(kept.values(), key=lambda c: (c.turn, c.start)):
        getattr(result, _LISTS[c.kind]).append(c)
    return result


def ordered_for(candidates: Sequence[Candidate], role: str) -> list[Candidate]:
    """Candidates of one kind with those marked ``role`` ("from", "to") first, else in order."""
    return sorted(candidates, key=lambda c: c.role != role)
