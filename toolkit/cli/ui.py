"""``llama-toolkit ui``: start the Streamlit app (the same app as ``streamlit run streamlit_app.py``).

``--auth`` makes every user sign in (a name and ``LLAMA_TOOLKIT_UI_PASSWORD``, or Streamlit's
OIDC ``st.login`` when ``.streamlit/secrets.toml`` configures a provider); each user sees only
their own saved chats. A non-loopback ``--host`` without ``--auth`` is refused unless
``--insecure`` is given. The checks run before Streamlit starts (see
:func:`toolkit.ui.access.launch_problem`).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType

from toolkit.cli.options import Subparsers, add_model_options, overrides
from toolkit.errors import AccessDeniedError
from toolkit.settings import ENV_PREFIX, get_settings

__all__ = ["check_launch", "register", "run_ui_command", "streamlit_command"]


def register(sub: Subparsers) -> None:
    """Add ``ui`` to the CLI's sub-parsers."""
    ui = sub.add_parser(
        "ui",
        help="start the web app (chat, documents, ask, summarize, translate, agent)",
        description="Start the Streamlit web app on this machine and print its address. "
        "Model options given here become the app's defaults; the sidebar can change them.",
    )
    ui.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    ui.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    ui.add_argument("--open", action="store_true", help="open a browser tab")
    ui.add_argument(
        "--auth",
        action="store_true",
        help="users sign in (a name and LLAMA_TOOLKIT_UI_PASSWORD, or the OIDC provider of "
        ".streamlit/secrets.toml) and see only their own chats",
    )
    ui.add_argument(
        "--insecure",
        action="store_true",
        help="serve a non-loopback --host without --auth (chats are then kept per browser tab)",
    )
    add_model_options(ui).set_defaults(handler=run_ui_command)


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line for ``args``."""
    import toolkit.ui
    from toolkit.ui.access import AUTH_FLAG
    from toolkit.ui.uploads import MAX_UPLOAD_MB

    script = Path(toolkit.ui.__file__).parent / "launch.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(script),
        f"--server.address={args.host}",
        f"--server.port={args.port}",
        f"--server.headless={'false' if args.open else 'true'}",
        f"--server.maxUploadSize={MAX_UPLOAD_MB}",
        "--browser.gatherUsageStats=false",  # the app is offline: no telemetry
        "--client.toolbarMode=minimal",
        "--client.showErrorDetails=none",
        *(["--", AUTH_FLAG] if getattr(args, "auth", False) else []),
    ]


def check_launch(args: argparse.Namespace) -> None:
    """Refuse options that would expose the app (before anything starts).

    Raises:
        AccessDeniedError: a non-loopback host without ``--auth`` or ``--insecure``, or
            ``--auth`` with neither a password nor an OIDC provider; the message says what to set.
    """
    from toolkit.ui.access import launch_problem, oidc_configured

    auth = bool(getattr(args, "auth", False))
    problem = launch_problem(
        args.host,
        auth=auth,
        insecure=bool(getattr(args, "insecure", False)),
        password=auth and get_settings().ui_password is not None,
        oidc=auth and oidc_configured(),
    )
    if problem:
        raise AccessDeniedError(problem)


def run_ui_command(args: argparse.Namespace) -> int:
    """Run the app until Ctrl-C; returns Streamlit's exit code.

    Raises:
        AccessDeniedError: see :func:`check_launch`; nothing was started.
    """
    check_launch(args)
    env = dict(os.environ)
    for name, value in overrides(args).items():  # the CLI's model options reach the app as settings
        env[ENV_PREFIX + name.upper()] = str(value)
    proc = subprocess.Popen(streamlit_command(args), env=env)

    def stop(signum: int, frame: FrameType | None) -> None:
        proc.terminate()  # a terminated launcher must not leave the app running without it

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: signals cannot be caught here
        previous = None
    try:
        return proc.wait()
    except KeyboardInterrupt:  # Ctrl-C reached Streamlit too (same process group): let it finish
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 130
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
