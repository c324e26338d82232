"""Ask page: questions answered from a document collection, with numbered, openable sources.

The answer streams from :func:`retrievers.rag_chain` over a hybrid retriever; its ``[n]``
citations refer to the sources listed under it, each an expander holding the chunk the
model read. Earlier turns of this browser session stay on the page and go to the chain as
history, so a follow-up question keeps its subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import streamlit as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from streamlit.errors import StreamlitAPIException

from toolkit.ui import resources as res
from toolkit.ui.citations import citation_check, escape_markdown, source_label
from toolkit.ui.components import collection_picker, show_errors, show_markdown, stream_markdown

__all__ = ["PLACEHOLDER", "render"]

PLACEHOLDER = "Ask a question about your documents"
RETRIEVED = 4  # chunks the retriever returns per question
_PICK = "ask_pick"  # collection selectbox (the choice itself is in res.COLLECTION_KEY)
_TURNS = "ask_turns"  # [{"question", "answer", "sources": [RagSource], "collection"}]
_CLEAR = "ask_clear"  # "New conversation" button
_DOCUMENTS_PAGE = Path(__file__).parents[1] / "screens" / "documents.py"


class _AnswerStream:
    """The answer pieces of a RAG stream for ``st.write_stream``, keeping its sources."""

    def __init__(self, chunks: Iterable[Mapping[str, Any]]) -> None:
        self._chunks = iter(chunks)
        self._ready: list[str] = []
        self.sources: list[dict[str, Any]] = []

    def _take(self, chunk: Mapping[str, Any]) -> bool:
        if "sources" in chunk:
            self.sources = [dict(s) for s in chunk["sources"]]
        piece = chunk.get("answer")
        if piece:
            self._ready.append(str(piece))
        return bool(piece)

    def start(self) -> None:
        """Retrieve and wait for the first answer piece (shown with a spinner by the caller)."""
        for chunk in self._chunks:
            if self._take(chunk):
                return

    def __iter__(self) -> Iterator[str]:
        yield from self._ready
        self._ready.clear()
        for chunk in self._chunks:
            if self._take(chunk):
                yield from self._ready
                self._ready.clear()


def _state() -> Any:
    state = st.session_state
    state.setdefault(_TURNS, [])
    return state


def _new_conversation() -> None:
    st.session_state[_TURNS] = []


def _sidebar() -> None:
    with st.sidebar:
        st.subheader("Questions", anchor=False)
        st.button(
            "New conversation",
            key=_CLEAR,
            icon=":material/add:",
            on_click=_new_conversation,
            width="stretch",
        )


def _no_documents(message: str) -> None:
    st.info(f"{message} Add documents on the Documents page.", icon=":material/info:")
    with suppress(StreamlitAPIException):  # not registered: an entry script without the page
        st.page_link(str(_DOCUMENTS_PAGE), label="Go to the Documents page", icon=":material/folder_open:")


def _ready(name: str, existing: list[str]) -> bool:
    """Say what the page reads; False (after a message) when there is nothing to ask about."""
    if name not in existing:
        _no_documents(f"The collection {escape_markdown(name)} does not exist yet.")
        return False
    chunks = res.document_index(name, create=False).count()
    if not chunks:
        _no_documents(f"The collection {escape_markdown(name)} has no documents yet.")
        return False
    st.caption(f"Answers come from the collection **{escape_markdown(name)}** ({chunks} chunks).")
    return True


def _show_sources(sources: list[dict[str, Any]], answer: str = "") -> None:
    warning = citation_check(answer, sources)
    if warning:
        st.caption(f":material/warning: {warning}")
    if not sources:
        st.caption("No passage of the documents matched the question.")
        return
    st.markdown("**Sources**")
    for source in sources:
        with st.expander(source_label(source)):
            st.text(str(source.get("text", "")))
            st.caption(escape_markdown(str(source.get("source", ""))))


def _show(turn: dict[str, Any], name: str) -> None:
    with st.chat_message("user"):
        show_markdown(turn["question"])
    with st.chat_message("assistant"):
        show_markdown(turn["answer"] or "_(empty answer)_")
        _show_sources(turn["sources"], turn["answer"])
        if turn["collection"] != name:
            st.caption(f"from the collection {escape_markdown(turn['collection'])}")


def _history(turns: list[dict[str, Any]], name: str) -> list[BaseMessage]:
    history: list[BaseMessage] = []
    for turn in turns:
        if turn["collection"] == name:
            history += [HumanMessage(turn["question"]), AIMessage(turn["answer"])]
    return history


def _answer(name: str, question: str, turns: list[dict[str, Any]]) -> dict[str, Any]:
    from retrievers import HybridRetriever, rag_chain

    chain = rag_chain(
        llm=res.get_llm(),
        retriever=HybridRetriever(index=res.document_index(name, create=False), k=RETRIEVED),
    )
    stream = _AnswerStream(chain.stream({"question": question, "history": _history(turns, name)}))
    with st.spinner("Searching the documents…"):
        stream.start()
    text = stream_markdown(stream)
    if not text.strip():
        st.caption("The model gave an empty answer.")
    _show_sources(stream.sources, text)
    return {"question": question, "answer": text, "sources": stream.sources, "collection": name}


def render() -> None:
    """Draw the Ask page."""
    state = _state()
    _sidebar()
    st.title("Ask your documents", anchor=False)
    picked = None
    with show_errors("list the collections"):
        picked = collection_picker(_PICK, help="The collection the answers come from.")
    if picked is None:
        return
    name, existing = picked
    ready = False
    with show_errors(f"open the collection {name}"):
        ready = _ready(name, existing)
    for turn in state[_TURNS]:
        _show(turn, name)
    prompt = st.chat_input(PLACEHOLDER, disabled=not ready)
    question = prompt.strip() if isinstance(prompt, str) else ""
    if not question:
        return
    with st.chat_message("user"):
        show_markdown(question)
    with st.chat_message("assistant"), show_errors("answer"):
        turn = _answer(name, question, state[_TURNS])
        state[_TURNS] = [*state[_TURNS], turn]
