"""Date and time tools: the current date and time in any zone, and date arithmetic.

Language models do not know today's date and count days badly; these tools do both. The
current time comes from :func:`now`, which tests replace (``monkeypatch.setattr(clock,
"now", ...)``). Time zones are IANA names (``Europe/Paris``) read by ``zoneinfo``; the
spellings small models use are accepted too: ``paris``, ``new york``, ``UTC+2``, ``PST``.
"""

from __future__ import annotations

import calendar
import difflib
import re
from datetime import date, datetime, timedelta, tzinfo
from datetime import timezone as tz
from functools import lru_cache
from typing import Any

from langchain_core.tools import BaseTool
from pydantic import Field, field_validator

from tools._base import ToolArgs, build_tool

__all__ = ["current_datetime", "date_calculator", "now", "parse_date", "resolve_timezone"]


def now() -> datetime:
    """The current time, timezone-aware. Tests replace it to fix the clock."""
    return datetime.now(tz.utc)


# --- Time zones --------------------------------------------------------------------------------

_LOCAL = frozenset({"", "local", "here", "system", "my", "mine", "local time", "my time zone"})
_UTC = frozenset({"utc", "gmt", "z", "zulu", "universal", "utc+0", "gmt+0"})
_ABBREVIATIONS = {  # common abbreviations; the ambiguous ones go to their most usual zone
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "eet": "Europe/Athens",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "aest": "Australia/Sydney",
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")
_HOW_TO_WRITE = (
    "write an IANA time zone name like 'Europe/Paris', 'America/New_York', 'Asia/Tokyo' or 'UTC', "
    "an offset like 'UTC+2', or 'local'"
)


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    """Lower-case spelling -> IANA name, for full names and for unambiguous city names."""
    from zoneinfo import available_timezones

    names = sorted(available_timezones())
    table = {n.lower(): n for n in names}
    cities: dict[str, list[str]] = {}
    for n in names:
        if "/" in n and not n.startswith("Etc/"):
            cities.setdefault(n.rsplit("/", 1)[1].lower(), []).append(n)
    for city, zones in cities.items():
        table.setdefault(city, zones[0])  # the first is the canonical region (America/ before US/)
    return table


def resolve_timezone(name: str | None) -> tuple[tzinfo | None, str]:
    """The zone a user or model means, and how to call it; ``None`` for the system's local zone.

    Raises:
        ValueError: Unknown zone; the message says how to write one (and suggests close names).
    """
    from zoneinfo import ZoneInfo

    text = (name or "").strip()
    key = text.lower()
    if key in _LOCAL:
        return None, "local time"
    if key in _UTC:
        return tz.utc, "UTC"
    offset = _OFFSET.match(key.replace(" ", ""))
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if int(minutes or 0) >= 60 or delta > timedelta(hours=12 if sign == "-" else 14):
            raise ValueError(f"UTC offset {text!r} is out of range (-12 to +14 hours) - {_HOW_TO_WRITE}")
        label = f"UTC{sign}{int(hours):02d}:{int(minutes or 0):02d}"
        return tz(-delta if sign == "-" else delta, label), label
    wanted = _ABBREVIATIONS.get(key) or _zone_names().get(key.replace(" ", "_"))
    if wanted:
        return ZoneInfo(wanted), wanted
    if len(key) > 64:  # no zone name is this long; spare difflib the work
        raise ValueError(f"unknown time zone {text[:64]!r}... - {_HOW_TO_WRITE}")
    close = difflib.get_close_matches(key.replace(" ", "_"), list(_zone_names()), n=3, cutoff=0.75)
    hint = f" - did you mean {', '.join(_zone_names()[c] for c in close)}?" if close else ""
    raise ValueError(f"unknown time zone {text!r}{hint} - {_HOW_TO_WRITE}")


def _offset(moment: datetime) -> str:
    delta = moment.utcoffset() or timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


class CurrentDatetimeArgs(ToolArgs):
    timezone: str = Field(
        default="local",
        json_schema_extra={"x-grounded": "timezone"},
        description="Time zone like Europe/Paris, America/New_York, UTC, or local.",
    )


def _current_datetime(timezone: str = "local") -> str:
    zone, label = resolve_timezone(timezone)
    moment = now().astimezone(zone)
    names = [label]
    for extra in (moment.tzname(), _offset(moment)):
        if extra and extra not in names:
            names.append(extra)
    return (
        f"{moment:%A} {moment.day} {moment:%B %Y}, {moment:%H:%M:%S} ({', '.join(names)}). "
        f"ISO: {moment.isoformat(timespec='seconds')}"
    )


current_datetime: BaseTool = build_tool(
    _current_datetime,
    name="current_datetime",
    description="Get the current date, time and weekday, here or in a time zone (e.g. Asia/Tokyo).",
    args_schema=CurrentDatetimeArgs,
    examples=[
        "What time is it?",
        "What's today's date?",
        "What day of the week is it today?",
        "What time is it in Tokyo right now?",
        "Is it morning in New York?",
        "Current UTC time please",
    ],
    example_args={"timezone": "Europe/Paris"},
    example_request="What time is it in Paris?",
)
"""``current_datetime(timezone="local")``: date, weekday, time, zone and ISO 8601 form."""


# --- Dates -------------------------------------------------------------------------------------

_RELATIVE = {"today": 0, "now": 0, "": 0, "tomorrow": 1, "yesterday": -1}
_WEEKDAY = re.compile(r"^(?:(next|last|this)\s+)?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)$")
_MAX_DATE_CHARS = 64
_LIMITS = {"add_days": 3_652_059, "add_weeks": 521_722, "add_months": 119_988, "add_years": 9_998}
"""The largest move of each kind that can stay within the years 1 to 9999."""
_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%d %B %Y", "%d %b %Y", "%B %d %Y", "%b %d %Y", "%d.%m.%Y")


def _today() -> date:
    return now().astimezone().date()


def parse_date(text: str | None) -> date:
    """A date from ISO (``2025-03-14``), ``today``/``tomorrow``/``yesterday``, ``next friday``,
    or a written date (``14 March 2025``, ``March 14, 2025``).

    Raises:
        ValueError: Anything else (e.g. ``03/04/2025``, which is ambiguous); the message says
            how to write dates.
    """
    raw = (text or "").strip()
    if len(raw) > _MAX_DATE_CHARS:
        raise ValueError(
            f"cannot read the date {raw[:_MAX_DATE_CHARS]!r}... (over {_MAX_DATE_CHARS} characters) - write it "
            "as YYYY-MM-DD (e.g. 2025-03-14), or today, tomorrow, yesterday, next friday"
        )
    key = re.sub(r"\s+", " ", raw.lower().replace(",", " ")).strip()
    if key in _RELATIVE:
        return _today() + timedelta(days=_RELATIVE[key])
    weekday = _WEEKDAY.match(key)
    if weekday:
        today = _today()
        target = list(calendar.day_name).index(weekday.group(2).capitalize())
        ahead = (target - today.weekday()) % 7
        if weekday.group(1) == "last":
            return today - timedelta(days=(today.weekday() - target) % 7 or 7)
        return today + timedelta(days=ahead or 7)
    try:
        return date.fromisoformat(key[:10]) if re.match(r"^\d{4}-\d{2}-\d{2}", key) else _written(key)
    except ValueError as exc:
        raise ValueError(
            f"cannot read the date {raw!r} - write it as YYYY-MM-DD (e.g. 2025-03-14), "
            "or today, tomorrow, yesterday, next friday"
        ) from exc


def _written(key: str) -> date:
    key = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", key)  # "march 14th"
    if not re.search(r"\d{4}", key):  # "march 14": this year
        key = f"{key} {_today().year}"
    for fmt in _FORMATS:
        try:
            return datetime.strptime(key, fmt).date()
        except ValueError:
            continue
    raise ValueError(key)


def _add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the month's last day when needed."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise OverflowError("year out of range")
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _check_moves(**moves: int) -> None:
    for name, amount in moves.items():
        most = _LIMITS[name]
        if not -most <= amount <= most:
            shown = f"{amount:,}" if abs(amount) < 10**12 else "a huge number"
            raise ValueError(
                f"{name}={shown} would take the date outside the years 1 to 9999 - "
                f"give {name} between -{most:,} and {most:,}"
            )


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if abs(n) == 1 else f"{n} {unit}s"


def _show(day: date) -> str:
    return f"{day.isoformat()} ({day:%A})"


class DateCalculatorArgs(ToolArgs):
    start: str = Field(
        default="today",
        json_schema_extra={"x-grounded": "date"},
        description="Start date: YYYY-MM-DD, today, tomorrow or yesterday.",
    )
    add_days: int = Field(default=0, description="Days to add (negative to go back).")
    add_weeks: int = Field(default=0, description="Weeks to add (negative to go back).")
    add_months: int = Field(default=0, description="Months to add (negative to go back).")
    add_years: int = Field(default=0, description="Years to add (negative to go back).")
    until: str | None = Field(
        default=None,
        json_schema_extra={"x-grounded": "date"},
        description="End date, to count the days from start until it.",
    )

    @field_validator("add_days", "add_weeks", "add_months", "add_years", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        # "3 days", "+2", None: what small models send for a number of days.
        if value is None or value == "":
            return 0
        if isinstance(value, str):
            found = re.match(r"^\s*([+-]?\s*\d+)", value)
            if found and len(found.group(1)) > 12:
                raise ValueError(f"{found.group(1)[:12]}... is far too many - give at most 7 digits")
            if found:
                return int(found.group(1).replace(" ", ""))
        return value

    @field_validator("start", mode="before")
    @classmethod
    def _default_start(cls, value: Any) -> Any:
        return "today" if value is None else value


def _date_calculator(
    start: str = "today",
    add_days: int = 0,
    add_weeks: int = 0,
    add_months: int = 0,
    add_years: int = 0,
    until: str | None = None,
) -> str:
    _check_moves(add_days=add_days, add_weeks=add_weeks, add_months=add_months, add_years=add_years)
    begin = parse_date(start)
    try:
        result = _add_months(begin, 12 * add_years + add_months) + timedelta(days=add_days + 7 * add_weeks)
    except (OverflowError, ValueError) as exc:
        raise ValueError("the result is outside the years 1 to 9999 - add less") from exc
    moves = [(add_years, "year"), (add_months, "month"), (add_weeks, "week"), (add_days, "day")]
    added = ", ".join(f"{'+' if n > 0 else '-'} {_plural(abs(n), unit)}" for n, unit in moves if n)
    lines = [f"{_show(begin)} {added} = {_show(result)}" if added else f"{_show(result)}"]
    if until is not None and until.strip():
        end = parse_date(until)
        days = (end - result).days
        weeks, rest = divmod(abs(days), 7)
        split = f" ({_plural(weeks, 'week')} and {_plural(rest, 'day')})" if weeks else ""
        direction = "" if days >= 0 else f"; {end.isoformat()} is before {result.isoformat()}"
        lines.append(f"From {_show(result)} to {_show(end)}: {_plural(days, 'day')}{split}{direction}")
    return "\n".join(lines)


date_calculator: BaseTool = build_tool(
    _date_calculator,
    name="date_calculator",
    description="Add days, weeks, months or years to a date, or count the days between two dates.",
    args_schema=DateCalculatorArgs,
    examples=[
        "What date is 90 days from today?",
        "How many days until Christmas 2025?",
        "What day of the week was 2000-01-01?",
        "What's the date 3 weeks after March 14?",
        "How many days between 2024-02-01 and 2024-03-01?",
        "When is 6 months from tomorrow?",
    ],
    example_args={"start": "today", "add_days": 90},
    example_request="What date is 90 days from today?",
)
"""``date_calculator(start="today", add_days=0, add_weeks=0, add_months=0, add_years=0, until=None)``."""
