"""Reaching Chroma: an embedded ``PersistentClient`` in a folder, or a ``chroma run`` server.

chromadb is imported inside the functions, never at import time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from toolkit.errors import ChromaUnreachableError, ConfigurationError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

__all__ = ["connect", "settings_client", "store_location"]


def _client_settings() -> Any:
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False)  # no phoning home from a local tool


def _server_hint(host: str, path: str | Path | None) -> str:
    port = urlsplit(host if "://" in host else "http://" + host).port or 8000
    return f"chroma run --path {path or './chroma'} --host 127.0.0.1 --port {port}"


def connect(path: str | Path | None, host: str | None) -> tuple[ClientAPI, str]:
    """A Chroma client and a description of where it points."""
    import chromadb

    if host:
        parts = urlsplit(host if "://" in host else "http://" + host)
        hint = _server_hint(host, path)
        try:
            client = chromadb.HttpClient(
                host=parts.hostname or "127.0.0.1",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=_client_settings(),
            )
            client.heartbeat()
        except Exception as exc:  # ValueError, httpx errors: all mean "nobody answers"
            raise ChromaUnreachableError(
                f"Chroma is not reachable at {host} - start it with `{hint}`, or unset chroma_host "
                "(LLAMA_TOOLKIT_CHROMA_HOST) to use the embedded store"
            ) from exc
        return client, host
    if path is None:
        raise ConfigurationError("DocumentIndex needs a `path` (embedded store) or a `host` (Chroma server)")
    folder = Path(os.path.abspath(Path(path).expanduser()))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot create the Chroma folder {folder} ({exc}) - set chroma_path "
            "(LLAMA_TOOLKIT_CHROMA_PATH) to a writable folder"
        ) from exc
    return chromadb.PersistentClient(path=str(folder), settings=_client_settings()), str(folder)


def store_location(settings: Any) -> tuple[Path, str | None]:
    """The store folder (``chroma_path`` or ``<data_dir>/chroma``) and ``chroma_host`` of ``settings``."""
    path = settings.chroma_path or Path(settings.data_dir) / "chroma"
    return Path(path).expanduser(), settings.chroma_host


def settings_client(overrides: dict[str, Any]) -> ClientAPI:
    """A client for the store the settings (with ``overrides``) point at."""
    from toolkit.settings import get_settings

    path, host = store_location(get_settings(**overrides))
    return connect(path, host)[0]
