"""Who may use the web app and what it lets a browser user reach: plain Python, no Streamlit.

- :func:`launch_problem`: why ``llama-toolkit ui`` refuses to start (a non-loopback host
  without ``--auth`` or ``--insecure``; ``--auth`` without a password or OIDC provider).
- :func:`password_ok`: the sign-in check (constant time).
- :func:`owner_of`: whose saved chats a browser session sees.
- :func:`server_path`: a path a browser user typed, allowed only under the operator's roots
  (``LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS``), symlinks followed.
- :func:`context_limit`: the largest context a browser user may pick.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Sequence
from pathlib import Path

import tomllib
from pydantic import SecretStr

from toolkit.errors import AccessDeniedError

__all__ = [
    "AUTH_FLAG",
    "INSECURE_FLAG",
    "PASSWORD_ENV",
    "SERVER_PATHS_ENV",
    "context_limit",
    "is_loopback",
    "launch_problem",
    "oidc_configured",
    "owner_of",
    "password_ok",
    "secrets_files",
    "server_path",
]

AUTH_FLAG = "--auth"
"""Script argument (after ``--`` of ``streamlit run``) that makes the app ask users to sign in."""
INSECURE_FLAG = "--insecure"
"""Script argument: the app serves a non-loopback address without sign-in (chats per browser session)."""
PASSWORD_ENV = "LLAMA_TOOLKIT_UI_PASSWORD"
SERVER_PATHS_ENV = "LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS"
FALLBACK_CONTEXT = 8192
"""The largest context offered when the model's trained context is unknown (an Ollama model)."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` only accepts connections from this machine (``127.0.0.1``, ``::1``, ``localhost``)."""
    name = (host or "").strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secrets_files(cwd: Path | None = None) -> list[Path]:
    """Where Streamlit reads ``secrets.toml``: the user's ``~/.streamlit`` and the app folder's."""
    return [Path.home() / ".streamlit" / "secrets.toml", (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def oidc_configured(files: Sequence[Path] | None = None) -> bool:
    """Whether a ``secrets.toml`` has an ``[auth]`` section naming an OIDC provider (``client_id``)."""
    for path in files if files is not None else secrets_files():
        try:
            auth = tomllib.loads(path.read_text(encoding="utf-8")).get("auth")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if not isinstance(auth, dict):
            continue
        if "client_id" in auth or any(isinstance(v, dict) and "client_id" in v for v in auth.values()):
            return True
    return False


def launch_problem(host: str, *, auth: bool, insecure: bool, password: bool, oidc: bool) -> str | None:
    """Why the app must not start with these options (one line), or ``None``.

    Args:
        host: The address to listen on.
        auth: ``--auth`` was given.
        insecure: ``--insecure`` was given.
        password: ``LLAMA_TOOLKIT_UI_PASSWORD`` is set.
        oidc: An OIDC provider is configured in ``.streamlit/secrets.toml``.
    """
    if auth and not (password or oidc):
        return (
            f"--auth needs a password: set {PASSWORD_ENV} (or configure an OIDC provider in the "
            "[auth] section of .streamlit/secrets.toml)"
        )
    if not auth and not insecure and not is_loopback(host):
        return (
            f"refusing to serve {host} without sign-in: anyone who can reach it could use the model and "
            f"read every chat. Add --auth (with {PASSWORD_ENV} set), or --insecure to serve it anyway"
        )
    return None


def password_ok(given: str, expected: SecretStr | None) -> bool:
    """Whether ``given`` is the configured password (compared in constant time; none set: never)."""
    if expected is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8"))


def owner_of(*, user: str | None, session_id: str, shared_host: bool) -> str:
    """The owner of the chats a browser session sees and saves.

    Args:
        user: The signed-in user (``None``: no sign-in).
        session_id: This browser session's id.
        shared_host: The app serves a non-loopback address (``--insecure``).

    Returns:
        ``user:<name>`` when signed in; else ``session:<id>`` on a shared host (chats last
        as long as the browser session, and no one else lists them); else ``local`` (one person).
    """
    if user:
        return f"user:{user}"
    if shared_host:
        return f"session:{session_id}"
    from toolkit.ui.history import LOCAL_OWNER

    return LOCAL_OWNER


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def server_path(text: str, roots: Sequence[Path], what: str = "path") -> Path:
    """The server path a browser user typed, resolved (symlinks followed), if the operator allows it.

    Args:
        text: The typed path (``~`` is the server user's home).
        roots: ``Settings.ui_allow_server_paths`` (resolved folders; empty: none allowed).
        what: What the path is, for the message ("GGUF file", "folder").

    Raises:
        AccessDeniedError: no roots are configured, or the path resolves outside all of them.
    """
    if not roots:
        raise AccessDeniedError(
            f"server paths are off in this app: upload the file instead (the operator can allow "
            f"folders with {SERVER_PATHS_ENV})"
        )
    resolved = Path(os.path.expanduser(text.strip())).resolve()
    if not any(_under(resolved, Path(root)) for root in roots):
        allowed = os.pathsep.join(str(r) for r in roots)
        raise AccessDeniedError(
            f"the {what} {text.strip()} is outside the folders this server allows ({allowed}); "
            "upload it instead, or pick a path inside them"
        )
    return resolved


def context_limit(trained: int | None, kv_fit: int | None) -> int:
    """The largest context window a browser user may pick.

    Args:
        trained: The model's trained context (``None``: unknown).
        kv_fit: Tokens the KV-cache budget holds (``None``: unknown).
    """
    known = [n for n in (trained, kv_fit) if n]
    return max(256, min(known)) if known else FALLBACK_CONTEXT
