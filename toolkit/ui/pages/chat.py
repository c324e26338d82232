"""Chat page: streamed answers, a history per browser session, conversations saved in SQLite.

The saved conversations listed, opened and deleted are only this session's user's
(:func:`toolkit.ui.resources.owner`); text is drawn through the safe Markdown renderer.
"""

from __future__ import annotations

import base64
from typing import Any

import streamlit as st
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from streamlit.runtime.scriptrunner import RerunException, StopException

from toolkit.errors import ContextOverflowError
from toolkit.ui import resources as res
from toolkit.ui.citations import escape_markdown
from toolkit.ui.components import TextStream, show_errors, show_markdown, stats_caption, stream_markdown
from toolkit.ui.history import ChatTurn

__all__ = ["render"]

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant. Answer clearly and concisely."
IMAGE_TYPES = ["png", "jpg", "jpeg", "gif", "webp"]
_ID = "chat_id"  # this session's saved conversation (None: not saved yet)
_TURNS = "chat_turns"
_SYSTEM = "chat_system"
# Widget keys: Streamlit drops a widget's state when a page without it runs, so the values
# live under the keys above and the widgets are seeded from them on every run.
_SYSTEM_BOX = "chat_system_box"
_PICK = "chat_pick"
_UNSAVED = ""  # the picker's entry for this session's chat before it is saved (None shows as blank)


def _state() -> Any:
    state = st.session_state
    state.setdefault(_ID, None)
    state.setdefault(_TURNS, [])
    state.setdefault(_SYSTEM, DEFAULT_SYSTEM_PROMPT)
    return state


def _open(conversation_id: str | None) -> None:
    state = st.session_state
    store = res.conversation_store()
    saved = store.get(conversation_id, owner=res.owner()) if conversation_id else None
    state[_ID] = saved.id if saved else None
    state[_TURNS] = store.turns(saved.id) if saved else []
    if saved and saved.system_prompt:  # a new chat keeps the system prompt in use
        state[_SYSTEM] = saved.system_prompt


def _on_pick() -> None:
    _open(st.session_state.get(_PICK) or None)


def _on_system() -> None:
    st.session_state[_SYSTEM] = st.session_state[_SYSTEM_BOX]


def _new_chat() -> None:
    _open(None)
    st.session_state[_PICK] = _UNSAVED


def _delete_current() -> None:
    state = st.session_state
    if state.get(_ID):
        res.conversation_store().delete(state[_ID], owner=res.owner())
    _new_chat()


def _sidebar() -> None:
    state = st.session_state
    store = res.conversation_store()
    with st.sidebar:
        st.subheader("Conversation")
        left, right = st.columns(2)
        left.button("New chat", key="chat_new", icon=":material/add:", on_click=_new_chat, width="stretch")
        right.button(
            "Delete",
            key="chat_delete",
            icon=":material/delete:",
            on_click=_delete_current,
            disabled=not state.get(_ID),
            width="stretch",
        )
        saved = store.conversations(owner=res.owner())
        titles = {c.id: c.title for c in saved}
        if state.get(_ID) in titles:
            state[_PICK] = state[_ID]
        elif state.get(_PICK) not in titles:
            state[_PICK] = _UNSAVED
        st.selectbox(
            "Saved conversations",
            [_UNSAVED, *titles],
            key=_PICK,
            format_func=lambda cid: titles.get(cid, "(new chat)"),
            on_change=_on_pick,
        )
        state[_SYSTEM_BOX] = state[_SYSTEM]
        st.text_area("System prompt", key=_SYSTEM_BOX, height=100, on_change=_on_system)


def _show(turn: ChatTurn) -> None:
    with st.chat_message(turn.role):
        show_markdown(turn.content)
        for name in turn.meta.get("images", []):
            st.caption(f"image: {escape_markdown(name)}")
        caption = stats_caption(turn.meta) if turn.role == "assistant" else ""
        if turn.meta.get("stopped"):
            caption = "stopped by your next message" + (f" · {caption}" if caption else "")
        if caption:
            st.caption(caption)


def _history(turns: list[ChatTurn]) -> list[BaseMessage]:
    return [HumanMessage(t.content) if t.role == "user" else AIMessage(t.content) for t in turns]


def _can_see(llm: Any) -> bool:
    return "vision" in (getattr(llm, "capabilities", None) or [])


def _user_message(text: str, files: list[Any], llm: Any) -> HumanMessage:
    if not files:
        return HumanMessage(text)
    if not _can_see(llm):
        st.info(
            f"{res.current_choice().label()} cannot read images, so only your text was sent. "
            "Images go to vision models on Ollama: pick the Ollama backend and a model such as "
            "`llama3.2-vision` (`ollama pull llama3.2-vision`).",
            icon=":material/hide_image:",
        )
        return HumanMessage(text)
    blocks: list[str | dict[str, Any]] = [{"type": "text", "text": text or "Describe this image."}]
    for f in files:
        data = base64.b64encode(f.getvalue()).decode("ascii")
        blocks.append({"type": "image_url", "image_url": {"url": f"data:{f.type};base64,{data}"}})
    return HumanMessage(content=blocks)


def _answer(
    llm: Any, system: str, turns: list[ChatTurn], question: HumanMessage, streams: list[TextStream]
) -> tuple[str, dict[str, Any]]:
    """Stream the answer; the oldest turns are left out if the context window is too small.

    Each attempt's stream is appended to ``streams``, so the caller can keep a stopped answer.
    """
    history = _history(turns)
    head: list[BaseMessage] = [SystemMessage(system)] if system.strip() else []
    while True:
        stream = TextStream(llm.stream([*head, *history, question]))
        streams.append(stream)
        try:
            answer = stream_markdown(stream)
        except ContextOverflowError:
            if not history:  # the question alone does not fit: say so
                raise
            history = history[2:]  # one user turn and its answer
            continue
        if len(history) < len(turns):
            left = (len(turns) - len(history)) // 2
            st.caption(f"{left} earlier turn(s) were left out to fit the model's context window.")
        return answer, stream.meta


def render() -> None:
    """Draw the chat page."""
    state = _state()
    # The sidebar comes first: after the answer's last element the run must not be
    # interruptible (a message sent the moment an answer ends would be lost).
    _sidebar()
    st.title("Chat", anchor=False)
    for turn in state[_TURNS]:
        _show(turn)
    prompt = st.chat_input("Message the model", accept_file=True, file_type=IMAGE_TYPES, max_upload_size=20)
    if prompt:
        _send(state, (prompt.text or "").strip(), list(prompt.files or []))


def _send(state: Any, text: str, files: list[Any]) -> None:
    """Answer ``text`` (and images), streaming, then save both turns."""
    if not text and not files:
        return
    user = ChatTurn("user", text, {"images": [f.name for f in files]} if files else {})
    _show(user)
    streams: list[TextStream] = []
    with st.chat_message("assistant"), show_errors("answer"):
        llm = res.get_llm()
        try:
            answer, meta = _answer(
                llm, state[_SYSTEM], state[_TURNS], _user_message(text, files, llm), streams
            )
        except (RerunException, StopException):
            # Another message or click stopped this answer: keep what was already on screen.
            partial = streams[-1].text if streams else ""
            if partial.strip():
                _save(state, user, ChatTurn("assistant", partial, {**streams[-1].meta, "stopped": True}))
            raise
        if not answer.strip():
            st.caption("The model gave an empty answer.")
        caption = stats_caption(meta)
        if caption:
            st.caption(caption)
        _save(state, user, ChatTurn("assistant", answer, meta))


def _save(state: Any, user: ChatTurn, reply: ChatTurn) -> None:
    store = res.conversation_store()
    if state[_ID] is None:
        state[_ID] = store.create(user.content or "image", state[_SYSTEM], owner=res.owner())
    else:
        store.set_system_prompt(state[_ID], state[_SYSTEM])
    store.add(state[_ID], user)
    store.add(state[_ID], reply)
    state[_TURNS] = [*state[_TURNS], user, reply]
