"""Language resolution (pycountry) and detection (langdetect), offline."""

from __future__ import annotations

import pytest

from toolkit.chains.languages import Language, detect_language, resolve_language
from toolkit.errors import UnknownLanguageError, UnsupportedInputError

FRENCH = Language("fr", "French")


@pytest.mark.parametrize(
    "value", ["fr", "FR", " fr ", "fra", "fre", "french", "French", "FRENCH", "français", "Francais"]
)
def test_french_spellings(value: str) -> None:
    assert resolve_language(value) == FRENCH


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("de", Language("de", "German")),
        ("deutsch", Language("de", "German")),
        ("español", Language("es", "Spanish")),
        ("spa", Language("es", "Spanish")),
        ("日本語", Language("ja", "Japanese")),
        ("中文", Language("zh", "Chinese")),
        ("Русский", Language("ru", "Russian")),
        ("greek", Language("el", "Greek")),  # pycountry says "Modern Greek (1453-)"
        ("Swahili", Language("sw", "Swahili")),  # pycountry says "Swahili (macrolanguage)"
        ("yue", Language("yue", "Yue Chinese")),  # no ISO 639-1 code: 639-3
        ("iw", Language("he", "Hebrew")),  # retired code
    ],
)
def test_names_codes_and_endonyms(value: str, expected: Language) -> None:
    assert resolve_language(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pt-BR", Language("pt-BR", "Portuguese (Brazil)")),
        ("pt_br", Language("pt-BR", "Portuguese (Brazil)")),
        ("en-us", Language("en-US", "English (United States)")),
        ("zh-Hans", Language("zh-Hans", "Chinese (Simplified)")),
        ("zh-hant", Language("zh-Hant", "Chinese (Traditional)")),
        ("zh-Hant-TW", Language("zh-Hant-TW", "Chinese (Traditional, Taiwan)")),
        ("sr-Latn", Language("sr-Latn", "Serbian (Latin)")),
        ("es-419", Language("es-419", "Spanish (Latin America)")),
        ("简体中文", Language("zh-Hans", "Chinese (Simplified)")),
    ],
)
def test_locale_tags(value: str, expected: Language) -> None:
    assert resolve_language(value) == expected


@pytest.mark.parametrize("value", ["pt-BR", "zh-Hant-TW", "sr-Latn", "fr", "el", "sw"])
def test_a_resolved_name_resolves_back(value: str) -> None:
    lang = resolve_language(value)
    assert resolve_language(lang.name) == lang


def test_unknown_language_suggests_close_matches() -> None:
    with pytest.raises(
        UnknownLanguageError, match=r"unknown language 'frnch' - did you mean French \(fr\)\?"
    ):
        resolve_language("frnch")
    with pytest.raises(UnknownLanguageError, match=r"did you mean German \(de\)"):
        resolve_language("Germn")


@pytest.mark.parametrize("value", ["", "   ", "xx", "not a language at all"])
def test_unknown_or_empty_raises_with_a_hint(value: str) -> None:
    with pytest.raises(
        UnknownLanguageError, match=r"unknown language .*use a name like 'French' or an ISO 639-1"
    ):
        resolve_language(value)


def test_unknown_region_names_the_problem() -> None:
    with pytest.raises(UnknownLanguageError, match=r"unknown script or region in 'pt-XX'"):
        resolve_language("pt-XX")


def test_unknown_language_error_is_an_unsupported_input_error() -> None:
    with pytest.raises(UnsupportedInputError):
        resolve_language("frnch")


SAMPLES = {
    "en": "The committee met on Tuesday to discuss the new budget. Most members agreed that the "
    "library needs longer opening hours and more books for children.",
    "fr": "Le comité s'est réuni mardi pour discuter du nouveau budget. La plupart des membres ont "
    "convenu que la bibliothèque a besoin d'horaires plus longs et de plus de livres pour les enfants.",
    "de": "Der Ausschuss traf sich am Dienstag, um den neuen Haushalt zu besprechen. Die meisten "
    "Mitglieder waren sich einig, dass die Bibliothek längere Öffnungszeiten und mehr Kinderbücher braucht.",
    "es": "El comité se reunió el martes para discutir el nuevo presupuesto. La mayoría de los miembros "
    "estuvo de acuerdo en que la biblioteca necesita horarios más largos y más libros para niños.",
}


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_detects_sample_paragraphs(code: str) -> None:
    detected = detect_language(SAMPLES[code])
    assert detected is not None
    assert detected.code == code


def test_detection_ignores_code_urls_and_markup() -> None:
    doc = (
        "# Guide\n\n```python\n"
        + "def the_function_with_english_words(and_more_english_words): return 'the house is big'\n" * 20
        + "```\n\n"
        + "Voir https://example.com/the-english-page-with-many-words et `the_english_identifier`.\n\n"
        + SAMPLES["fr"]
        + "\n"
    )
    detected = detect_language(doc)
    assert detected is not None and detected.code == "fr"


def test_detection_is_deterministic() -> None:
    text = "Hola amigo, ¿cómo estás? Muy bien, gracias por preguntar."
    assert len({detect_language(text) for _ in range(5)}) == 1


@pytest.mark.parametrize(
    "text",
    ["ok", "12345", "", "```python\nprint('this is only code, with many english words inside it')\n```\n"],
)
def test_too_little_prose_gives_none(text: str) -> None:
    assert detect_language(text) is None


def test_chinese_maps_langdetect_codes() -> None:
    detected = detect_language(
        "这是一个用于测试语言检测的中文句子，我们希望它能够被正确识别出来。今天天气很好。"
    )
    assert detected == Language("zh-Hans", "Chinese (Simplified)")


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = (
        "import sys, toolkit.chains.languages, toolkit.chains.markdown;"
        "print(any(m in sys.modules for m in ('pycountry', 'langdetect')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
