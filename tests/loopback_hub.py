"""A loopback Hugging Face hub for tests: the resolve endpoint huggingface_hub downloads from.

Serves ``HEAD`` and ``GET`` on ``/{repo}/resolve/{revision}/{filename}`` with the headers the
hub sends for an LFS file (``X-Repo-Commit``, ``ETag`` and ``X-Linked-Etag`` = the sha256,
``X-Linked-Size``, ``Content-Length``), ``Range: bytes=N-`` answered with ``206``, and two
faults: downloads cut after so many bytes (``cuts``) (the connection closes mid-body) and a
corrupted body (other bytes than the advertised sha256). Every request is recorded::

    with LoopbackHub() as hub:
        hub.add("bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf", data)
        monkeypatch.setenv("HF_ENDPOINT", hub.url)
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

__all__ = ["COMMIT", "HubRequest", "LoopbackHub", "ServedFile"]

COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_CHUNK = 1 << 20


@dataclass
class ServedFile:
    """One file on the hub: its true bytes (or path), and the faults to inject."""

    source: bytes | Path
    sha256: str
    size: int
    corrupt: bool = False  # send other bytes (same length) than ``sha256`` names
    cuts: list[int] = field(default_factory=list)
    """One entry per coming GET: close the connection after that many body bytes (then serve whole)."""

    def read(self, start: int) -> bytes:
        if isinstance(self.source, Path):
            with self.source.open("rb") as f:
                f.seek(start)
                data = f.read()
        else:
            data = self.source[start:]
        return bytes(b ^ 0xFF for b in data[:4096]) + data[4096:] if self.corrupt else data


@dataclass(frozen=True)
class HubRequest:
    """A request the hub received."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackHub:
    """A threaded HTTP server on 127.0.0.1 speaking the hub's file-download protocol."""

    def __init__(self) -> None:
        self.files: dict[tuple[str, str], ServedFile] = {}
        self.requests: list[HubRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The endpoint, for ``HF_ENDPOINT``."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def add(self, repo_id: str, filename: str, source: bytes | Path) -> ServedFile:
        """Serve ``source`` (bytes, or a file streamed from disk) as ``repo_id``'s ``filename``."""
        if isinstance(source, Path):
            digest = hashlib.sha256()
            with source.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
            served = ServedFile(source, digest.hexdigest(), source.stat().st_size)
        else:
            served = ServedFile(source, hashlib.sha256(source).hexdigest(), len(source))
        self.files[(repo_id, filename)] = served
        return served

    def gets(self) -> list[HubRequest]:
        """The GET requests for files (``/resolve/``), in order.

        huggingface_hub also asks other paths (``/api/agent-harnesses`` for its user agent).
        """
        return [r for r in self.requests if r.method == "GET" and "/resolve/" in r.path]

    def __enter__(self) -> LoopbackHub:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(hub: LoopbackHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _find(self) -> ServedFile | None:
            hub.requests.append(
                HubRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            )
            m = _RESOLVE.match(unquote(self.path.split("?")[0]))
            served = hub.files.get((m["repo"], m["file"])) if m else None
            if served is None:
                self.send_response(404)
                self.send_header("X-Error-Code", "EntryNotFound")
                self.send_header("X-Error-Message", "Entry not found")
                self.send_header("Content-Length", "0")
                self.end_headers()
            return served

        def _headers(self, served: ServedFile, status: int, length: int, start: int) -> None:
            self.send_response(status)
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{served.sha256}"')
            self.send_header("X-Linked-Etag", f'"{served.sha256}"')
            self.send_header("X-Linked-Size", str(served.size))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            if status == 206:
                self.send_header("Content-Range", f"bytes {start}-{served.size - 1}/{served.size}")
            self.end_headers()

        def do_HEAD(self) -> None:
            served = self._find()
            if served is not None:
                self._headers(served, 200, served.size, 0)

        def do_GET(self) -> None:
            served = self._find()
            if served is None:
                return
            m = re.match(r"bytes=(\d+)-$", self.headers.get("Range", ""))
            start = int(m[1]) if m else 0
            self._headers(served, 206 if m else 200, served.size - start, start)
            body = served.read(start)
            if served.cuts:
                self.wfile.write(body[: served.cuts.pop(0)])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the peer sees the body end early
                return
            for i in range(0, len(body), _CHUNK):
                self.wfile.write(body[i : i + _CHUNK])

    return Handler
