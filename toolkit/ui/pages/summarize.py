"""Summarize page: pasted text or a file, summarized by the map-reduce chain as it streams."""

from __future__ import annotations

from typing import Any

import streamlit as st
from langchain_core.callbacks import BaseCallbackHandler

from toolkit.progress import ProgressEvent
from toolkit.ui import resources as res
from toolkit.ui.components import show_errors
from toolkit.ui.text_input import Result, Source, download, pick_source, run_streamed, show_result

__all__ = ["render"]

_RESULT = "summarize_result"  # the last summary (a text_input.Result), kept across reruns
_CUSTOM = "custom"
_LENGTHS = {
    "short": "Short (a sentence or two)",
    "medium": "Medium (about 120 words)",
    "long": "Long (about 300 words)",
    _CUSTOM: "A number of words",
}
_STYLES = {
    "paragraph": "Paragraph",
    "bullets": "Bullet points",
    "key_points": "Key points with their sources",
}


class _Stats(BaseCallbackHandler):
    """Keeps the chain's ``summarize_stats`` event (parts, collapse levels, model calls)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        from toolkit.chains.summarize import STATS_EVENT

        if name == STATS_EVENT and isinstance(data, dict):
            self.data = dict(data)


def _options() -> dict[str, Any]:
    left, middle, right = st.columns(3)
    length: Any = left.selectbox(
        "Length", list(_LENGTHS), format_func=_LENGTHS.__getitem__, key="summarize_length"
    )
    if length == _CUSTOM:
        length = int(
            left.number_input(
                "Words", min_value=10, max_value=2000, value=150, step=10, key="summarize_words"
            )
        )
    style = middle.selectbox("Style", list(_STYLES), format_func=_STYLES.__getitem__, key="summarize_style")
    language = right.text_input(
        "Output language",
        key="summarize_language",
        placeholder="blank: the document's language",
        help="A name or ISO code: French, de, pt-BR...",
    )
    focus = st.text_input(
        "Focus question (optional)",
        key="summarize_focus",
        placeholder="e.g. What did the council decide about the budget?",
    )
    return {
        "length": length,
        "style": style,
        "language": (language or "").strip() or None,
        "focus": (focus or "").strip() or None,
    }


def _caption(seconds: float, stats: dict[str, Any], events: list[ProgressEvent], source: Source) -> str:
    parts = [f"{source.name}", f"{seconds:.1f} s"]
    chunks = int(stats.get("chunks") or max((e.total for e in events if e.stage == "map"), default=0))
    if chunks:
        parts.append(f"{chunks} parts summarized, then combined")
        depth = int(stats.get("depth") or 0)
        if depth:
            parts.append(f"{depth} combining level{'s' if depth > 1 else ''}")
    else:
        parts.append("one pass")
    if stats.get("calls"):
        parts.append(f"{stats['calls']} model call{'s' if stats['calls'] > 1 else ''}")
    if stats.get("document_tokens"):
        parts.append(f"{stats['document_tokens']:,} tokens in")
    return " · ".join(parts)


def _summarize(source: Source, options: dict[str, Any]) -> None:
    from toolkit.chains.languages import resolve_language
    from toolkit.chains.summarize import summarize_chain

    if options["language"]:
        resolve_language(options["language"])  # an unknown language fails before the model loads
    llm = res.get_llm()
    chain = summarize_chain(llm, **options)
    stats = _Stats()
    text, seconds, progress = run_streamed(chain, source.docs, stats)
    if not text.strip():
        st.warning("The model returned an empty summary. Try again, or pick another length or style.")
        return
    result = Result(
        text, _caption(seconds, stats.data, progress.events, source), "summary.md", "text/markdown"
    )
    st.session_state[_RESULT] = result
    download(result, "summarize_download")


def render() -> None:
    """Draw the summarize page."""
    st.title("Summarize", anchor=False)
    picker = pick_source("summarize", "Text to summarize", "Paste an article, a report, notes...")
    options = _options()
    clicked = st.button("Summarize", type="primary", icon=":material/summarize:", key="summarize_run")
    if not clicked:
        if _RESULT in st.session_state:
            show_result(st.session_state[_RESULT], "summarize_download")
        return
    st.session_state.pop(_RESULT, None)
    source = picker.load("summarize")
    if source is None:
        return
    with show_errors("summarize"):
        _summarize(source, options)
