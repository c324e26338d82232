"""Clean a small chat model's answer down to the translation itself.

Small chat models wrap a translation in chatter: a preamble ("Here is the translation:",
"Sure! ...", "Voici la traduction :"), a code fence or quotes, and notes, glosses or
word-by-word breakdowns after it. :func:`clean_translation` strips them, using the source
text to tell chatter from content (a source that itself starts with "Translation tips:" keeps
that line in its translation).
"""

from __future__ import annotations

import re

__all__ = ["clean_translation"]

_TRANSLATE_WORD = r"(?:translat|tradu[cz]|[uü]bersetz|t[lł]umacz|vertal|перев|翻[訳译])"
_LABEL = re.compile(rf"[^\n:]{{0,80}}?{_TRANSLATE_WORD}[^\n:]*:[ \t*_]*", re.I)
# A "Sure!" line counts when short or about the translation: "Sure, ..." can be the translation.
_SURE_WORD = r"\W*(?:sure|certainly|of course)\b"
_SURE = re.compile(rf"{_SURE_WORD}(?:\W*\w+){{0,2}}\W*|{_SURE_WORD}.*(?:here|{_TRANSLATE_WORD}).*", re.I)
_INTRO = re.compile(r"\W*(?:here(?:'s| is| are)|voici|aquí|hier ist|ecco)\b.*:\W*", re.I)
_SHORT_LABEL = re.compile(r"\W*[\w()-]+(?:[ \t]+[\w()-]+){0,3}\W*:\W*")
# Said after a translation. Keywords need their colon: "Notes are..." can be a translated line.
_POSTAMBLE = re.compile(
    r"\W*(?:(?:notes?|explanations?|breakdown|literal(?:ly| translation)|remarque|anmerkung|nota)\s*:"
    r"|\(\s*notes?\b|word[- ]by[- ]word|literal translation|breakdown of|i hope this|hope this helps"
    r"|let me know|(?:in )?this translation\b|alternative translations?\b|translation notes?\b)"
    r"|[ \t]*(?:[-*•]|\d+[.)])[ \t]+\S[^\n=:→]*?[ \t]*(?:=|:|→|->|–|-)[ \t]+\S",  # "- love = aime"
    re.I,
)
_TRAILING_NOTE = re.compile(
    r"\s*\((?:notes?|literally|lit\.|translation|translated|i\.e\.)\b[^()]*\)\s*$", re.I
)
_QUOTES = {'"': '"', "“": "”", "«": "»", "„": "“", "'": "'", "‘": "’", "「": "」", "『": "』"}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


def _strip_preamble(text: str, source_first: str) -> str:
    """Drop up to three leading chatter lines or an inline ``Translation:`` label.

    Args:
        text: The stripped answer, LF line ends.
        source_first: The source's first line; a preamble shape it shares is kept.

    Returns:
        The answer without its preamble, stripped.
    """
    for _ in range(3):  # e.g. "Sure!" then "Here is the translation:"
        lines = text.split("\n")
        first = lines[0].strip()
        label = _LABEL.match(first)
        if label and not _LABEL.match(source_first):
            rest = first[label.end() :].strip()
            lines[0:1] = [rest] if rest else []
        elif len(lines) > 1 and (
            (_SURE.fullmatch(first) and not re.match(_SURE_WORD, source_first, re.I))
            or (_INTRO.fullmatch(first) and not _INTRO.fullmatch(source_first))
            or (_SHORT_LABEL.fullmatch(first) and not source_first.rstrip().endswith(":"))
        ):
            del lines[0]
        else:
            break
        text = "\n".join(lines).strip()
    return text


def _unwrap(text: str, source: str) -> str:
    """Remove a code fence or a pair of quotes around ``text`` that ``source`` did not have.

    Args:
        text: The (partly) cleaned answer.
        source: The stripped source text.

    Returns:
        The unwrapped text, or ``text`` unchanged.
    """
    if text.startswith("```") and "```" not in source:
        body = text.split("\n", 1)[1] if "\n" in text else ""
        text = body.split("```", 1)[0].strip() or text
    close = _QUOTES.get(text[:1])
    if close and len(text) > 2 and text.endswith(close) and source[:1] not in _QUOTES:
        inner = text[1:-1]
        if close == "'" or (text[0] not in inner and close not in inner):
            text = inner.strip()
    return text


def clean_translation(output: str, source: str) -> str:
    """Return only the translation from a chat model's answer.

    Removes a leading preamble ("Here is the translation:", "Sure! ...", "Voici la traduction :"),
    a wrapping code fence or quotes the source did not have, and what follows the translation
    (notes, explanations, word-by-word breakdowns, ``word = word`` glosses). The source bounds
    the answer: a single-line source keeps one line; otherwise as many blank-line separated
    paragraphs as the source has. The result is stripped: the caller keeps the source's
    surrounding whitespace (translatable segments have none).

    Args:
        output: The model's answer.
        source: The text that was sent to be translated.

    Returns:
        The translation; the stripped ``output`` if cleaning would leave nothing.
    """
    raw = output.replace("\r\n", "\n").strip()
    if not raw:
        return ""
    src = source.replace("\r\n", "\n").strip()
    text = _unwrap(_strip_preamble(raw, src.split("\n", 1)[0]), src)
    if "\n" not in src:
        text = next((ln.strip() for ln in text.split("\n") if ln.strip()), "")
    else:
        count = len(_PARAGRAPH_BREAK.split(src))
        breaks = list(_PARAGRAPH_BREAK.finditer(text))
        if len(breaks) >= count:
            text = text[: breaks[count - 1].start()]
    if not any(_POSTAMBLE.match(ln) for ln in src.split("\n")):
        lines = text.split("\n")
        cut = next((k for k in range(1, len(lines)) if _POSTAMBLE.match(lines[k])), len(lines))
        text = "\n".join(lines[:cut])
    if "(" not in src:
        text = _TRAILING_NOTE.sub("", text)
    text = _unwrap(text.strip(), src)
    return text.strip() or raw
