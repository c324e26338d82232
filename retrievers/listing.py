"""The names of the collections in the configured store, without importing chromadb when it can.

``llama-toolkit index list`` uses it: an embedded store is read from its SQLite file
(:func:`~retrievers._chroma.collection_names`), which takes milliseconds where importing
chromadb takes about a second; a Chroma server, or a file laid out otherwise, is asked through
chromadb.
"""

from __future__ import annotations

from typing import Any

from retrievers._chroma import collection_names, settings_client, store_location

__all__ = ["list_indexes"]


def list_indexes(**overrides: Any) -> list[str]:
    """Names of the collections in the configured store, sorted (nothing is created)."""
    from toolkit.settings import get_settings

    path, host = store_location(get_settings(**overrides))
    names = None if host else collection_names(path)
    if names is None:
        client = settings_client(overrides, create=False)
        names = [] if client is None else sorted(c.name for c in client.list_collections())
    return names
