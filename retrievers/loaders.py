"""Former home of the CSV and source-code loaders, now in :mod:`toolkit.documents`.

:mod:`toolkit.documents` registers them itself, at import, so ``load_document("x.csv")``
works with nothing run before; these names stay importable from here.
"""

from __future__ import annotations

import warnings

from toolkit.documents import CODE_LANGUAGES, CSV_BLOCK_CHARS, load_code, load_csv

__all__ = ["CODE_LANGUAGES", "CSV_BLOCK_CHARS", "load_code", "load_csv", "register_rag_loaders"]


def register_rag_loaders() -> None:
    """Deprecated, does nothing: :mod:`toolkit.documents` registers the CSV and code loaders."""
    warnings.warn(
        "register_rag_loaders() is no longer needed and does nothing: toolkit.documents registers "
        "the CSV and source-code loaders when it is imported",
        DeprecationWarning,
        stacklevel=2,
    )
