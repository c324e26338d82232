"""Patterns and grammars for grounded values written as text: the calculator's expression,
a search query of the request's words, a folder named in the request, and a text answer whose
numbers are the request's or the tool results' (see :mod:`toolkit.backends.grounding`)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from toolkit.text.candidates import Candidate, Candidates

__all__ = [
    "MAX_ENUM",
    "MAX_QUERY_WORDS",
    "expression_pattern",
    "folder_names",
    "grounded_text_gbnf",
    "number_forms",
    "words_pattern",
]

MAX_ENUM = 48
"""Most values one grounded parameter offers (the first found, the request's first)."""


def number_forms(found: Sequence[Candidate], *, percent_as_fraction: bool) -> list[str]:
    """The ways the numbers may be written: as in the request, and plain (``2,340``, ``2340``).

    With ``percent_as_fraction``, "17%" is offered as ``17%`` or ``0.17``, never a bare 17.
    """
    forms: list[str] = []
    for c in found:
        plain = str(round(c.value / 100, 12)) if percent_as_fraction and c.role == "percent" else str(c.value)
        for form in (c.text.strip(), plain):
            if form and re.fullmatch(r"[\d., %]+", form) and form not in forms:
                forms.append(form)
    return forms


def expression_pattern(found: Sequence[Candidate]) -> str | None:
    """A regex for arithmetic over the request's numbers, or None if it has none.

    Terms are the request's numbers (as written, plain; a percentage as written or as a fraction),
    ``pi`` and ``e``, each behind any openers (``sqrt(``, ``(``, a minus) and before any
    ``)``; an operator (``+ - * / // % ** ^ ,`` or ``of``) must stand between two terms, so
    two numbers can never run together into one the request does not hold. There are as many
    terms as the request has numbers, and at least two when it has two: "17% of 2,340" cannot
    stop at ``17%``, nor "3 to the power of 7" grow into ``3^7*3^7``.
    """
    numbers = number_forms(found, percent_as_fraction=True)
    if not numbers:
        return None
    count = len({c.value for c in found})
    # Longest first, so a grammar never stops inside a longer number. "." is written "[.]":
    # llama.cpp's grammar parser knows no "\." escape inside a literal.
    atoms = [n.replace(".", "[.]") for n in sorted(numbers, key=len, reverse=True)[: MAX_ENUM * 2]]
    term = f"({'|'.join(_FN_OPENERS)}|\\( ?|- ?)*({'|'.join([*atoms, 'pi', 'e'])})( ?\\))*"
    op = " ?(\\*\\*|//|[-+*/%^,]|of) ?"
    if count < 2:
        return f"^ ?{term} ?$"
    return f"^ ?{term}({op}{term}){{1,{count - 1}}} ?$"


_FN_OPENERS = tuple(
    f"{name} ?\\( ?" for name in ("sqrt", "log10", "log", "exp", "sin", "cos", "tan", "abs", "round")
)


def grounded_text_gbnf(found: Candidates) -> str | None:
    """A grammar for a text answer whose numbers are all numbers of the request or the tool
    results (as written or plain), or None when they hold none.

    A small model answering from a tool result copies its number wrong ("397.8" became
    "39.78"); under this grammar a digit can only start one of the numbers it was given.
    Like any text answer, the first character cannot open a call.
    """
    forms = [f for f in number_forms(found.numbers, percent_as_fraction=False) if " " not in f]
    if not forms:
        return None
    numbers = " | ".join(f'"{f}"' for f in sorted(forms, key=len, reverse=True)[: MAX_ENUM * 2])
    # Braces never: an answer from a tool result has no JSON to write (a small model copies calls).
    return f"root ::= ([^{{[ \\t\\n0-9] | num) ([^{{}}0-9] | num)*\nnum ::= {numbers}\n"


_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
MAX_QUERY_WORDS = 8
"""Most words of a grounded free-text value (a search query)."""


def _words(ngrams: Sequence[Candidate]) -> list[str]:
    """The words of the request's n-grams, as written and in lower case, in order."""
    words: list[str] = []
    for c in ngrams:
        for word in c.value.split(" "):
            for form in (word, word.lower()):
                if _WORD.fullmatch(form) and form not in words:
                    words.append(form)
    return words[: MAX_ENUM * 2]


_FOLDER_WORDS = frozenset({"folder", "folders", "directory", "dir", "subfolder", "subdirectory"})


def folder_names(ngrams: Sequence[Candidate]) -> list[str]:
    """Words the request writes next to "folder" or "directory" ("the reports folder")."""
    names: list[str] = []
    for c in ngrams:
        pair = c.value.split(" ")
        if len(pair) == 3 and pair[0].lower() in _FOLDER_WORDS and pair[1].lower() in ("named", "called"):
            pair = [pair[0], pair[2]]  # "the folder named invoices"
        elif pair[-1].lower() in ("named", "called"):
            continue
        if len(pair) == 2 and (pair[0].lower() in _FOLDER_WORDS) != (pair[1].lower() in _FOLDER_WORDS):
            name = pair[1] if pair[0].lower() in _FOLDER_WORDS else pair[0]
            if _WORD.fullmatch(name) and name.lower() not in _NOT_NAMES and name not in names:
                names.append(name)
    return names


_NOT_NAMES = frozenset(
    {"the", "a", "an", "this", "that", "my", "your", "our", "in", "inside", "of", "which", "what"}
)


def words_pattern(ngrams: Sequence[Candidate]) -> str | None:
    """A regex for a short text of the request's own words (a search query), or None if it has none.

    A small model asked for a query copies the worked example's ("project deadline"); under
    this pattern every word of the query is a word of the request or recent turns.
    """
    words = sorted(_words(ngrams), key=len, reverse=True)
    if not words:
        return None
    word = f"({'|'.join(words)})"
    return f"^{word}( {word}){{0,{MAX_QUERY_WORDS - 1}}}$"
