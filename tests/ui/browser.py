"""Run the real app with ``streamlit run`` on loopback and drive it with Playwright in Debian's Chromium.

Playwright downloads no browser here: it launches ``/usr/bin/chromium`` (``apt-get install
chromium``, done by ``.ci/run``). Screenshots go to ``test-artifacts/browser/`` (or
``$LLAMA_TOOLKIT_TEST_ARTIFACTS``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("LLAMA_TOOLKIT_TEST_ARTIFACTS") or ROOT / "test-artifacts") / "browser"

# Flags for a root, sandboxless, offline machine: without the networking ones Chromium keeps
# trying to reach Google's hosts, which this network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server(
    data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """``streamlit run streamlit_app.py`` on a free loopback port, with ``data_dir``; yields its URL.

    ``extra_env`` is added to the app's environment (e.g. an Ollama backend to fake the model).
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_") and k != "OLLAMA_HOST"}
    env["LLAMA_TOOLKIT_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    with serving(cmd, port, log_path, env=env) as url:
        yield url


@contextmanager
def serving(cmd: list[str], port: int, log_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run ``cmd`` (a Streamlit app listening on ``port``) until its health check answers; yields its URL."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.read().strip() == b"ok":
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"streamlit did not start; see {log_path}:\n{log_path.read_text()[-3000:]}"
                    )
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# In-page probe: the time from pressing Enter in the chat box to the first text of the new
# assistant message, on the page's own clock (no Playwright polling in between).
FIRST_TOKEN_PROBE = """
() => {
  const assistants = () => [...document.querySelectorAll('[data-testid="stChatMessage"]')]
    .filter(m => m.querySelector('[data-testid="stChatMessageAvatarAssistant"]'));
  const probe = {before: assistants().length, sent: null, first: null, lengths: []};
  window.__probe = probe;
  const box = document.querySelector('[data-testid="stChatInputTextArea"]');
  box.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && probe.sent === null) probe.sent = performance.now();
  }, {capture: true});
  const check = () => {
    const all = assistants();
    if (all.length <= probe.before) return;
    const body = all[all.length - 1].querySelector('[data-testid="stChatMessageContent"]');
    const text = body ? (body.querySelector('[data-testid="stMarkdownContainer"]') || body).innerText.trim() : '';
    if (!text) return;
    if (probe.first === null) probe.first = performance.now();
    if (probe.lengths[probe.lengths.length - 1] !== text.length) probe.lengths.push(text.length);
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""
