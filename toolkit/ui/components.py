"""Pieces the pages share: readable errors, progress from chain events, uploads, streamed text,
and the collection picker of the Documents and Ask pages.

Model and document text reaches the page only through :func:`show_markdown` and
:func:`stream_markdown`, which render it through :func:`toolkit.ui.safe_markdown.safe_markdown`:
no image, raw HTML or link in it makes the browser fetch anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import streamlit as st
from langchain_core.documents import Document
from langchain_core.messages import BaseMessageChunk

from toolkit.errors import ToolkitError
from toolkit.progress import ProgressBar, ProgressEvent
from toolkit.ui import resources as res
from toolkit.ui.safe_markdown import safe_markdown
from toolkit.ui.uploads import MAX_UPLOAD_MB

__all__ = [
    "MAX_UPLOAD_MB",
    "ChainProgress",
    "TextStream",
    "collection_picker",
    "load_upload",
    "show_errors",
    "show_markdown",
    "stats_caption",
    "stream_markdown",
    "supported_extensions",
    "upload_types",
]

log = logging.getLogger("toolkit.ui")


@contextmanager
def show_errors(doing: str) -> Iterator[None]:
    """Show any failure inside the block as a message in the page, never as a traceback.

    Toolkit errors already say what to do; anything else is shown by type and message and
    logged with its traceback to the terminal running the app. Streamlit's own control flow
    (``st.stop``, ``st.rerun``) passes through: it derives from ``BaseException``.
    """
    try:
        yield
    except ToolkitError as exc:
        st.error(safe_markdown(f"Could not {doing}: {exc}"), icon=":material/error:")
    except Exception as exc:
        log.exception("could not %s", doing)
        st.error(
            safe_markdown(
                f"Could not {doing}: {type(exc).__name__}: {exc}. The details are in the terminal "
                "that runs the app."
            ),
            icon=":material/error:",
        )


class ChainProgress(ProgressBar):
    """Draws the chains' ``summarize_progress`` / ``translate_progress`` events as ``st.progress``.

    Create it inside the script run: it remembers the run's context, so events raised on a
    worker thread still draw. :attr:`events` keeps every event, for a summary afterwards.
    """

    def __init__(self, container: Any | None = None) -> None:
        from streamlit.runtime.scriptrunner import get_script_run_ctx

        super().__init__()
        self._ctx = get_script_run_ctx()
        self._area = (container or st).empty()
        self.events: list[ProgressEvent] = []

    def update(self, event: ProgressEvent) -> None:
        from streamlit.runtime.scriptrunner import add_script_run_ctx

        add_script_run_ctx(threading.current_thread(), self._ctx)
        self.events.append(event)
        label = event.label[:1].upper() + event.label[1:]
        if event.stage == "final" or event.total <= 0:
            self._area.progress(1.0, text=label)
        else:
            self._area.progress(
                min(event.done / event.total, 1.0), text=f"{label}: {event.done} of {event.total}"
            )

    def clear(self) -> None:
        self._area.empty()


class TextStream:
    """Text of a chat model's stream for ``st.write_stream``, keeping the last metadata.

    ``response_metadata`` and ``usage_metadata`` of the final chunk (timings, token counts)
    are kept in :attr:`meta` for the caption under the answer.
    """

    def __init__(self, chunks: Iterable[BaseMessageChunk]) -> None:
        self._chunks = chunks
        self.meta: dict[str, Any] = {}
        self._pieces: list[str] = []

    @property
    def text(self) -> str:
        """The text streamed so far."""
        return "".join(self._pieces)

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks:
            if chunk.response_metadata:
                self.meta.update(chunk.response_metadata)
            usage = getattr(chunk, "usage_metadata", None)
            if usage:
                self.meta["usage"] = dict(usage)
            text = chunk.text  # string content, or the text blocks of a list
            if text:
                self._pieces.append(text)
                yield text


def show_markdown(text: str, container: Any | None = None) -> None:
    """Draw model or document text as Markdown with images, raw HTML and links shown as text."""
    (container or st).markdown(safe_markdown(text))


def stream_markdown(pieces: Iterable[Any], cursor: str = "") -> str:
    """``st.write_stream`` for model text: each update is drawn through :func:`safe_markdown`.

    Args:
        pieces: Text pieces (anything else is shown with ``str``).
        cursor: Drawn after the text while it streams (e.g. ``"▌"``).

    Returns:
        The whole text. If the stream fails before any text, the placeholder is removed.
    """
    area = st.empty()
    parts: list[str] = []
    try:
        for piece in pieces:
            if piece is None or piece == "":
                continue
            parts.append(piece if isinstance(piece, str) else str(piece))
            area.markdown(safe_markdown("".join(parts)) + cursor)
    except BaseException:
        if not parts:
            area.empty()
        raise
    text = "".join(parts)
    if not parts:
        area.empty()
    elif cursor:
        area.markdown(safe_markdown(text))
    return text


def stats_caption(meta: dict[str, Any]) -> str:
    """One line of answer facts: model, time to first token, speed, tokens."""
    parts: list[str] = []
    if meta.get("model_name"):
        parts.append(str(meta["model_name"]))
    ttft = meta.get("time_to_first_token")
    if ttft is None and meta.get("prompt_eval_duration") is not None:  # Ollama, in nanoseconds
        ttft = meta["prompt_eval_duration"] / 1e9
    if ttft is not None:
        parts.append(f"first token {float(ttft) * 1000:.0f} ms")
    speed = meta.get("tokens_per_second")
    if speed is None and meta.get("eval_duration") and meta.get("eval_count"):
        speed = meta["eval_count"] / (meta["eval_duration"] / 1e9)
    if speed:
        parts.append(f"{float(speed):.1f} tokens/s")
    usage = meta.get("usage") or {}
    if usage.get("output_tokens"):
        parts.append(f"{usage['output_tokens']} tokens")
    return " · ".join(parts)


def supported_extensions() -> list[str]:
    """The extensions the toolkit reads (``.md``...), CSV and source code included."""
    from toolkit.documents import supported_extensions as registered

    return registered()


def upload_types() -> list[str]:
    """:func:`supported_extensions` without the dots, for ``st.file_uploader(type=...)``."""
    return [ext.lstrip(".") for ext in supported_extensions()]


def load_upload(
    upload: Any, *, max_mb: int = MAX_UPLOAD_MB, on_error: Callable[[str], None] | None = None
) -> list[Document] | None:
    """Read an ``st.file_uploader`` file into documents; ``None`` (after a message) if rejected."""
    from toolkit.documents import load_bytes

    say = on_error or (lambda message: st.error(safe_markdown(message), icon=":material/block:"))
    if upload.size > max_mb * 2**20:
        say(f"{upload.name} is {upload.size / 2**20:.1f} MB; the limit is {max_mb} MB.")
        return None
    try:
        return load_bytes(upload.getvalue(), name=upload.name)
    except ToolkitError as exc:
        say(f"{upload.name} was rejected: {exc}")
        return None


def _copy_pick(key: str) -> None:
    value = st.session_state.get(key)
    if value:
        st.session_state[res.COLLECTION_KEY] = value


def collection_picker(key: str, label: str = "Collection", help: str | None = None) -> tuple[str, list[str]]:
    """A selectbox of the stored collections (plus the session's, if not created yet).

    The widget keeps its own ``key``; the choice is copied to ``COLLECTION_KEY``, which
    survives visits to pages without this widget. Returns the collection and the stored ones.
    """
    state = st.session_state
    existing = res.stored_collections()
    current = res.current_collection()
    state[res.COLLECTION_KEY] = current
    state[key] = current  # before the widget exists in this run: allowed, and keeps them in step
    st.selectbox(
        label,
        sorted({*existing, current}),
        key=key,
        on_change=_copy_pick,
        args=(key,),
        format_func=lambda name: name if name in existing else f"{name} (not created yet)",
        help=help,
    )
    return current, existing
