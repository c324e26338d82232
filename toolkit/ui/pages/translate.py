"""Translate page: pasted text or a file, translated unit by unit as it streams."""

from __future__ import annotations

from typing import Any

import streamlit as st

from toolkit.progress import ProgressEvent
from toolkit.ui import resources as res
from toolkit.ui.components import show_errors
from toolkit.ui.text_input import (
    Result,
    Source,
    download,
    file_name,
    pick_source,
    run_streamed,
    show_result,
)

__all__ = ["COMMON_LANGUAGES", "parse_glossary", "render"]

_RESULT = "translate_result"  # the last translation (a text_input.Result), kept across reruns
AUTO = "Auto-detect"
OTHER = "Other…"
COMMON_LANGUAGES = [
    "English",
    "French",
    "German",
    "Spanish",
    "Italian",
    "Portuguese",
    "Dutch",
    "Polish",
    "Swedish",
    "Greek",
    "Russian",
    "Ukrainian",
    "Turkish",
    "Arabic",
    "Hindi",
    "Chinese",
    "Japanese",
    "Korean",
    "Vietnamese",
    "Indonesian",
]
_OTHER_HINT = "a name or ISO code: Swahili, pt-BR, zh-Hant..."


def parse_glossary(text: str) -> tuple[dict[str, str], list[str]]:
    """``term = translation`` lines into a glossary, and a description of each malformed line.

    Blank lines and lines starting with ``#`` are skipped; ``term = term`` keeps a term as is.
    """
    glossary: dict[str, str] = {}
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        term, sep, translation = entry.partition("=")
        if not sep or not term.strip() or not translation.strip():
            problems.append(f"line {number} ({entry!r})")
            continue
        glossary[term.strip()] = translation.strip()
    return glossary, problems


def _language(label: str, key: str, options: list[str], help: str) -> str | None:
    """The chosen language as typed or picked; ``None`` for auto-detect, ``""`` if not typed yet."""
    choice = st.selectbox(label, options, key=key, help=help)
    if choice == OTHER:
        typed = st.text_input(
            f"Other {label[0].lower()}{label[1:]}", key=f"{key}_other", placeholder=_OTHER_HINT
        )
        return (typed or "").strip()
    return None if choice in (None, AUTO) else str(choice)


def _glossary() -> tuple[dict[str, str], bool]:
    text = st.text_area(
        "Glossary (optional)",
        key="translate_glossary",
        height=100,
        placeholder="One term per line, e.g.\ncloud = nuage\nLangChain = LangChain",
        help="Terms translated a fixed way: `term = translation`. `term = term` keeps a term as it is.",
    )
    glossary, problems = parse_glossary(text or "")
    if problems:
        st.warning(
            f"The glossary {'lines' if len(problems) > 1 else 'line'} {', '.join(problems)} "
            "should read `term = translation`: fix or remove "
            f"{'them' if len(problems) > 1 else 'it'}.",
            icon=":material/rule:",
        )
    return glossary, not problems


def _caption(source: Source, target: Any, given: Any, seconds: float, events: list[ProgressEvent]) -> str:
    from toolkit.chains.languages import detect_language

    parts = [source.name, f"into {target.name}"]
    if given is not None:
        parts.append(f"from {given.name}")
    else:
        detected = detect_language("\n\n".join(d.page_content for d in source.docs))
        parts.append(f"from {detected.name} (detected)" if detected else "source language not detected")
    units = max((e.total for e in events), default=0)
    if units:
        parts.append(f"{units} unit{'s' if units > 1 else ''}")
    parts.append(f"{seconds:.1f} s")
    return " · ".join(parts)


def _translate(source: Source, to: str, origin: str | None, glossary: dict[str, str]) -> None:
    from toolkit.chains.languages import resolve_language
    from toolkit.chains.translate import translate_chain

    target = resolve_language(to)  # unknown languages fail here, before the model loads
    given = resolve_language(origin) if origin else None
    chain = translate_chain(
        res.get_llm(), to=target.code, source=given.code if given else None, glossary=glossary or None
    )
    text, seconds, progress = run_streamed(chain, source.docs)
    if not text.strip():
        st.warning("The model returned an empty translation. Try again.")
        return
    name, mime = file_name("translation", source.plain)
    result = Result(text, _caption(source, target, given, seconds, progress.events), name, mime)
    st.session_state[_RESULT] = result
    download(result, "translate_download")


def render() -> None:
    """Draw the translate page."""
    st.title("Translate", anchor=False)
    picker = pick_source("translate", "Text to translate", "Paste text or Markdown to translate...")
    left, right = st.columns(2)
    with left:
        to = _language(
            "Target language", "translate_to", [*COMMON_LANGUAGES, OTHER], "The language to translate into."
        )
    with right:
        origin = _language(
            "Source language",
            "translate_from",
            [AUTO, *COMMON_LANGUAGES, OTHER],
            "The text's language; auto-detect reads it from the text.",
        )
    glossary, glossary_ok = _glossary()
    clicked = st.button("Translate", type="primary", icon=":material/translate:", key="translate_run")
    if not clicked:
        if _RESULT in st.session_state:
            show_result(st.session_state[_RESULT], "translate_download")
        return
    st.session_state.pop(_RESULT, None)
    if not glossary_ok:
        st.warning("Not translated: fix the glossary above first.", icon=":material/rule:")
        return
    if not to or origin == "":
        st.warning(
            "Type the language in the 'Other' field, or pick one from the list.", icon=":material/translate:"
        )
        return
    source = picker.load("translate")
    if source is None:
        return
    with show_errors("translate"):
        _translate(source, to, origin, glossary)
