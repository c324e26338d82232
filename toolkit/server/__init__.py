"""``llama-toolkit serve``: an OpenAI-compatible HTTP API over the toolkit's model and chains.

Import :func:`toolkit.server.app.create_app` for the ASGI app; nothing heavy loads here.
"""

from __future__ import annotations

__all__: list[str] = []
