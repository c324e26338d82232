"""``llama-toolkit ui``: start the Streamlit app (the same app as ``streamlit run streamlit_app.py``)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from toolkit.settings import ENV_PREFIX

__all__ = ["add_ui_parser", "run_ui_command", "streamlit_command"]


def add_ui_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``ui`` sub-command to ``sub`` (the CLI's sub-parsers); returns it."""
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
    return ui


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The ``streamlit run`` command line for ``args``."""
    from toolkit.ui.components import MAX_UPLOAD_MB

    script = Path(__file__).parent / "ui" / "launch.py"
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
    ]


def run_ui_command(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """Run the app until Ctrl-C; returns Streamlit's exit code."""
    env = dict(os.environ)
    for name, value in overrides.items():  # the CLI's model options reach the app as settings
        env[ENV_PREFIX + name.upper()] = str(value)
    try:
        return subprocess.call(streamlit_command(args), env=env)
    except KeyboardInterrupt:
        return 130
