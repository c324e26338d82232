"""Real OpenAI-compatible servers on loopback for the ``openai`` backend's tests.

- :func:`llama_cpp_server`: llama-cpp-python's own ``python -m llama_cpp.server`` on the
  embedded GGUF, with the ``chatml-function-calling`` chat format. The embedded SmolLM2 uses
  ChatML, and that format is the one of llama-cpp-python's that grammar-constrains tool calls
  under ``tool_choice="auto"``; with the model's own template the server drops ``tools`` unless
  a tool is named. Its limits, measured here: ``tool_choice="required"`` fails with HTTP 500 (the
  backend sends a single tool by name instead), ``response_format`` takes ``json_object`` with a
  schema but not ``json_schema`` (structured output uses function calling), and a stream
  carries no usage.
- :func:`toolkit_server`: ``llama-toolkit serve`` through ``tests/serve_process.py`` (written
  alongside the server); skips when that helper is not there.
- :func:`openai_server`: either, by name, for tests parametrized over both.

Each is a context manager yielding the server's base URL (``http://127.0.0.1:<port>/v1``).
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from toolkit.embedded import embedded_model_path

SERVERS = ("llama_cpp.server", "llama-toolkit serve")
STARTUP_TIMEOUT = 120.0
N_CTX = 4096


def free_port() -> int:
    """A TCP port nothing listens on at the moment, on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``GET {base_url}/models`` answers 200; fail with the server's log if it dies."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer in {STARTUP_TIMEOUT:.0f} s:\n{log.read_text()[-3000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server this module started, then kill it if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextlib.contextmanager
def llama_cpp_server(*extra_args: str) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on the embedded model; yields its base URL."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(embedded_model_path()),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(N_CTX),
        "--chat_format",
        "chatml-function-calling",
        "--n_threads",
        "2",
        *extra_args,
    ]
    with tempfile.TemporaryDirectory(prefix="llama-cpp-server-") as tmp:
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
        try:
            base_url = f"http://127.0.0.1:{port}/v1"
            wait_until_serving(base_url, process, log)
            yield base_url
        finally:
            stop(process)


@contextlib.contextmanager
def toolkit_server() -> Iterator[str]:
    """``llama-toolkit serve`` on the embedded model (``tests/serve_process.serving``)."""
    from serve_process import serving  # tests/ is on sys.path (its conftest.py puts it there)

    with serving() as base_url:
        yield base_url.rstrip("/") if base_url.rstrip("/").endswith("/v1") else f"{base_url.rstrip('/')}/v1"


@contextlib.contextmanager
def openai_server(name: str) -> Iterator[str]:
    """The server called ``name`` (one of :data:`SERVERS`); yields its base URL."""
    if name == "llama_cpp.server":
        with llama_cpp_server() as base_url:
            yield base_url
    elif name == "llama-toolkit serve":
        with toolkit_server() as base_url:
            yield base_url
    else:
        raise ValueError(f"unknown server {name!r}: one of {', '.join(SERVERS)}")
