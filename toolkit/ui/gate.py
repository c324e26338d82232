"""Sign-in: who this browser session is, and so whose saved chats it sees.

``llama-toolkit ui --auth`` starts the app with the script argument ``--auth``. Then every
session signs in before any page is drawn: with Streamlit's own ``st.login`` (OIDC) when
``.streamlit/secrets.toml`` configures a provider in ``[auth]``, else with a name and the
password of ``LLAMA_TOOLKIT_UI_PASSWORD`` (compared in constant time). Without ``--auth`` the
app is for one person on loopback (chats owned by ``local``); on a non-loopback address
(``--insecure``) each browser session owns its chats, which no other session lists.
"""

from __future__ import annotations

import sys
import time

import streamlit as st

from toolkit.ui import resources as res
from toolkit.ui.access import AUTH_FLAG, PASSWORD_ENV, is_loopback, oidc_configured, owner_of, password_ok
from toolkit.ui.citations import escape_markdown

__all__ = ["auth_required", "sign_in"]

USER_KEY = "ui_user"  # the signed-in name (password sign-in)
_NAME_BOX = "ui_signin_name"
_PASSWORD_BOX = "ui_signin_password"
_MAX_NAME = 64
_FAILED_DELAY = 1.0  # seconds a wrong password costs (slows guessing)


def auth_required() -> bool:
    """Whether the app was started with ``--auth`` (a script argument after ``streamlit run ... --``)."""
    return AUTH_FLAG in sys.argv[1:]


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx else "no-session"


def _sign_out() -> None:
    st.session_state.clear()  # nothing of the previous user stays in this session


def _signed_in_as(name: str, logout: bool) -> None:
    st.session_state[res.OWNER_KEY] = owner_of(user=name, session_id=_session_id(), shared_host=True)
    with st.sidebar:
        st.caption(f"Signed in as {escape_markdown(name)}")
        if st.button("Sign out", key="ui_sign_out", icon=":material/logout:"):
            _sign_out()
            if logout:
                st.logout()
            st.rerun()


def _oidc() -> bool:
    if not st.user.is_logged_in:
        st.title("llama-toolkit", anchor=False)
        st.info("Sign in to use the app; your chats are kept for you alone.", icon=":material/lock:")
        st.button("Sign in", key="ui_sign_in", icon=":material/login:", on_click=st.login)
        return False
    name = str(st.user.get("email") or st.user.get("sub") or "")
    if not name:
        st.error("The sign-in provider gave no email or subject: the app cannot tell whose chats to show.")
        return False
    _signed_in_as(name, logout=True)
    return True


def _password() -> bool:
    state = st.session_state
    if state.get(USER_KEY):
        _signed_in_as(str(state[USER_KEY]), logout=False)
        return True
    st.title("Sign in", anchor=False)
    with st.form("ui_signin"):
        name = st.text_input("Name", key=_NAME_BOX, max_chars=_MAX_NAME)
        password = st.text_input("Password", key=_PASSWORD_BOX, type="password")
        sent = st.form_submit_button("Sign in", icon=":material/login:")
    if not sent:
        return False
    name = " ".join((name or "").split())
    if not name:
        st.error("Type your name: your saved chats are kept under it.", icon=":material/person:")
        return False
    if not password_ok(password or "", res.settings().ui_password):
        time.sleep(_FAILED_DELAY)
        st.error(f"Wrong password: ask the operator for the one in {PASSWORD_ENV}.", icon=":material/lock:")
        return False
    state.clear()
    state[USER_KEY] = name
    st.rerun()
    return True  # not reached: st.rerun raises


def sign_in() -> bool:
    """Settle who this session is (``res.OWNER_KEY``); ``False`` when the pages must not be drawn yet."""
    if not auth_required():
        address = st.get_option("server.address")
        shared = bool(address) and not is_loopback(str(address))
        st.session_state[res.OWNER_KEY] = owner_of(user=None, session_id=_session_id(), shared_host=shared)
        if shared:
            st.sidebar.warning(
                "No sign-in (--insecure): your chats are kept for this browser tab only.",
                icon=":material/lock_open:",
            )
        return True
    if oidc_configured():
        return _oidc()
    return _password()
