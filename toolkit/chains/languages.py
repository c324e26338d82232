"""Languages for translation: resolve what a user types, detect what a text is written in.

Both work offline: names and codes come from pycountry's ISO 639 data, detection from
langdetect's bundled profiles. Neither is imported until first use.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from toolkit.chains.markdown import protected_spans, split_markdown
from toolkit.errors import UnknownLanguageError

__all__ = ["Language", "detect_language", "resolve_language"]


@dataclass(frozen=True)
class Language:
    """A language, optionally narrowed by script or region.

    Attributes:
        code: ISO 639-1 code when the language has one, else ISO 639-3; with a script or
            region it is a BCP 47 tag such as "pt-BR" or "zh-Hans".
        name: English name, e.g. "French" or "Portuguese (Brazil)".
    """

    code: str
    name: str


# What people type that ISO 639 does not spell: endonyms of the most used languages, common
# English names pycountry qualifies ("Swahili (macrolanguage)"), and retired codes.
_ALIASES = {
    "français": "fr",
    "francais": "fr",
    "deutsch": "de",
    "español": "es",
    "espanol": "es",
    "castellano": "es",
    "italiano": "it",
    "português": "pt",
    "portugues": "pt",
    "nederlands": "nl",
    "русский": "ru",
    "polski": "pl",
    "türkçe": "tr",
    "turkce": "tr",
    "العربية": "ar",
    "हिन्दी": "hi",
    "हिंदी": "hi",
    "বাংলা": "bn",
    "日本語": "ja",
    "中文": "zh",
    "汉语": "zh",
    "漢語": "zh",
    "简体中文": "zh-Hans",
    "繁體中文": "zh-Hant",
    "한국어": "ko",
    "tiếng việt": "vi",
    "bahasa indonesia": "id",
    "svenska": "sv",
    "ελληνικά": "el",
    "українська": "uk",
    "čeština": "cs",
    "suomi": "fi",
    "עברית": "he",
    "ไทย": "th",
    "فارسی": "fa",
    "kiswahili": "sw",
    "greek": "el",
    "punjabi": "pa",
    "farsi": "fa",
    "mandarin": "zh",
    "cantonese": "yue",
    "simplified chinese": "zh-Hans",
    "traditional chinese": "zh-Hant",
    "brazilian portuguese": "pt-BR",
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
}
_NAME_FIXES = {"el": "Greek"}
_SCRIPTS = {"Hans": "Simplified", "Hant": "Traditional"}
_REGIONS = {"419": "Latin America"}
_LANGDETECT_CODES = {"zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}
_TAG = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|\d{3}))?")
_QUALIFIED = re.compile(r"(.+?)\s*\(([^()]+)\)")
_HINT = "Use a name like 'French' or an ISO 639-1 code like 'fr'"


def _make(record: Any) -> Language:
    code = getattr(record, "alpha_2", None) or record.alpha_3
    name = _NAME_FIXES.get(code) or re.sub(r"\s*\((?:macrolanguage|\d{4}-\d*)\)$", "", record.name)
    return Language(code=code, name=name)


@lru_cache(maxsize=1)
def _major() -> dict[str, Language]:
    """Casefolded names and codes of the languages that have an ISO 639-1 code."""
    import pycountry

    out: dict[str, Language] = {}
    for record in pycountry.languages:
        if hasattr(record, "alpha_2"):
            lang = _make(record)
            out[lang.name.casefold()] = lang
            out[lang.code] = lang
    return out


def _base(key: str) -> Language | None:
    """A language without script or region, from a casefolded code or English name."""
    import pycountry

    found = _major().get(key)
    if found is not None:
        return found
    if len(key) == 3 and key.isascii() and key.isalpha():
        record = pycountry.languages.get(alpha_3=key) or pycountry.languages.get(bibliographic=key)
        return _make(record) if record is not None else None
    if len(key) > 3:
        try:
            return _make(pycountry.languages.lookup(key))
        except LookupError:
            return None
    return None


def _script(value: str) -> tuple[str, str] | None:
    """(ISO 15924 code, display name) from a code ("Hant") or name ("Traditional", "Latin")."""
    import pycountry

    for code, name in _SCRIPTS.items():
        if value.casefold() in (code.casefold(), name.casefold()):
            return code, name
    try:
        record = pycountry.scripts.lookup(value)
    except LookupError:
        return None
    return record.alpha_4, record.name


def _region(value: str) -> tuple[str, str] | None:
    """(region code, display name) from an ISO 3166 code, a UN M49 code or a country name."""
    import pycountry

    for code, name in _REGIONS.items():
        if value.casefold() in (code, name.casefold()):
            return code, name
    try:
        record = pycountry.countries.lookup(value)
    except LookupError:
        return None
    return record.alpha_2, getattr(record, "common_name", None) or record.name


def _qualify(base: Language, qualifiers: list[tuple[str, str] | None]) -> Language | None:
    if "-" in base.code or any(q is None for q in qualifiers):
        return None
    known = [q for q in qualifiers if q is not None]
    return Language(
        code="-".join([base.code, *(code for code, _ in known)]),
        name=f"{base.name} ({', '.join(name for _, name in known)})",
    )


def _resolve(value: str) -> Language | None:
    key = value.strip().casefold()
    if not key:
        return None
    if key in _ALIASES:
        return _resolve(_ALIASES[key])
    found = _base(key)
    if found is not None:
        return found
    tag = _TAG.fullmatch(value.strip())
    if tag and (tag[2] or tag[3]):
        base = _base(tag[1].casefold())
        if base is None:
            return None
        script = _script(tag[2].title()) if tag[2] else None
        region = _region(tag[3].upper()) if tag[3] else None
        if (tag[2] and script is None) or (tag[3] and region is None):
            return None
        return _qualify(base, [q for q in (script, region) if q is not None])
    qualified = _QUALIFIED.fullmatch(value.strip())  # "Portuguese (Brazil)", "Chinese (Traditional)"
    if qualified:
        base = _resolve(qualified[1])
        parts = [p.strip() for p in qualified[2].split(",")]
        if base is not None:
            return _qualify(base, [_script(p) or _region(p) for p in parts])
    return None


def _suggestions(value: str) -> list[Language]:
    names: dict[str, Language] = dict(_major())
    for alias, target in _ALIASES.items():
        lang = _resolve(target)
        if lang is not None:
            names[alias] = lang
    close = difflib.get_close_matches(value.strip().casefold(), list(names), n=5, cutoff=0.6)
    out: list[Language] = []
    for match in close:
        if names[match] not in out:
            out.append(names[match])
    return out[:3]


def resolve_language(value: str) -> Language:
    """Resolve a language name, code or locale tag.

    Accepts ISO 639-1 ("fr", "FR"), ISO 639-2/3 ("fra", "fre"), English names in any case
    ("french"), locale tags ("pt-BR", "pt_br", "zh-Hans", "sr-Latn"), qualified names as this
    function returns them ("Portuguese (Brazil)") and the endonyms of the most used languages
    ("français", "deutsch", "日本語", "中文").

    Args:
        value: What the user typed.

    Returns:
        The language; its ``code`` is ISO 639-1 when one exists.

    Raises:
        UnknownLanguageError: Nothing matches; the message suggests close matches.
    """
    found = _resolve(value)
    if found is not None:
        return found
    tag = _TAG.fullmatch(value.strip())
    if tag and (tag[2] or tag[3]) and _base(tag[1].casefold()) is not None:
        raise UnknownLanguageError(
            f"unknown script or region in {value!r} - use a tag like 'pt-BR', 'es-419' or 'zh-Hant'"
        )
    close = _suggestions(value)
    if close:
        named = [f"{lang.name} ({lang.code})" for lang in close]
        guesses = " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 1 else named)
        raise UnknownLanguageError(f"unknown language {value!r} - did you mean {guesses}? {_HINT}")
    raise UnknownLanguageError(f"unknown language {value!r} - {_HINT[0].lower()}{_HINT[1:]}")


_MARKUP = re.compile(r"[*_~`#>|\[\]()!<>{}=+\\^]+")
_SAMPLE_CHARS = 4000


def _prose_sample(text: str) -> str:
    """Up to about 4000 characters of prose: no code, URLs, tags or Markdown punctuation."""
    pieces: list[str] = []
    size = 0
    for segment in split_markdown(text):
        if not segment.translatable:
            continue
        for span in protected_spans(segment.text):
            if span.translatable:
                piece = " ".join(_MARKUP.sub(" ", span.text).split())
                pieces.append(piece)
                size += len(piece) + 1
        if size >= _SAMPLE_CHARS:
            break
    sample = "\n".join(pieces)
    if len(sample) > _SAMPLE_CHARS:
        sample = sample[:_SAMPLE_CHARS].rsplit(None, 1)[0]
    return sample


def detect_language(text: str) -> Language | None:
    """Guess the language of a text (Markdown or plain), offline and deterministically.

    Code blocks, inline code, URLs and Markdown syntax are left out of the sample.

    Args:
        text: The text.

    Returns:
        The language, or None when there is too little prose (fewer than 20 letters), the
        detector is less than 70% sure, or it fails.
    """
    sample = _prose_sample(text)
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # langdetect samples at random: a fixed seed makes results repeatable
    try:
        ranked = detect_langs(sample)
    except LangDetectException:
        return None
    if not ranked or ranked[0].prob < 0.70:
        return None
    return _resolve(_LANGDETECT_CODES.get(ranked[0].lang, ranked[0].lang))
