"""Candidate values for tool arguments (toolkit.text.candidates): phrasings, properties, hostile input."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.text.candidates import (
    KINDS,
    MAX_CANDIDATES,
    Candidate,
    Candidates,
    extract_candidates,
    ordered_for,
)

US, EU = {"locale_decimal_comma": False}, {"locale_decimal_comma": True}
KG, LB, C, F = "kilogram", "pound", "degree_Celsius", "degree_Fahrenheit"

# (request, options, expected): each key of `expected` is a list of Candidates (its values, exactly,
# in order), or "roles.<list>" (the role of each candidate in that list).
PHRASINGS: list[tuple[str, dict[str, Any], dict[str, list[Any]]]] = [
    # the three phrasings of the brief
    (
        "Convert 2,340 kg to pounds.",
        {},
        {"numbers": [2340], "units": [KG, LB], "roles.units": ["from", "to"]},
    ),
    (
        "What is 17% of 2,340 kg in pounds?",
        {},
        {"numbers": [17, 2340], "roles.numbers": ["percent", None], "units": [KG, LB]},
    ),
    ("What is 17% of 2,340?", {}, {"numbers": [17, 2340], "units": []}),
    # separators and locales
    ("Send 2 340 boxes", {}, {"numbers": [2340, 2, 340]}),
    ("Send 2\u00a0340 boxes", {}, {"numbers": [2340]}),
    ("Send 2\u202f340 boxes", {}, {"numbers": [2340]}),
    ("Send 2\u2009340 boxes", {}, {"numbers": [2340]}),
    ("The total is 2340.5", {}, {"numbers": [2340.5]}),
    ("1,234,567 rows", {}, {"numbers": [1234567]}),
    ("1.234.567 rows", {}, {"numbers": [1234567]}),
    ("It costs 1,234.56", {}, {"numbers": [1234.56]}),
    ("Es kostet 1.234,56 €", {}, {"numbers": [1234.56], "units": ["EUR"]}),
    ("1.234,56 € und 12,5 €", {}, {"numbers": [1234.56, 12.5]}),
    ("Swiss 1'234'567 francs", {}, {"numbers": [1234567], "units": ["CHF"]}),
    ("12,5 kg", EU, {"numbers": [12.5], "units": [KG]}),
    ("12,5 kg", US, {"numbers": [12, 5]}),
    ("12,5 kg", {}, {"numbers": [12, 12.5, 5]}),
    ("2,340", EU, {"numbers": [2.34, 2340]}),
    ("1.500 kg", EU, {"numbers": [1500, 1.5]}),
    ("1.500 kg", {}, {"numbers": [1.5]}),
    ("pick 1,2,3", {}, {"numbers": [1, 2, 3]}),
    ("about 1.5k users", {}, {"numbers": [1500]}),
    ("a 2M budget", {}, {"numbers": [2_000_000]}),
    ("3bn people", {}, {"numbers": [3_000_000_000]}),
    ("2 million people", {}, {"numbers": [2_000_000]}),
    ("It is -4 degrees outside", {}, {"numbers": [-4], "units": ["degree"]}),
    ("Add +7 to the score", {}, {"numbers": [7]}),
    ("Fire 1e3 requests", {}, {"numbers": [1000]}),
    ("Pour .5 liters", {}, {"numbers": [0.5], "units": ["liter"]}),
    ("Pour 0.75 l", {}, {"numbers": [0.75], "units": ["liter"]}),
    ("Release v1.2.3 today", {}, {"numbers": [], "dates": ["today"]}),
    ("Python 3.12.1 is out", {}, {"numbers": []}),
    # percentages
    ("Increase it by 15 %", {}, {"numbers": [15], "roles.numbers": ["percent"]}),
    ("a 3.5% rate", {}, {"numbers": [3.5], "roles.numbers": ["percent"]}),
    ("20 percent off", {}, {"numbers": [20], "roles.numbers": ["percent"]}),
    # ranges
    ("5-10 minutes", {}, {"numbers": [5, 10], "roles.numbers": ["from", "to"], "units": ["minute"]}),
    ("5 to 10 items", {}, {"numbers": [5, 10], "roles.numbers": ["from", "to"]}),
    ("between 5 and 10 apples", {}, {"numbers": [5, 10], "roles.numbers": ["from", "to"]}),
    ("from 3 to 7 days", {}, {"numbers": [3, 7], "roles.numbers": ["from", "to"], "units": ["day"]}),
    ("3 and 4", {}, {"numbers": [3, 4], "roles.numbers": [None, None]}),
    # ordinals and fractions
    ("the 3rd item", {}, {"numbers": [3]}),
    ("my 21st birthday", {}, {"numbers": [21]}),
    ("on the 2nd floor", {}, {"numbers": [2]}),
    ("add 1/2 cup of sugar", {}, {"numbers": [0.5, 1, 2], "units": ["cup"]}),
    ("3/4 of the way", {}, {"numbers": [0.75, 3, 4]}),
    # written out
    ("twenty-three apples", {}, {"numbers": [23]}),
    ("one hundred and five", {}, {"numbers": [105]}),
    ("two thousand three hundred forty", {}, {"numbers": [2340]}),
    ("a dozen eggs", {}, {"numbers": [12]}),
    ("two dozen eggs", {}, {"numbers": [24]}),
    ("half the cake", {}, {"numbers": [0.5]}),
    ("three million people", {}, {"numbers": [3_000_000]}),
    ("forty two", {}, {"numbers": [42]}),
    ("the twenty-first line", {}, {"numbers": [21]}),
    ("a hundred times", {}, {"numbers": [100]}),
    ("seven hundred thousand", {}, {"numbers": [700_000]}),
    ("one two three", {}, {"numbers": [1, 2, 3]}),
    ("twenty eleven", {}, {"numbers": [20, 11]}),
    # currencies
    ("$5", {}, {"numbers": [5], "units": ["USD"]}),
    ("€12.50", {}, {"numbers": [12.5], "units": ["EUR"]}),
    ("5 USD to EUR", {}, {"numbers": [5], "units": ["USD", "EUR"], "roles.units": [None, "to"]}),
    ("100 dollars in euros", {}, {"units": ["USD", "EUR"], "roles.units": [None, "to"]}),
    ("1000 yen", {}, {"units": ["JPY"]}),
    ("£20 please", {}, {"numbers": [20], "units": ["GBP"]}),
    (
        "Convert $5 to euros",
        {},
        {"numbers": [5], "roles.numbers": ["from"], "units": ["USD", "EUR"], "roles.units": ["from", "to"]},
    ),
    # units
    ("10 kilograms", {}, {"units": [KG]}),
    ("5 lbs", {}, {"units": [LB]}),
    ("72 °F", {}, {"units": [F]}),
    ("30 °C", {}, {"units": [C]}),
    ("Convert 100 degrees Fahrenheit to Celsius", {}, {"units": [F, C], "roles.units": ["from", "to"]}),
    ("Convert 300 K to °C", {}, {"units": ["kelvin", C]}),
    ("60 mph", {}, {"units": ["mile_per_hour"]}),
    ("100 km/h", {}, {"units": ["kilometer / hour"]}),
    ("5 miles per hour", {}, {"units": ["mile / hour"]}),
    ("6 ft", {}, {"units": ["foot"]}),
    ("6 feet tall", {}, {"units": ["foot"]}),
    ("12 inches", {}, {"units": ["inch"]}),
    ("12 in", {}, {"units": ["inch"]}),
    ("put it in the box at home", {}, {"units": []}),
    ("2 l of water", {}, {"units": ["liter"]}),
    ("3 litres", {}, {"units": ["liter"]}),
    ("3 liters", {}, {"units": ["liter"]}),
    ("250 ml", {}, {"units": ["milliliter"]}),
    ("8 oz", {}, {"units": ["ounce"]}),
    ("2 gallons", {}, {"units": ["gallon"]}),
    ("the second file is a draft", {}, {"units": []}),
    ("wait 2 second", {}, {"units": ["second"]}),
    ("How many grams in a pound?", {}, {"units": ["gram", LB]}),
    ("what is it to me", {}, {"units": []}),
    ("Convert 5 km to miles", {}, {"units": ["kilometer", "mile"], "roles.units": ["from", "to"]}),
    ("how many seconds in 3 days", {}, {"units": ["second", "day"]}),
    ("count the points in this section", {}, {"units": []}),
    ("Move it to the second folder", {}, {"units": []}),
    ("convert 5 kg into g", {}, {"units": [KG, "gram"], "roles.units": ["from", "to"]}),
    ("from A to B", {}, {"units": []}),
    # dates
    ("due 2026-12-07", {}, {"dates": ["2026-12-07"], "numbers": []}),
    ("due 07/12/2026", {}, {"dates": ["2026-12-07", "2026-07-12"], "numbers": []}),
    ("due 25/12/2026", {}, {"dates": ["2026-12-25"]}),
    ("due 31.12.2025", {}, {"dates": ["2025-12-31"]}),
    ("on 7 December 2026", {}, {"dates": ["2026-12-07"], "numbers": []}),
    ("on December 7, 2026", {}, {"dates": ["2026-12-07"], "numbers": []}),
    ("on Dec 7", {}, {"dates": ["--12-07"], "numbers": []}),
    ("on the 7th of December", {}, {"dates": ["--12-07"]}),
    ("in March 2026", {}, {"dates": ["2026-03"]}),
    ("tomorrow at noon", {}, {"dates": ["tomorrow"], "times": ["12:00"]}),
    ("what happened yesterday", {}, {"dates": ["yesterday"]}),
    ("next Monday", {}, {"dates": ["next monday"]}),
    ("from Monday to Friday", {}, {"dates": ["monday", "friday"], "roles.dates": ["from", "to"]}),
    ("on 2026-02-30", {}, {"dates": [], "numbers": [2026, 2, 30]}),
    ("you may 5 times", {}, {"numbers": [5]}),
    # times
    ("at 14:30", {}, {"times": ["14:30"], "numbers": []}),
    ("at 2pm", {}, {"times": ["14:00"], "numbers": [], "units": []}),
    ("at 2:30 p.m.", {}, {"times": ["14:30"]}),
    ("at midnight", {}, {"times": ["00:00"]}),
    ("from 9am to 5pm", {}, {"times": ["09:00", "17:00"], "roles.times": ["from", "to"]}),
    ("at 12am", {}, {"times": ["00:00"]}),
    ("at 10:15:30", {}, {"times": ["10:15:30"]}),
    # quoted strings
    ('say "hello world"', {}, {"quoted": ["hello world"]}),
    ("call it 'draft'", {}, {"quoted": ["draft"]}),
    ("I don't know, it's Bob's", {}, {"quoted": []}),
    ("name it “curly”", {}, {"quoted": ["curly"]}),
    ("run `ls -la`", {}, {"quoted": ["ls -la"]}),
    ("it's Bob's 'car'", {}, {"quoted": ["car"]}),
    ("sing 'don't stop'", {}, {"quoted": ["don't stop"]}),
    ("dis «bonjour»", {}, {"quoted": ["bonjour"]}),
    # file names and URLs
    ("open report.pdf", {}, {"filenames": ["report.pdf"]}),
    ("edit notes/todo.md now", {}, {"filenames": ["notes/todo.md"]}),
    ('open "./a b.txt"', {}, {"filenames": ["./a b.txt"], "quoted": ["./a b.txt"]}),
    (r"load C:\x\y.csv", {}, {"filenames": [r"C:\x\y.csv"]}),
    ("version 2.5 is out", {}, {"filenames": [], "numbers": [2.5]}),
    (
        "visit https://example.com/a.pdf now",
        {},
        {"urls": ["https://example.com/a.pdf"], "filenames": [], "numbers": []},
    ),
    ("see www.example.org.", {}, {"urls": ["www.example.org"]}),
    ("e.g. this one", {}, {"filenames": []}),
    ("unpack archive.tar.gz", {}, {"filenames": ["archive.tar.gz"]}),
    ("read ~/data/file.csv", {}, {"filenames": ["~/data/file.csv"]}),
    ("the file data_2024.csv", {}, {"filenames": ["data_2024.csv"], "numbers": []}),
    ("go to example.com", {}, {"filenames": []}),
    # time zones
    ("what time is it in Europe/Paris", {}, {"timezones": ["Europe/Paris"]}),
    ("meeting in Tokyo", {}, {"timezones": ["Asia/Tokyo"]}),
    ("New York time", {}, {"timezones": ["America/New_York"]}),
    ("flights to paris", {}, {"timezones": ["Europe/Paris"]}),
    ("at 3pm PST", {}, {"timezones": ["America/Los_Angeles"], "times": ["15:00"]}),
    ("10:00 UTC", {}, {"timezones": ["UTC"]}),
    ("UTC+5:30", {}, {"timezones": ["UTC+05:30"]}),
    ("GMT-3", {}, {"timezones": ["UTC-03:00"]}),
    ("Merry Christmas", {}, {"timezones": []}),
    ("from London to Tokyo", {}, {"timezones": ["Europe/London", "Asia/Tokyo"]}),
    ("Los Angeles or CET", {}, {"timezones": ["America/Los_Angeles", "Europe/Berlin"]}),
]


def _values(found: Candidates, key: str) -> list[Any]:
    if key.startswith("roles."):
        return [c.role for c in getattr(found, key.removeprefix("roles."))]
    return [c.value for c in getattr(found, key)]


@pytest.mark.parametrize(("text", "options", "expected"), PHRASINGS, ids=[p[0] for p in PHRASINGS])
def test_phrasing(text: str, options: dict[str, Any], expected: dict[str, list[Any]]) -> None:
    found = extract_candidates(text, **options)
    assert {key: _values(found, key) for key in expected} == expected
    # 2340 == 2340.0 above, so check apart that integral numbers come as ints
    assert not any(isinstance(c.value, float) and c.value.is_integer() for c in found.numbers)


def test_there_are_over_a_hundred_phrasings() -> None:
    assert len(PHRASINGS) >= 100


def test_every_candidate_names_its_text_and_offset() -> None:
    text = "Convert 2,340 kg to pounds on 7 December 2026 at 2pm in Tokyo, see 'report.pdf'."
    found = extract_candidates(text)
    assert found.all, "nothing found"
    for c in found.all:
        assert text[c.start : c.start + len(c.text)] == c.text, c
        assert c.kind in KINDS and c.turn == 0
    assert [c.start for c in found.all] == sorted(c.start for c in found.all)


def test_ngrams_drop_stopword_only_runs_and_keep_names() -> None:
    found = extract_candidates("Book a table at Luigi's Pizza for tonight", max_ngram=3)
    ngrams = [c.value for c in found.ngrams]
    assert {"Luigi's Pizza", "Luigi's", "Book a table", "table"} <= set(ngrams)
    assert "a" not in ngrams and "at" not in ngrams and "for" not in ngrams
    assert all(len(n.split()) <= 3 for n in ngrams)
    assert extract_candidates("Book a table", max_ngram=0).ngrams == []


def test_history_comes_after_the_request_and_says_which_turn() -> None:
    found = extract_candidates("Convert it to pounds", history=["I have 5 kg of flour", "Sure."])
    assert [(c.value, c.turn) for c in found.units] == [(LB, 0), (KG, 2)]
    assert [(c.value, c.turn) for c in found.numbers] == [(5, 2)]
    turn = "I have 5 kg of flour"
    assert all(turn[c.start : c.start + len(c.text)] == c.text for c in found.all if c.turn == 2)


def test_a_value_in_the_request_and_in_history_is_offered_once_from_the_request() -> None:
    found = extract_candidates("5 kg please", history=["earlier: 5 kg"])
    assert [(c.value, c.turn) for c in found.numbers] == [(5, 0)]


def test_too_much_history_is_cut_and_says_so() -> None:
    history = [f"turn {i}" for i in range(20)]
    found = extract_candidates("hello", history=history)
    assert found.truncated
    assert {c.turn for c in found.all} <= set(range(9))
    assert not extract_candidates("hello", history=history[:3]).truncated


def test_a_long_text_is_read_in_its_head_and_tail_and_says_so() -> None:
    text = "alpha 111 " + "x " * 15_000 + " 222 " + "y " * 15_000 + " 333 omega"
    found = extract_candidates(text)
    assert [c.value for c in found.numbers] == [111, 333]
    assert all(text[c.start : c.start + len(c.text)] == c.text for c in found.all)
    assert found.truncated
    assert not extract_candidates("alpha 111").truncated


def test_the_count_cap_keeps_the_first_candidates_and_says_so() -> None:
    found = extract_candidates(" ".join(str(n) for n in range(1000, 1700)), max_ngram=0)
    assert len(found.all) == MAX_CANDIDATES
    assert [c.value for c in found.numbers[:3]] == [1000, 1001, 1002]
    assert found.truncated


def test_ordered_for_puts_the_role_first() -> None:
    units = extract_candidates("Convert 2,340 kg to pounds.").units
    assert [c.value for c in ordered_for(units, "to")] == [LB, KG]
    assert [c.value for c in ordered_for(units, "from")] == [KG, LB]
    assert ordered_for([], "to") == []


def test_candidate_is_frozen_and_all_lists_every_kind() -> None:
    found = extract_candidates("Email 'a.txt' at 2pm on Dec 7 in Paris: 5 kg, https://x.org")
    assert {c.kind for c in found.all} == set(KINDS)
    with pytest.raises(AttributeError):
        found.numbers[0].value = 6  # type: ignore[misc]
    assert isinstance(found.numbers[0], Candidate)


def test_max_ngram_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match="max_ngram must be between 0 and 8"):
        extract_candidates("x", max_ngram=9)


def test_importing_the_module_loads_neither_pint_nor_zoneinfo() -> None:
    code = "import sys, toolkit.text.candidates; print('pint' in sys.modules, 'zoneinfo' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


WORDS = st.sampled_from(
    ["2,340", "1.234,56", "12,5", "17%", "kg", "pounds", "to", "from", "Dec", "7", "2026-12-07", "14:30",
     "2pm", "Tokyo", "New", "York", "UTC+2", "'", '"', "`", "“", "”", "report.pdf", "C:\\x", "/", "$", "€",
     "twenty", "hundred", "and", "a", "dozen", "1/2", "-", "in", "°C", "per", "hour", "https://", "www.", "e.g."]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=300), st.lists(st.one_of(WORDS, st.text(max_size=5)), max_size=60).map(" ".join)
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=TEXTS, history=st.lists(st.text(max_size=50), max_size=3), comma=st.sampled_from([None, True, False])
)
def test_any_text_is_read_quickly_and_every_candidate_is_found_where_it_says(
    text: str, history: list[str], comma: bool | None
) -> None:
    extract_candidates("warm up: 5 kg in Tokyo")  # pint and the tz database load once
    started = time.perf_counter()
    found = extract_candidates(text, history=history, locale_decimal_comma=comma)
    assert time.perf_counter() - started < 0.5
    assert len(found.all) <= MAX_CANDIDATES
    for c in found.all:
        source = text if c.turn == 0 else history[-c.turn]
        assert source[c.start : c.start + len(c.text)] == c.text, c
    for kind in KINDS:
        values = [c.value for c in getattr(found, "quoted" if kind == "quoted" else kind + "s")]
        assert len(values) == len(set(values)), kind


CONSONANTS = "bcdfghjklmnpqrstvwxz"
HOSTILE = {
    "commas": "1," * 100_000,
    "letters": "a" * 200_000,
    "digits": "9" * 200_000,
    "double quotes": '"' * 200_000,
    "nested quotes": "\"'`“«" * 40_000,
    "open quotes": ('"' + "x" * 499) * 400,
    "spaced digits": "1 " * 100_000,
    "paths": "a/" * 100_000,
    "windows paths": "C:\\" * 70_000,
    "urls": "http://" * 30_000,
    "dates": "Dec 1 " * 35_000,
    "number words": "twenty " * 30_000,
    "units": "5 kg " * 40_000,
    "dots": "e.g. " * 40_000,
    "signs": "-+" * 100_000,
    "unit lookups": " ".join(f"5 {a}{b}{c} " for a in CONSONANTS for b in "aeiou" for c in CONSONANTS) * 17,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_returns_quickly_within_the_cap(name: str) -> None:
    extract_candidates("warm up: 5 kg in Tokyo")
    started = time.perf_counter()
    found = extract_candidates(HOSTILE[name], history=[HOSTILE[name]])
    assert time.perf_counter() - started < 2.0
    assert len(found.all) <= MAX_CANDIDATES
    assert found.truncated
