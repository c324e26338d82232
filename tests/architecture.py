"""The shape of the source tree, measured: import cycles, upward imports, private names
crossing a package boundary, long modules and long functions.

``tests/unit/test_architecture.py`` asserts these counts; run this file to print them::

    python tests/architecture.py [ROOT]

It reads the sources with :mod:`ast` (nothing is imported), so it also measures an old
checkout: ``python tests/architecture.py /path/to/other/clone``. Every ``import`` counts,
including those inside functions (a function-level import hides a cycle, it does not
remove it) and those under ``if TYPE_CHECKING:`` (a type-only cycle still ties two modules
together for the reader and for mypy). The layer order is the one in ``ARCHITECTURE.md`` and in
import-linter's contract in ``pyproject.toml``.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("toolkit", "agents", "retrievers", "tools")

# Lowest to highest. The longest matching prefix decides a module's layer; the root
# ``toolkit/__init__`` is the facade (lazy re-exports of every layer) and has none.
LAYERS: dict[str, int] = {
    "toolkit.errors": 0,
    "toolkit.settings": 0,
    "toolkit.progress": 0,
    "toolkit.profiling": 0,
    "toolkit.documents": 0,
    "toolkit.text": 0,
    "toolkit.embedded": 0,
    "toolkit.gguf": 0,
    "toolkit.hardware": 0,
    "toolkit.lazy": 0,
    "toolkit._lazy": 0,
    "toolkit.backends": 1,
    "toolkit.factory": 1,  # before the redesign: backend selection lived at the top of toolkit/
    "toolkit.doctor": 1,
    "toolkit.chains": 2,
    "retrievers": 2,
    "tools": 3,
    "agents": 4,
    "toolkit.cli": 5,  # also the old flat toolkit.cli_* modules
    "toolkit.ui": 5,
    "toolkit.server": 5,
    "toolkit.__main__": 5,
}
LAYER_NAMES = ("core", "backends", "chains/retrievers", "tools", "agents", "cli/ui")

MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Import:
    source: str  # importing module
    target: str  # imported module (a module of ours)
    name: str | None  # the imported name, for ``from m import name`` of a non-module
    line: int
    type_checking: bool


@dataclass
class Tree:
    root: Path
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for prefix, level in LAYERS.items():
        matches = module == prefix or module.startswith((prefix + ".", prefix + "_"))
        if matches and (best is None or len(prefix) > best[0]):
            best = (len(prefix), level)
    return None if best is None else best[1]


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    for sub in ast.walk(child):
                        if hasattr(sub, "lineno"):
                            lines.add(sub.lineno)
    return lines


def load(root: Path) -> Tree:
    tree = Tree(root)
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            tree.modules[module_name(root, path)] = path
    for source, path in tree.modules.items():
        parsed = ast.parse(path.read_text(encoding="utf-8"))
        guarded = _type_checking_lines(parsed)
        is_package = path.name == "__init__.py"
        for node in ast.walk(parsed):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = _ours(tree, alias.name)
                    if target:
                        tree.imports.append(Import(source, target, None, node.lineno, node.lineno in guarded))
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(source, is_package, node)
                if base is None:
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if sub in tree.modules:
                        tree.imports.append(Import(source, sub, None, node.lineno, node.lineno in guarded))
                    else:
                        target = _ours(tree, base)
                        if target:
                            tree.imports.append(
                                Import(source, target, alias.name, node.lineno, node.lineno in guarded)
                            )
    return tree


def _absolute(source: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    if not node.level:
        return node.module
    parts = source.split(".")
    if not is_package:
        parts.pop()
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _ours(tree: Tree, name: str) -> str | None:
    while name:
        if name in tree.modules:
            return name
        name = name.rpartition(".")[0]
    return None


def cycles(tree: Tree) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in tree.modules}
    for imp in tree.imports:
        if imp.source != imp.target:
            graph[imp.source].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for node in graph:
        if node not in index:
            visit(node)
    return sorted(found)


def upward_imports(tree: Tree) -> list[Import]:
    out = []
    for imp in tree.imports:
        low, high = layer(imp.source), layer(imp.target)
        if low is not None and high is not None and high > low:
            out.append(imp)
    return out


def _is_private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_crossings(tree: Tree) -> list[Import]:
    """Imports of a private module or name from outside the package that owns it."""
    out = []
    for imp in tree.imports:
        parts = imp.target.split(".")
        owner: str | None = None
        for i, part in enumerate(parts):
            if _is_private(part):
                owner = ".".join(parts[:i])  # the package the private module belongs to
                break
        if owner is None and imp.name and _is_private(imp.name):
            path = tree.modules[imp.target]
            owner = imp.target if path.name == "__init__.py" else imp.target.rpartition(".")[0]
        if owner is None:
            continue
        if not (imp.source == owner or imp.source.startswith(owner + ".")):
            out.append(imp)
    return out


def module_lines(tree: Tree) -> dict[str, int]:
    return {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in tree.modules.items()}


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines from ``def`` to the end, less the docstring (a long docstring is no long function)."""
    total = (node.end_lineno or node.lineno) - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        total -= (first.end_lineno or first.lineno) - first.lineno + 1
    return total


def _functions(node: ast.AST, prefix: str) -> Iterator[tuple[int, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield _code_lines(child), f"{prefix}{child.name}"
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def function_lengths(tree: Tree) -> list[tuple[int, str]]:
    """(lines of code, "module:qualname") of every function and method, longest first.

    A function's nested functions count in its length: a factory that builds its chain
    out of closures is as long as all of them.
    """
    out = []
    for module, path in tree.modules.items():
        parsed = ast.parse(path.read_text(encoding="utf-8"))
        out += [(n, f"{module}:{name}") for n, name in _functions(parsed, "")]
    return sorted(out, reverse=True)


def report(root: Path) -> str:
    tree = load(root)
    lines = module_lines(tree)
    functions = function_lengths(tree)
    long_modules = sorted(((n, m) for m, n in lines.items() if n > MAX_MODULE_LINES), reverse=True)
    long_functions = [f for f in functions if f[0] > MAX_FUNCTION_LINES]
    out = [f"tree: {root} ({len(tree.modules)} modules, {sum(lines.values())} lines)"]
    found = cycles(tree)
    out.append(f"import cycles: {len(found)}")
    out += [f"  {' <-> '.join(c)}" for c in found]
    up = upward_imports(tree)
    out.append(f"upward imports: {len(up)}")
    out += [
        f"  {i.source}:{i.line} ({LAYER_NAMES[layer(i.source) or 0]}) -> {i.target} "
        f"({LAYER_NAMES[layer(i.target) or 0]}){' [TYPE_CHECKING]' if i.type_checking else ''}"
        for i in up
    ]
    private = private_crossings(tree)
    out.append(f"private names across packages: {len(private)}")
    out += [f"  {i.source}:{i.line} -> {i.target}{'.' + i.name if i.name else ''}" for i in private]
    out.append(f"modules over {MAX_MODULE_LINES} lines: {len(long_modules)}")
    out += [f"  {m}: {n}" for n, m in long_modules]
    out.append(f"functions over {MAX_FUNCTION_LINES} lines (docstrings not counted): {len(long_functions)}")
    out += [f"  {name}: {n}" for n, name in long_functions]
    out.append(f"longest function: {functions[0][1]} ({functions[0][0]} lines)")
    return "\n".join(out)


if __name__ == "__main__":
    print(report(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]))
