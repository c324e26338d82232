"""The layer contract: imports point down the layers, no cycles, no private names across packages.

The layer order is ARCHITECTURE.md's. import-linter checks it from ``pyproject.toml``'s
``[tool.importlinter]`` (direct and indirect imports); ``tests/architecture.py`` adds what
import-linter has no contract for (function-level imports in cycles, private names, module
and function length). Each checker is first shown to catch a planted fault, so a green run
means something.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import architecture as arch

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tree() -> arch.Tree:
    return arch.load(ROOT)


def _lint_imports() -> Path:
    exe = Path(sys.executable).with_name("lint-imports")
    found = exe if exe.exists() else shutil.which("lint-imports")
    if not found:
        pytest.fail("import-linter is not installed: pip install -e '.[dev]'")
    return Path(found)


def test_import_linter_layers_contract() -> None:
    out = subprocess.run(
        [str(_lint_imports()), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    print(out.stdout[-3000:])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout and "KEPT" in out.stdout


def test_no_import_cycles(tree: arch.Tree) -> None:
    assert arch.cycles(tree) == []


def test_no_upward_imports(tree: arch.Tree) -> None:
    assert [f"{i.source}:{i.line} -> {i.target}" for i in arch.upward_imports(tree)] == []


def test_no_private_name_crosses_a_package(tree: arch.Tree) -> None:
    found = arch.private_crossings(tree)
    assert [f"{i.source}:{i.line} -> {i.target}.{i.name or ''}" for i in found] == []


def test_every_module_has_a_layer(tree: arch.Tree) -> None:
    assert [m for m in tree.modules if m != "toolkit" and arch.layer(m) is None] == []


def test_modules_stay_small(tree: arch.Tree) -> None:
    lines = arch.module_lines(tree)
    assert {m: n for m, n in lines.items() if n > arch.MAX_MODULE_LINES} == {}


def test_functions_stay_short(tree: arch.Tree) -> None:
    long = [f"{name}: {n}" for n, name in arch.function_lengths(tree) if n > arch.MAX_FUNCTION_LINES]
    assert long == []


def _planted(tmp_path: Path, files: dict[str, str]) -> arch.Tree:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for package in arch.PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
    return arch.load(tmp_path)


def test_the_checkers_catch_planted_faults(tmp_path: Path) -> None:
    tree = _planted(
        tmp_path,
        {
            "toolkit/__init__.py": "",
            "toolkit/errors.py": "def f():\n    from toolkit.backends import model  # up, and hidden in a function\n",
            "toolkit/backends/__init__.py": "",
            "toolkit/backends/model.py": "from toolkit.errors import f\nfrom toolkit.backends._impl import x\n",
            "toolkit/backends/_impl.py": "x = 1\n",
            "retrievers/__init__.py": "",
            "retrievers/store.py": "from toolkit.backends._impl import x\nfrom toolkit.backends.model import _hidden\n",
            "tools/__init__.py": "",
            "tools/lookup.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from agents.run import go\n"
            ),
            "agents/__init__.py": "",
            "agents/run.py": "import tools.lookup\n",
        },
    )
    assert arch.cycles(tree) == [
        ["agents.run", "tools.lookup"],
        ["toolkit.backends.model", "toolkit.errors"],
    ]
    assert {(i.source, i.target) for i in arch.upward_imports(tree)} == {
        ("toolkit.errors", "toolkit.backends.model"),
        ("tools.lookup", "agents.run"),
    }
    # Inside toolkit.backends a private module is fine; from retrievers it is not.
    assert {(i.source, i.target, i.name) for i in arch.private_crossings(tree)} == {
        ("retrievers.store", "toolkit.backends._impl", "x"),
        ("retrievers.store", "toolkit.backends.model", "_hidden"),
    }


def test_report_prints_every_count() -> None:
    text = arch.report(ROOT)
    for heading in (
        "import cycles:",
        "upward imports:",
        "private names across packages:",
        "longest function:",
    ):
        assert heading in text
