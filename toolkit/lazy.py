"""Lazy package exports: names are imported from their module on first use (PEP 562).

Every package ``__init__`` of the toolkit uses it, so importing a package stays light::

    __getattr__, __dir__ = lazy_exports(__name__, {"ingest": "retrievers.ingestion"}, __all__)
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str], exported: list[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` that import ``names`` (name -> module) on demand.

    Each value is cached in the package's namespace after its first use, so the import
    happens once and importing the package itself stays light.

    Args:
        package: The package's ``__name__``.
        names: Exported name -> the module that defines it.
        exported: The package's ``__all__`` (what ``dir()`` lists).

    Returns:
        The ``__getattr__`` and ``__dir__`` functions to assign in the package.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(exported)

    return __getattr__, __dir__
