"""The Ask page's citation check and the Markdown escaping of names (``toolkit.ui.citations``)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.ui.citations import citation_check, escape_markdown, source_label

SOURCES: list[dict[str, Any]] = [
    {"n": 1, "name": "kelvara.txt", "source": "/docs/kelvara.txt", "text": "Finished in 1911."},
    {"n": 2, "name": "soup.md", "source": "/docs/soup.md", "text": "Tomato soup."},
]


def test_an_answer_citing_known_sources_passes() -> None:
    assert citation_check("Finished in 1911 [1], with soup [2].", SOURCES) == ""


def test_unknown_numbers_are_named_in_order() -> None:
    assert citation_check("Finished in 1911 [1][4] and [3], [4].", SOURCES) == (
        "The answer cites [3], [4], which is not among the sources below: check it against them."
    )


def test_an_answer_citing_nothing_is_flagged() -> None:
    assert citation_check("Finished in 1911.", SOURCES) == (
        "The answer cites no source: check it against the sources below."
    )


@pytest.mark.parametrize(("answer", "sources"), [("Finished [1].", []), ("", SOURCES), ("  \n", SOURCES)])
def test_nothing_to_check(answer: str, sources: list[dict[str, Any]]) -> None:
    assert citation_check(answer, sources) == ""


def test_source_numbers_may_be_strings() -> None:
    assert citation_check("See [2].", [{"n": "2"}]) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("report_final.md", r"report\_final.md"),
        (
            "*bold* `code` [link](x) <b> a|b ~s~ $x$ back\\slash",
            r"\*bold\* \`code\` \[link\](x) \<b\> a\|b \~s\~ \$x\$ back\\slash",
        ),
        ("two\nlines", "two lines"),
        ("plain name.txt", "plain name.txt"),
    ],
)
def test_escape_markdown(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_source_label_names_page_and_section_escaped() -> None:
    source = {"n": 3, "name": "my_report.pdf", "page": 0, "section": "Intro *draft*"}
    assert source_label(source) == r"[3] my\_report.pdf, p. 0 - Intro \*draft\*"
    assert source_label({"n": 1, "source": "/docs/a.md"}) == "[1] /docs/a.md"
    assert source_label({"n": 1}) == "[1] document"
