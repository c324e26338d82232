"""clean_translation: strip the chatter small chat models add around a translation (offline)."""

from __future__ import annotations

import pytest

from toolkit.chains.cleaning import clean_translation

SRC = "I love programming."


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (
            "J'adore programmer.\n\nBreakdown:\n- I = Je\n- love = aime\n- programming = la programmation",
            "J'adore programmer.",
        ),
        ("Here is the translation of the text into French:\n\nJ'adore programmer.", "J'adore programmer."),
        ('"J\'adore programmer."', "J'adore programmer."),
        ("« J'adore programmer. »", "J'adore programmer."),
        (
            "Sure! Here's the French translation of \"I love programming\":\n\nJ'adore programmer.",
            "J'adore programmer.",
        ),
        ("Sure!\nJ'adore programmer.", "J'adore programmer."),
        ("Translation: J'adore programmer.", "J'adore programmer."),
        ("**Translation:**\nJ'adore programmer.", "J'adore programmer."),
        ("Voici la traduction :\n\nJ'adore programmer.", "J'adore programmer."),
        ("Hier ist die Übersetzung:\nIch liebe das Programmieren.", "Ich liebe das Programmieren."),
        ("Français :\nJ'adore programmer.", "J'adore programmer."),
        ("```\nJ'adore programmer.\n```", "J'adore programmer."),
        ("J'adore programmer. (Note: literally 'I adore to program')", "J'adore programmer."),
        ("J'adore programmer.\nI hope this helps!", "J'adore programmer."),
        ('J\'adore programmer.\n\nNote: "programmer" is the infinitive.', "J'adore programmer."),
        ("  J'adore programmer.  \n", "J'adore programmer."),
        ('J\'adore programmer.\n\nIn French, "adorer" is stronger than "aimer".', "J'adore programmer."),
        ('J\'adore programmer.\nIn French, "adorer" is stronger than "aimer".', "J'adore programmer."),
    ],
)
def test_clean_translation_small_model_outputs(output: str, expected: str) -> None:
    assert clean_translation(output, SRC) == expected


def test_clean_translation_keeps_as_many_paragraphs_as_the_source() -> None:
    source = "First paragraph here.\n\nSecond one.\n\nThird."
    output = (
        "Premier paragraphe.\n\nDeuxième.\n\nTroisième.\n\nNote: I kept the tone.\n\nLiteral translation: ..."
    )
    assert clean_translation(output, source) == "Premier paragraphe.\n\nDeuxième.\n\nTroisième."


def test_clean_translation_cuts_notes_inside_a_soft_wrapped_paragraph() -> None:
    source = "Line one of a paragraph\nline two of it."
    assert clean_translation("Ligne un\nligne deux.\nExplanation: ...", source) == "Ligne un\nligne deux."
    assert (
        clean_translation("Ligne un\nligne deux.\n- paragraph = paragraphe", source)
        == "Ligne un\nligne deux."
    )


def test_clean_translation_leaves_real_content_alone() -> None:
    assert clean_translation(
        "Conseils de traduction :\nutilisez le contexte.", "Translation tips:\nuse context."
    ) == ("Conseils de traduction :\nutilisez le contexte.")
    assert clean_translation('"Source citée."', '"Quoted source."') == '"Source citée."'
    assert clean_translation("Il a dit « salut ».", 'He said "hi".') == "Il a dit « salut »."
    assert clean_translation("Bien sûr, c'est vrai.\nEnsuite.", "Of course it is true.\nThen.") == (
        "Bien sûr, c'est vrai.\nEnsuite."
    )
    assert clean_translation("Field\nnotes are useful.", "Les notes de\nterrain sont utiles.") == (
        "Field\nnotes are useful."
    )
    assert clean_translation("Alternatively, we can\nwait.", "Sinon, on peut\nattendre.") == (
        "Alternatively, we can\nwait."
    )


def test_clean_translation_never_empties_a_non_empty_answer() -> None:
    assert clean_translation("Here is the translation:", SRC) == "Here is the translation:"
    assert clean_translation('""', SRC) == '""'
    assert clean_translation("  \n ", SRC) == ""
