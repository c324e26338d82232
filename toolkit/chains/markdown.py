"""Markdown-aware plumbing for translation: split, protect and reassemble.

A document is cut into a flat list of :class:`Segment` whose concatenation is the input,
byte for byte. Only prose is ``translatable``; the skeleton (markers, indentation, table
pipes, blank lines), code blocks, front matter and HTML blocks never reach the model.
Inside one prose unit, :func:`protect` masks what must survive verbatim (URLs, inline code,
link targets, tags, glossary terms, numbers) behind placeholders and checks they come back.
Cleaning the model's answer lives in :mod:`toolkit.chains.cleaning`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "Protected",
    "Segment",
    "numbers_in",
    "protect",
    "protected_spans",
    "reassemble",
    "split_markdown",
]


@dataclass(frozen=True)
class Segment:
    """A slice of a document.

    Attributes:
        text: The exact slice.
        translatable: Whether it is prose to send to the model (never surrounding whitespace).
    """

    text: str
    translatable: bool


# --- splitting ---------------------------------------------------------------------------

_FRONT_OPEN = re.compile(r"---[ \t]*")
_FRONT_CLOSE = re.compile(r"(?:---|\.\.\.)[ \t]*")
_BLOCKQUOTE = re.compile(r"(?:[ \t]{0,3}>[ \t]?)+")
_FENCE = re.compile(r"[ \t]*(`{3,}|~{3,})(.*)")
_HR = re.compile(r"[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_SETEXT = re.compile(r"[ \t]{0,3}(?:=+|-+)[ \t]*")
_ATX = re.compile(r"([ \t]{0,3}#{1,6}(?:[ \t]+|$))(.*?)((?:[ \t]+#+)?[ \t]*)")
_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+(?:\[[ xX]\](?:[ \t]+|$))?|$)")
_TABLE_DELIMITER = re.compile(
    r"[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?[ \t]*)?|[ \t]*\|?[ \t]*:?-+:?[ \t]*\|[ \t]*"
)
_PIPE = re.compile(r"((?<!\\)\|)")
_LINK_DEFINITION = re.compile(r"[ \t]{0,3}\[(?!\^)[^\]]+\]:[ \t]*\S.*")
_HTML_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|"
    "fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|hr|html|iframe|legend|li|"
    "link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|"
    "table|tbody|td|tfoot|th|thead|title|tr|track|ul"
)
# CommonMark HTML block kinds: (start, end); end None = the block ends at a blank line.
_HTML_BLOCKS: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = [
    (
        re.compile(r"<(?:script|pre|style|textarea)(?:[\s>]|$)", re.I),
        re.compile(r"</(?:script|pre|style|textarea)>", re.I),
    ),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"</?(?:{_HTML_BLOCK_TAGS})(?:[\s/>]|$)", re.I), None),
]
_HTML_LONE_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s+[^<>]*)?/?>\s*$")


def _has_prose(text: str) -> bool:
    """Whether ``text`` holds letters once code, URLs, tags and other protected spans are removed."""
    return any(ch.isalpha() for ch in _protect_pattern(None, numbers=False).sub("", text))


class _Builder:
    """Accumulates segments; adjacent non-translatable pieces are merged."""

    def __init__(self) -> None:
        self.parts: list[tuple[str, bool]] = []
        self.open: int | None = None  # index of a paragraph segment the next line may continue

    def fixed(self, text: str) -> None:
        if not text:
            return
        if self.parts and not self.parts[-1][1]:
            self.parts[-1] = (self.parts[-1][0] + text, False)
        else:
            self.parts.append((text, False))

    def block(self, text: str) -> None:
        self.open = None
        self.fixed(text)

    def prose(self, text: str, *, joinable: bool) -> None:
        core = text.strip()
        if not core or not _has_prose(core):
            self.block(text)
            return
        start = len(text) - len(text.lstrip())
        self.fixed(text[:start])
        self.parts.append((core, True))
        self.open = len(self.parts) - 1 if joinable else None
        self.fixed(text[start + len(core) :])

    def extend(self, text: str) -> None:
        """Append a continuation line (without its line end) to the open paragraph."""
        assert self.open is not None
        core = text.rstrip()
        merged = "".join(part for part, _ in self.parts[self.open :]) + core
        del self.parts[self.open :]
        self.parts.append((merged, True))
        self.open = len(self.parts) - 1
        self.fixed(text[len(core) :])


def _lines(text: str) -> list[tuple[str, str]]:
    """(content, line end) pairs; the line end is "\\r\\n", "\\n" or "" (last line)."""
    return [(m[1], m[2]) for m in re.finditer(r"([^\n]*?)(\r?\n|\Z)", text) if m[0]]


def _indent(line: str) -> int:
    """Leading indentation in columns, tabs to multiples of 4."""
    expanded = line.expandtabs(4)
    return len(expanded) - len(expanded.lstrip(" "))


def _table_row(b: _Builder, row: str) -> None:
    b.open = None
    if _TABLE_DELIMITER.fullmatch(row):
        b.fixed(row)
        return
    for part in _PIPE.split(row):
        if part == "|":
            b.fixed(part)
        else:
            b.prose(part, joinable=False)


class _MarkdownSplitter:
    """Reads a document line by line, sending each piece to a :class:`_Builder`."""

    def __init__(self) -> None:
        self.b = _Builder()
        self.fence: tuple[str, int] | None = None  # (fence character, length) of an open code fence
        self.html_end: re.Pattern[str] | None = None
        self.in_html = self.in_list = self.para = self.table = False

    def front_matter(self, lines: Sequence[tuple[str, str]]) -> int:
        """Keep a leading ``---`` front matter block; return the index of the first line after it."""
        if lines and _FRONT_OPEN.fullmatch(lines[0][0]):
            end = next((j for j in range(1, len(lines)) if _FRONT_CLOSE.fullmatch(lines[j][0])), None)
            if end is not None:
                self.b.block("".join(c + e for c, e in lines[: end + 1]))
                return end + 1
        return 0

    def feed(self, line: str, eol: str, following: str | None) -> None:
        """One line (without its line end ``eol``); ``following`` is the next line, if any."""
        bq = _BLOCKQUOTE.match(line)
        prefix = line[: bq.end()] if bq else ""
        rest = line[len(prefix) :]
        quoted = bq is not None
        if self._inside_block(line, eol, rest):
            return
        if not line.strip():
            self.b.block(line + eol)
            self.para = self.table = False
            return
        indent = _indent(line)
        if indent >= 4 and not self.para and not self.in_list:  # indented code block
            self.b.block(line + eol)
            return
        if self.in_list and not self.para and indent < 2 and not quoted and not _ITEM.match(line):
            self.in_list = False
        if self._own_block(line, eol, rest, indent, quoted) or self._table(eol, prefix, rest, following):
            self.para = False
            return
        self._text(line, eol, prefix, rest, quoted)

    def _inside_block(self, line: str, eol: str, rest: str) -> bool:
        """Lines inside an open code fence or HTML block (kept as they are)."""
        if self.fence is not None:
            self.b.block(line + eol)
            close = _FENCE.fullmatch(rest)
            if (
                close
                and close[1][0] == self.fence[0]
                and len(close[1]) >= self.fence[1]
                and not close[2].strip()
            ):
                self.fence = None
            return True
        if self.in_html:
            self.in_html = bool(line.strip()) if self.html_end is None else not self.html_end.search(line)
            self.b.block(line + eol)
            return True
        return False

    def _html_start(self, rest: str) -> tuple[re.Pattern[str], re.Pattern[str] | None] | None:
        html = next(((start, end) for start, end in _HTML_BLOCKS if start.match(rest.lstrip())), None)
        if html is None and not self.para and _HTML_LONE_TAG.match(rest.lstrip()):
            html = (_HTML_LONE_TAG, None)
        return html

    def _own_block(self, line: str, eol: str, rest: str, indent: int, quoted: bool) -> bool:
        """A line kept whole: a fence opening, an HTML block start, a setext underline, a rule
        or a link definition."""
        opened = _FENCE.fullmatch(rest)
        if opened and not (opened[1][0] == "`" and "`" in opened[2]):
            self.fence = (opened[1][0], len(opened[1]))
        elif (html := self._html_start(rest)) is not None and indent < 4:
            self.html_end = html[1]
            self.in_html = self.html_end is None or not self.html_end.search(line)
        elif not (
            (self.para and not quoted and _SETEXT.fullmatch(line))
            or _HR.fullmatch(rest)
            or (not quoted and _LINK_DEFINITION.fullmatch(line))
        ):
            return False
        self.b.block(line + eol)
        return True

    def _table(self, eol: str, prefix: str, rest: str, following: str | None) -> bool:
        """A table row: a row after a table row, or one followed by the delimiter row."""
        starts = following is not None and _TABLE_DELIMITER.fullmatch(following[len(prefix) :])
        if "|" not in rest or not (self.table or starts):
            self.table = False
            return False
        self.table = True
        self.b.fixed(prefix)
        _table_row(self.b, rest)
        self.b.fixed(eol)
        return True

    def _text(self, line: str, eol: str, prefix: str, rest: str, quoted: bool) -> None:
        """A heading, a list item, or a paragraph line (which may continue the paragraph)."""
        heading = _ATX.fullmatch(rest)
        if heading:
            self.b.block(prefix + heading[1])
            self.b.prose(heading[2], joinable=False)
            self.b.block(heading[3] + eol)
            self.para = False
            return
        item = _ITEM.match(rest)
        if item:
            self.in_list = True
            self.b.block(prefix + item.group())
            self.b.prose(rest[item.end() :], joinable=not quoted)
        elif self.para and not quoted and self.b.open is not None:
            self.b.extend(line)
        else:
            self.b.block(prefix)
            self.b.prose(rest, joinable=not quoted)
        self.b.fixed(eol)
        self.para = True


def split_markdown(text: str) -> list[Segment]:
    """Split Markdown (or plain text) into prose to translate and a skeleton to keep.

    ``"".join(s.text for s in split_markdown(text)) == text`` always holds (CRLF, tabs and a
    missing final newline included). Translatable segments never start or end with
    whitespace. A paragraph (or list item with its continuation lines) is one segment;
    each blockquote line, heading text and table cell is its own.

    Args:
        text: The document.

    Returns:
        The segments, in order; adjacent non-translatable pieces are merged.
    """
    splitter = _MarkdownSplitter()
    lines = _lines(text)
    for i in range(splitter.front_matter(lines), len(lines)):
        line, eol = lines[i]
        splitter.feed(line, eol, lines[i + 1][0] if i + 1 < len(lines) else None)
    return [Segment(t, tr) for t, tr in splitter.b.parts]


def reassemble(segments: Sequence[Segment], translations: Sequence[str]) -> str:
    """Put ``translations`` in place of the translatable segments, in order.

    A translation of a segment that used CRLF line ends gets CRLF line ends too.

    Args:
        segments: The output of :func:`split_markdown`.
        translations: One text per translatable segment.

    Raises:
        ValueError: The number of translations differs from the number of translatable segments.
    """
    expected = sum(1 for s in segments if s.translatable)
    if len(translations) != expected:
        raise ValueError(
            f"expected {expected} translations (one per translatable segment), got {len(translations)}"
        )
    out: list[str] = []
    it = iter(translations)
    for seg in segments:
        if not seg.translatable:
            out.append(seg.text)
            continue
        new = next(it)
        out.append(re.sub(r"\r?\n", "\r\n", new) if "\r\n" in seg.text else new)
    return "".join(out)


# --- protecting --------------------------------------------------------------------------

# Placeholder: ⟦1⟧, ⟦2⟧, ... The brackets (U+27E6/U+27E7) never occur in prose or Markdown, mean
# nothing to f-string, Jinja or Mustache templates, and do not collide with the "{{ x }}" of Jinja,
# Helm or GitHub Actions that technical documents quote; a digit inside reads as a token to copy.
# Tried on the embedded SmolLM2-135M, ⟦n⟧, {{n}}, {n} and <xn/> all survived equally rarely (it can
# barely translate), so restore() checks and protected_spans() is the fallback.
_PLACEHOLDER = re.compile(r"⟦\s*(\d+)\s*⟧")

_PROTECTED = (
    r"(?P<tick>`+)(?!`)[\s\S]*?(?<!`)(?P=tick)(?!`)"  # inline code
    r"|<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>"  # autolink
    r"|<!--(?:(?!<!--)[\s\S])*?-->|</?[A-Za-z][A-Za-z0-9-]*(?:\s+[^<>]*)?/?>"  # HTML comment, tag
    r"|(?<=\])\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^()]*\)))?\s*\)"  # ](target)
    r"|(?<=\])\[[^\[\]]+\]|\[\^[^\]\s]+\]"  # reference label, footnote
    r"|(?:(?:https?|ftp)://|www\.)(?:[^\s<>\"'`()\[\]]|\([^\s<>\"'`()]*\))*"
    r"(?:[^\s<>\"'`()\[\].,;:!?*_]|\([^\s<>\"'`()]*\))"  # URL, trailing punctuation left out
    r"|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"  # email
    r"|&(?:[A-Za-z][A-Za-z0-9]{1,31}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});"  # HTML entity
    r"|⟦\s*\d+\s*⟧"  # placeholder-shaped text already in the source
)
_NUMBER = r"(?<!\w)\d+(?:[.,]\d+)*%?"
_CACHE: dict[tuple[tuple[str, ...], bool], re.Pattern[str]] = {}


def _protect_pattern(terms: Sequence[str] | None, *, numbers: bool) -> re.Pattern[str]:
    key = (tuple(sorted(terms or (), key=lambda t: (-len(t), t))), numbers)
    pattern = _CACHE.get(key)
    if pattern is None:
        parts = [_PROTECTED]
        if key[0]:
            parts.append(rf"(?<!\w)(?P<term>{'|'.join(map(re.escape, key[0]))})(?!\w)")
        if numbers:
            parts.append(_NUMBER)
        pattern = _CACHE[key] = re.compile("|".join(parts))
    return pattern


@dataclass(frozen=True)
class Protected:
    """A unit with its protected spans replaced by ``⟦n⟧`` placeholders.

    Attributes:
        masked: The text to send to the model.
        replacements: What placeholder ``⟦n⟧`` stands for, at index ``n - 1``.
    """

    masked: str
    replacements: tuple[str, ...] = ()

    def restore(self, translated: str) -> str | None:
        """Replace the placeholders in the model's output by what they stand for.

        Returns:
            The restored text, or None if a placeholder is missing, repeated or unknown.
        """
        found = sorted(int(n) for n in _PLACEHOLDER.findall(translated))
        if found != list(range(1, len(self.replacements) + 1)):
            return None
        return _PLACEHOLDER.sub(lambda m: self.replacements[int(m[1]) - 1], translated)


def protect(text: str, glossary: Mapping[str, str] | None = None, *, numbers: bool = False) -> Protected:
    """Mask what must not be translated in one prose unit.

    Masks inline code, autolinks, HTML tags and comments, link and image targets (the link text
    stays translatable), reference labels, URLs, emails, HTML entities, glossary terms
    (whole word, case-sensitive, longest first) and, with ``numbers``, numbers.

    Args:
        text: One translatable unit.
        glossary: Term -> translation; map a term to itself to keep it untranslated.
        numbers: Also mask numbers (decimals, thousands separators, percentages).

    Returns:
        The masked text; its ``restore`` puts glossary targets back for glossary placeholders.
    """
    glossary = {k: v for k, v in (glossary or {}).items() if k}
    replacements: list[str] = []

    def mask(m: re.Match[str]) -> str:
        term = m.groupdict().get("term")
        replacements.append(glossary[term] if term else m.group())
        return f"⟦{len(replacements)}⟧"

    masked = _protect_pattern(list(glossary), numbers=numbers).sub(mask, text)
    return Protected(masked=masked, replacements=tuple(replacements))


def protected_spans(text: str, glossary: Mapping[str, str] | None = None) -> list[Segment]:
    """Split one unit into prose pieces and protected pieces, for piecewise translation.

    The fallback when the model drops placeholders: each prose piece can be translated alone.
    Protected pieces (see :func:`protect`, numbers included) are kept, glossary terms replaced
    by their translation; whitespace-only or punctuation-only pieces are not translatable.
    """
    glossary = {k: v for k, v in (glossary or {}).items() if k}
    b = _Builder()
    pos = 0
    for m in _protect_pattern(list(glossary), numbers=True).finditer(text):
        b.prose(text[pos : m.start()], joinable=False)
        term = m.groupdict().get("term")
        b.block(glossary[term] if term else m.group())
        pos = m.end()
    b.prose(text[pos:], joinable=False)
    return [Segment(t, tr) for t, tr in b.parts]


def numbers_in(text: str) -> list[str]:
    """The digit sequences of ``text``, sorted ("1,250.5" gives "1", "250", "5").

    Compare source and translation with it: digit runs survive a change of separators.
    """
    return sorted(re.findall(r"\d+", text))
