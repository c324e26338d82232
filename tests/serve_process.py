"""Run ``llama-toolkit serve`` as a subprocess on a free loopback port, for tests and benches.

from serve_process import serving   # tests/ and bench/ put tests/ on sys.path

with serving() as base_url:            # "http://127.0.0.1:PORT/v1", /health answered
    client = openai.OpenAI(base_url=base_url, api_key="unused")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

__all__ = ["free_port", "serving"]

ROOT = Path(__file__).resolve().parents[1]
_MAIN = "import sys; from toolkit.cli import main; sys.exit(main())"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str] | None = None, args: Sequence[str] = (), timeout: float = 120.0
) -> Iterator[str]:
    """Start ``llama-toolkit serve`` (embedded model unless ``env``/``args`` say otherwise).

    Args:
        env: Variables added to the current environment (e.g. ``LLAMA_TOOLKIT_API_KEY``).
        args: Extra ``serve`` arguments, such as ``("--max-tokens", "32")``.
        timeout: Seconds to wait for ``/health``.

    Yields:
        The API base URL, ``http://127.0.0.1:PORT/v1``. The server is stopped on exit.
    """
    port = free_port()
    cmd = [sys.executable, "-c", _MAIN, "serve", "--host", "127.0.0.1", "--port", str(port), *args]
    if not any(a == "--model" or a == "-m" or a.startswith("--model=") for a in args):
        from toolkit.embedded import embedded_model_path

        cmd += ["--backend", "llamacpp", "--model", str(embedded_model_path())]
    full_env = {**os.environ, **(env or {})}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed below; a file, so a chatty server never blocks
    proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env, stdout=log, stderr=log)
    try:
        _wait_healthy(proc, port, timeout, log)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, timeout: float, log: IO[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"llama-toolkit serve exited with {proc.returncode}: {err.strip()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"llama-toolkit serve did not answer /health on port {port} within {timeout:.0f} s")
