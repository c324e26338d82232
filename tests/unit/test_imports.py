"""Public surface: explicit ``__all__`` per package, and nothing heavy at import time."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

from unit.test_public_api import PUBLIC_API as EXPECTED  # the one list of the public surface


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_all_is_explicit_and_resolves(package: str) -> None:
    module = importlib.import_module(package)  # __all__ == EXPECTED: test_public_api checks it
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert module.__doc__ and len(module.__doc__.strip()) > 40


def test_unknown_attribute_raises() -> None:
    import toolkit

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = toolkit.nope  # type: ignore[attr-defined]


def test_import_is_light() -> None:
    """Importing the packages loads no llama.cpp, no HTTP client, no LangChain model code."""
    code = (
        "import sys, json, toolkit, toolkit.chains, agents, retrievers, tools;"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('llama_cpp', 'ollama', 'httpx', 'langchain_ollama', 'langchain_core', 'chromadb', 'onnxruntime'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_errors_module_draws_the_tree() -> None:
    from toolkit import errors

    assert errors.__doc__ is not None
    for name in errors.__all__:
        assert name in errors.__doc__
        assert issubclass(getattr(errors, name), errors.ToolkitError)


@pytest.mark.parametrize("package", sorted(EXPECTED))
def test_no_export_is_shadowed_by_a_submodule(package: str) -> None:
    # Importing `pkg.name` sets the attribute `pkg.name` to the module: an export with a
    # submodule's name then stops being the function or tool it names.
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not set(module.__all__) & submodules
