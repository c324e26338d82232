"""Collection names, one-line "not found" errors and chunk metadata checks for the store."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.documents import Document

from toolkit.errors import ConfigurationError, IndexNotFoundError

__all__ = ["check_collection_name", "flat_metadata", "not_found"]

_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]")


def check_collection_name(name: str) -> str:
    """``name`` if Chroma accepts it as a collection name (no path characters), else an error.

    Raises:
        ConfigurationError: Not 3-63 characters from ``[a-zA-Z0-9._-]`` starting and ending
            with a letter or digit.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        text = str(name)[:80]
        shown = f"`{text}`" if text.isprintable() else repr(text)
        raise ConfigurationError(
            f"invalid collection name {shown}: use 3-63 characters from a-z, A-Z, 0-9, `.`, `_`, `-`, "
            "starting and ending with a letter or digit"
        )
    return name


def not_found(name: str, names: Sequence[str]) -> IndexNotFoundError:
    """``no collection named X - did you mean Y? existing: ...`` (one line)."""
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.6) or [
        n for n in names if n.lower() == name.lower()
    ]
    hint = f"did you mean `{close[0]}`? " if close else ""
    shown = ", ".join(names[:20]) + (f", +{len(names) - 20} more" if len(names) > 20 else "")
    existing = f"existing: {shown}" if names else "there are none yet - run `llama-toolkit ingest PATH...`"
    return IndexNotFoundError(
        f"no collection named `{name}` - {hint}{existing} (see `llama-toolkit index list`)"
    )


def flat_metadata(docs: Sequence[Document]) -> list[dict[str, Any]]:
    out = []
    for doc in docs:
        for key, value in doc.metadata.items():
            if not isinstance(key, str) or not (value is None or isinstance(value, (str, int, float, bool))):
                raise ConfigurationError(
                    f"chunk metadata must map names to str, int, float or bool values; {key!r} is a "
                    f"{type(value).__name__} - flatten it before adding"
                )
        out.append({k: v for k, v in doc.metadata.items() if v is not None})
    return out
