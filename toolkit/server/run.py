"""Start the server: refuse an open host without a key, load the model once, run uvicorn."""

from __future__ import annotations

import ipaddress
from typing import Any

from toolkit.errors import ConfigurationError
from toolkit.settings import Settings

__all__ = ["check_host", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    name = host.strip().strip("[]")
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_host(host: str, settings: Settings) -> None:
    """Refuse a non-loopback ``host`` when no API key is set.

    Raises:
        ConfigurationError: ``host`` is reachable from other machines and ``api_key`` is unset.
    """
    if not is_loopback(host) and settings.api_key is None:
        raise ConfigurationError(
            f"refusing to serve {host} without an API key - set LLAMA_TOOLKIT_API_KEY, or bind --host 127.0.0.1"
        )


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, **uvicorn_options: Any) -> None:
    """Serve the OpenAI-compatible API on ``host:port`` until interrupted (one worker, one model)."""
    import uvicorn

    from toolkit.server.app import create_app

    check_host(host, settings)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, workers=1, log_level="warning", **uvicorn_options)
