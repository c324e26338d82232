"""Markdown plumbing of the translate chain: split, protect, reassemble (offline)."""

from __future__ import annotations

import re

import pytest

from toolkit.chains.markdown import (
    Protected,
    Segment,
    numbers_in,
    protect,
    protected_spans,
    reassemble,
    split_markdown,
)

FENCED_BACKTICKS = """```python
# not a heading
- not a list item
print("see https://example.com")  # 42
```
"""
FENCED_TILDES = """~~~
| not | a table |
> not a quote
~~~
"""
INDENTED_CODE = """    indented code line
    - still code
"""

DOC = f"""---
title: Guide
tags: [a, b]
---

# Getting started #

Intro paragraph with a [link](https://example.com/a_(b) "Title") and `inline code`,
continued on a second line with <https://auto.link> and mail me@example.org.

Setext Heading
==============

Another Setext
--------------

- First item
- Second item
  continues here
  - Nested item
    1. Deep numbered
- [ ] Task to do
- [x] Done task

1. One
2) Two

> A quote line
> second quote line
>
> - quoted item

{FENCED_BACKTICKS}
{FENCED_TILDES}
{INDENTED_CODE}
| Name | Value |
|:-----|------:|
| Alpha | 42 |
| Beta  | 3.14 |

***

<div align="center">
  <img src="logo.png">
</div>

![Logo alt](img/logo.png) and text.

[ref]: https://example.com
Text with a footnote[^1].

[^1]: The footnote text.
Last line, no newline"""

EXPECTED_PROSE = [
    "Getting started",
    'Intro paragraph with a [link](https://example.com/a_(b) "Title") and `inline code`,\n'
    "continued on a second line with <https://auto.link> and mail me@example.org.",
    "Setext Heading",
    "Another Setext",
    "First item",
    "Second item\n  continues here",
    "Nested item",
    "Deep numbered",
    "Task to do",
    "Done task",
    "One",
    "Two",
    "A quote line",
    "second quote line",
    "quoted item",
    "Name",
    "Value",
    "Alpha",
    "Beta",
    "![Logo alt](img/logo.png) and text.",
    "Text with a footnote[^1].",
    "[^1]: The footnote text.\nLast line, no newline",
]


def prose(text: str) -> list[str]:
    return [s.text for s in split_markdown(text) if s.translatable]


def skeleton(text: str) -> list[str]:
    return [s.text for s in split_markdown(text) if not s.translatable]


def fake_translate(unit: str) -> str:
    """A 'model' that changes every letter and keeps placeholders, like a good translator."""
    return "«" + unit.upper() + "»"


def translate_document(text: str, translate=fake_translate, glossary=None) -> str:
    segments = split_markdown(text)
    out = []
    for seg in segments:
        if not seg.translatable:
            continue
        masked = protect(seg.text, glossary, numbers=True)
        restored = masked.restore(translate(masked.masked))
        if restored is None:  # fallback: translate the prose between protected pieces
            restored = "".join(
                translate(p.text) if p.translatable else p.text for p in protected_spans(seg.text, glossary)
            )
        out.append(restored)
    return reassemble(segments, out)


# --- split_markdown ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        DOC,
        DOC + "\n",
        DOC.replace("\n", "\r\n"),
        "Plain text.\nNo markdown at all\n\nSecond paragraph\twith a tab.",
        "",
        "\n\n",
        "   ",
        "```\nunterminated fence\n# still code",
        "line\r\n\r\n",
    ],
)
def test_round_trip_is_byte_identical(text: str) -> None:
    assert "".join(s.text for s in split_markdown(text)) == text


def test_translatable_segments_are_exactly_the_prose() -> None:
    assert prose(DOC) == EXPECTED_PROSE


def test_translatable_segments_have_no_surrounding_whitespace() -> None:
    for text in prose(DOC) + prose(DOC.replace("\n", "\r\n")):
        assert text == text.strip()


def test_crlf_document_gives_the_same_prose_modulo_line_ends() -> None:
    assert [p.replace("\r\n", "\n") for p in prose(DOC.replace("\n", "\r\n"))] == EXPECTED_PROSE


def test_plain_text_becomes_paragraphs() -> None:
    text = "First line of one paragraph\nsecond line of it.\n\n  Indented second paragraph.  \n"
    assert prose(text) == ["First line of one paragraph\nsecond line of it.", "Indented second paragraph."]


def test_code_never_translatable() -> None:
    for seg in split_markdown(DOC):
        if seg.translatable:
            assert "not a" not in seg.text and "code line" not in seg.text
    assert prose("```\nunterminated fence\nstill code") == []
    assert prose("Paragraph.\n\n    code after blank\n") == ["Paragraph."]
    # Indented under a list item, it is the item's text, not code.
    assert prose("- item\n\n    more of the item\n") == ["item", "more of the item"]


def test_non_prose_is_not_translatable() -> None:
    text = "12345\n\n---\n\n...!\n\n<br/>\n\n`only code`\n\nhttps://example.com\n\n| 1 | 2.5 |\n|---|---|\n"
    assert prose(text) == []


def test_heading_variants() -> None:
    assert prose("## Title ##\n#hashtag is prose\n# C# language\n") == [
        "Title",
        "#hashtag is prose",
        "C# language",
    ]


def test_html_inline_start_is_prose_but_html_block_is_not() -> None:
    assert prose("<b>Bold</b> starts this paragraph.\n") == ["<b>Bold</b> starts this paragraph."]
    assert prose("<!-- a comment\nspanning lines -->\nAfter.\n") == ["After."]
    assert prose("<div>\nInside a div\n</div>\n\nAfter.\n") == ["After."]


# --- fake translation through the whole pipeline -----------------------------------------


def test_fake_translation_keeps_code_and_skeleton() -> None:
    out = translate_document(DOC)
    for block in (FENCED_BACKTICKS, FENCED_TILDES, INDENTED_CODE):
        assert block in out
    assert skeleton(out) == skeleton(DOC)
    translated = prose(out)
    assert len(translated) == len(EXPECTED_PROSE)
    assert all(t.startswith("«") and t.endswith("»") for t in translated)
    for kept in [
        "https://example.com/a_(b)",
        "`inline code`",
        "<https://auto.link>",
        "me@example.org",
        "img/logo.png",
    ]:
        assert kept in out
    assert "«GETTING STARTED»" in out and "«INTRO PARAGRAPH WITH A [LINK](https://example.com/a_(b)" in out
    assert "| «ALPHA» | 42 |" in out and "- [ ] «TASK TO DO»" in out
    assert not out.endswith("\n")


def test_fake_translation_of_crlf_document_keeps_crlf() -> None:
    crlf = DOC.replace("\n", "\r\n")
    out = translate_document(crlf, translate=lambda u: u.replace("\r\n", "\n").upper())
    assert "\n" not in out.replace("\r\n", "")
    assert skeleton(out) == skeleton(crlf)


def test_fallback_when_the_model_drops_a_placeholder() -> None:
    def lossy(unit: str) -> str:
        return re.sub(r"⟦\d+⟧", "", unit).upper()

    out = translate_document("See [the docs](https://example.com/Docs) for `code`.\n", translate=lossy)
    assert out == "SEE [THE DOCS](https://example.com/Docs) FOR `code`.\n"


@pytest.mark.parametrize("text", [DOC, DOC.replace("\n", "\r\n")])
def test_markdown_it_sees_the_same_structure(text: str) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark").enable("table")

    def shape(doc: str) -> list[tuple[str, str, str]]:
        return [
            (t.type, t.markup, t.content if t.type in {"fence", "code_block", "html_block"} else "")
            for t in parser.parse(doc)
        ]

    assert shape(translate_document(text)) == shape(text)


def test_reassemble_requires_one_translation_per_segment() -> None:
    segments = [Segment("# ", False), Segment("Title", True), Segment("\n", False)]
    assert reassemble(segments, ["Titre"]) == "# Titre\n"
    with pytest.raises(ValueError, match="expected 1 translations"):
        reassemble(segments, [])
    with pytest.raises(ValueError, match="got 2"):
        reassemble(segments, ["a", "b"])


# --- protect / restore --------------------------------------------------------------------

UNIT = (
    'Read [the guide](https://example.com/guide?x=1 "Guide") and run `pip install x`, '
    "see https://docs.example.org/page. Mail help@example.org or <https://auto.link>; <b>bold</b>."
)


def test_protect_masks_and_restores() -> None:
    p = protect(UNIT)
    for hidden in ["https://", "`pip", "help@", "<b>", "</b>", "<https"]:
        assert hidden not in p.masked
    assert "[the guide]⟦1⟧" in p.masked  # link text stays translatable, target hidden
    assert p.masked.endswith("⟦6⟧bold⟦7⟧.")
    assert "https://docs.example.org/page." not in p.replacements  # trailing period is prose
    assert p.restore(p.masked) == UNIT
    translated = p.masked.replace("Read", "Lisez").replace("and run", "et lancez")
    assert p.restore(translated) == UNIT.replace("Read", "Lisez").replace("and run", "et lancez")


def test_restore_accepts_reordered_and_spaced_placeholders() -> None:
    p = Protected(masked="⟦1⟧ and ⟦2⟧", replacements=("A", "B"))
    assert p.restore("⟦ 2 ⟧ et ⟦1⟧") == "B et A"


@pytest.mark.parametrize(
    "output",
    [
        "Lisez le guide ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ ⟦6⟧gras⟦7⟧.",  # ⟦1⟧ dropped
        "⟦1⟧⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ ⟦6⟧⟦7⟧",  # duplicated
        "⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ ⟦6⟧⟦7⟧ ⟦8⟧",  # unknown
    ],
)
def test_restore_refuses_broken_placeholders(output: str) -> None:
    p = protect(UNIT)
    assert len(p.replacements) == 7
    assert p.restore(output) is None


def test_placeholder_shaped_source_text_is_itself_protected() -> None:
    p = protect("Use ⟦1⟧ in templates.")
    assert p.replacements == ("⟦1⟧",)
    assert p.restore("Utilisez ⟦1⟧ dans les modèles.") == "Utilisez ⟦1⟧ dans les modèles."
    assert protect("No placeholders here.").restore("Pas de ⟦1⟧.") is None
    jinja = protect("Write {{ name }} in the template.")
    assert jinja.replacements == () and jinja.restore("Écrivez {{ name }} dans le modèle.") is not None


def test_glossary_fixed_translation_and_kept_term() -> None:
    glossary = {"LangChain": "LangChain", "chain": "chaîne", "chain of thought": "chaîne de pensée"}
    p = protect("LangChain builds a chain; chain of thought is not a Chain or chains.", glossary)
    assert p.masked == "⟦1⟧ builds a ⟦2⟧; ⟦3⟧ is not a Chain or chains."
    assert p.restore("⟦1⟧ construit une ⟦2⟧ ; ⟦3⟧ n'est pas...") == (
        "LangChain construit une chaîne ; chaîne de pensée n'est pas..."
    )


def test_numbers_are_protected_only_on_request() -> None:
    text = "In 2024, 1,250.5 users (99.5%) ran v3 on 3 machines."
    assert protect(text).masked == text
    p = protect(text, numbers=True)
    assert p.replacements == ("2024", "1,250.5", "99.5%", "3")
    assert p.masked == "In ⟦1⟧, ⟦2⟧ users (⟦3⟧) ran v3 on ⟦4⟧ machines."
    assert numbers_in(p.restore(p.masked) or "") == numbers_in(text)


def test_numbers_in_compares_across_separators() -> None:
    assert numbers_in("1,250.5 and 7") == ["1", "250", "5", "7"]
    assert numbers_in("7 et 1 250,5") == numbers_in("1,250.5 and 7")
    assert numbers_in("no digits") == []


def test_protected_spans_fallback() -> None:
    spans = protected_spans("Use `pip` with LangChain 1.2, see https://x.org now.", {"LangChain": "LaChaîne"})
    assert spans == [
        Segment("Use", True),
        Segment(" `pip` ", False),
        Segment("with", True),
        Segment(" LaChaîne 1.2", False),
        Segment(", see", True),
        Segment(" https://x.org ", False),
        Segment("now.", True),
    ]
    assert all(s.translatable for s in protected_spans("Just prose."))
    assert not any(s.translatable for s in protected_spans("`a` - 42 ... https://x.org"))


def test_random_documents_round_trip_and_keep_their_skeleton() -> None:
    import random

    pieces = [
        "# H",
        "text line",
        "  indented",
        "    code",
        "\tTab",
        "- item",
        "> quote",
        "```",
        "~~~",
        "| a | b |",
    ]
    pieces += [
        "|---|---|",
        "",
        " ",
        "---",
        "<div>",
        "</div>",
        "1. x",
        "Setext",
        "===",
        "[x]: http://a",
        "* * *",
    ]
    pieces += ["- [ ] t", "<!--", "-->", "<b>x</b> y", "`code` z", "> ```", "  - n", "é ü 中文", "line\r"]
    rng = random.Random(0)
    for _ in range(500):
        eol = rng.choice(["\n", "\r\n"])
        text = eol.join(rng.choice(pieces) for _ in range(rng.randint(0, 12))) + rng.choice(["", eol])
        segments = split_markdown(text)
        assert "".join(s.text for s in segments) == text
        assert all(s.text and s.text == s.text.strip() for s in segments if s.translatable)
        out = reassemble(segments, [f"X{s.text.upper()}X" for s in segments if s.translatable])
        assert skeleton(out) == skeleton(text), text
