"""Checking an answer's ``[n]`` citations against its sources, and showing text literally.

Plain Python (no Streamlit), used by the Ask and Documents pages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["citation_check", "escape_markdown", "source_label"]

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~$])")
_CITATION = re.compile(r"\[(\d+)\]")


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown`` (and labels, captions, table cells), on one line."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def citation_check(answer: str, sources: list[dict[str, Any]]) -> str:
    """A warning when the answer cites a number no source has, or cites nothing; else ``""``."""
    if not sources or not answer.strip():
        return ""
    cited = {int(n) for n in _CITATION.findall(answer)}
    unknown = sorted(cited - {int(s["n"]) for s in sources})
    if unknown:
        numbers = ", ".join(f"[{n}]" for n in unknown)
        return f"The answer cites {numbers}, which is not among the sources below: check it against them."
    if not cited:
        return "The answer cites no source: check it against the sources below."
    return ""


def source_label(source: Mapping[str, Any]) -> str:
    """An expander label: ``[1] report.pdf, p. 3 - Introduction`` (Markdown-escaped after ``[n] ``)."""
    text = str(source.get("name") or source.get("source") or "document")
    if source.get("page") is not None:
        text += f", p. {source['page']}"
    if source.get("section"):
        text += f" - {source['section']}"
    return f"[{source['n']}] {escape_markdown(text)}"
