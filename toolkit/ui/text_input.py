"""What the summarize and translate pages share: paste-or-upload input, the kept result."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import streamlit as st
from langchain_core.documents import Document

from toolkit.ui.components import (
    MAX_UPLOAD_MB,
    ChainProgress,
    load_upload,
    show_markdown,
    stream_markdown,
    upload_types,
)

__all__ = [
    "PASTE",
    "UPLOAD",
    "Result",
    "Source",
    "SourcePicker",
    "download",
    "file_name",
    "pick_source",
    "run_streamed",
    "show_result",
]

PASTE = "Paste text"
UPLOAD = "Upload a file"
_PLAIN_TYPES = {"text", "txt"}


@dataclass(frozen=True)
class Source:
    """The input a page runs on, read when its button is clicked."""

    docs: list[Document]
    name: str
    """``"pasted text"`` or the file's name."""
    plain: bool
    """Plain text (pasted, or a ``.txt`` file) rather than Markdown, HTML, PDF or Word."""


@dataclass(frozen=True)
class Result:
    """A finished summary or translation, kept in session state across reruns."""

    text: str
    caption: str
    file_name: str
    mime: str


class SourcePicker:
    """The input widgets of a page; :meth:`load` reads them when the page's button is clicked."""

    def __init__(self, prefix: str, text_label: str, placeholder: str) -> None:
        self.prefix = prefix
        mode = st.radio(
            "Input", [PASTE, UPLOAD], key=f"{prefix}_source", horizontal=True, label_visibility="collapsed"
        )
        self.mode = mode or PASTE
        self.text = ""
        self.upload = None
        if self.mode == PASTE:
            value = st.text_area(
                text_label,
                key=f"{prefix}_text",
                height=220,
                placeholder=placeholder,
                persist_state="page",  # kept while the file uploader is shown instead
            )
            self.text = value or ""
        else:
            self.upload = st.file_uploader(
                "Document",
                type=upload_types(),
                key=f"{prefix}_file",
                max_upload_size=MAX_UPLOAD_MB,
                help=f"Text, Markdown, PDF, HTML or Word, up to {MAX_UPLOAD_MB} MB.",
            )

    def load(self, what: str) -> Source | None:
        """The documents to run on, or ``None`` after a warning or error in the page."""
        if self.mode == PASTE:
            if not self.text.strip():
                st.warning(
                    f"There is nothing to {what}: paste some text, or choose '{UPLOAD}'.",
                    icon=":material/edit_note:",
                )
                return None
            from toolkit.documents import as_documents

            return Source(as_documents(self.text), "pasted text", plain=True)
        if self.upload is None:
            st.warning(f"There is nothing to {what}: upload a file first.", icon=":material/upload_file:")
            return None
        docs = load_upload(self.upload)
        if docs is None:
            return None
        file_type = str(docs[0].metadata.get("file_type", ""))
        return Source(docs, self.upload.name, plain=file_type in _PLAIN_TYPES)


def pick_source(prefix: str, text_label: str, placeholder: str = "") -> SourcePicker:
    """Draw the paste-or-upload input with widget keys ``{prefix}_source|_text|_file``."""
    return SourcePicker(prefix, text_label, placeholder)


def show_result(result: Result, key: str) -> None:
    """Draw a kept result: its text, its caption and a download button (no rerun on click)."""
    show_markdown(result.text)
    download(result, key)


def download(result: Result, key: str) -> None:
    """The caption and the download button under a result."""
    if result.caption:
        st.caption(result.caption)
    st.download_button(
        "Download",
        data=result.text,
        file_name=result.file_name,
        mime=result.mime,
        key=key,
        on_click="ignore",
        icon=":material/download:",
    )


def file_name(stem: str, plain: bool) -> tuple[str, str]:
    """``(file name, mime type)`` for a result: ``.txt`` for plain text, else ``.md``."""
    return (f"{stem}.txt", "text/plain") if plain else (f"{stem}.md", "text/markdown")


def run_streamed(chain: Any, docs: list[Document], *callbacks: Any) -> tuple[str, float, ChainProgress]:
    """Stream ``chain`` over ``docs`` into the page under a progress bar.

    Returns the text, the seconds it took, and the progress handler (its ``events``).
    """
    progress = ChainProgress()
    start = time.perf_counter()
    output = stream_markdown(chain.stream(docs, config={"callbacks": [progress, *callbacks]}))
    seconds = time.perf_counter() - start
    progress.clear()
    return output, seconds, progress
