"""The example notebooks run top to bottom in a real Jupyter kernel, offline on the embedded model.

Each notebook is executed with nbclient in the project's own Python (checked by a probe cell
added in memory), in a temporary folder with a temporary data directory. A failing cell fails
the test with that cell's error. Run times go to ``test-artifacts/notebooks.json``, the
executed notebooks (outputs included) to ``test-artifacts/notebooks/``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = sorted(EXAMPLES.glob("*.ipynb"))
EXPECTED = {"quickstart.ipynb", "rag.ipynb", "agents.ipynb"}
ARTIFACTS = ROOT / "test-artifacts"
TIMINGS = ARTIFACTS / "notebooks.json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
CELL_TIMEOUT = 600  # seconds per cell

# Cells tagged so: their output must hold a progress bar drawn as a Jupyter widget.
PROGRESS_TAG = "progress-bar"


def _probe() -> nbformat.NotebookNode:
    """A first cell proving the kernel runs this interpreter (the venv), not another Python."""
    return nbformat.v4.new_code_cell(
        "import sys\n"
        f"assert sys.prefix == {sys.prefix!r}, f'kernel runs {{sys.executable}}, not {sys.executable}'"
    )


def _record_time(name: str, seconds: float) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        timings = json.loads(TIMINGS.read_text())
    except (OSError, ValueError):
        timings = {}
    timings = {k: v for k, v in timings.items() if (EXAMPLES / k).exists()}
    timings[name] = round(seconds, 1)
    TIMINGS.write_text(json.dumps(dict(sorted(timings.items())), indent=2) + "\n")


def _errors(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def test_notebooks_exist() -> None:
    assert {p.name for p in NOTEBOOKS} >= EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_clean(path: Path) -> None:
    """Valid nbformat, no outputs, no execution counts, no saved widget state."""
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"
    assert "widgets" not in nb.metadata, f"{path.name}: saved widget state; clear the outputs"
    assert nb.cells and nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_indexed(path: Path) -> None:
    index = (EXAMPLES / "README.md").read_text()
    assert f"`{path.name}`" in index, f"{path.name} is missing from examples/README.md"


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The kernel inherits this environment. The autouse fixture already removed the
    # developer's LLAMA_TOOLKIT_* and set a temporary data dir; the Llama 3.2 cells are made
    # to skip (no Ollama at a closed port, no GGUF), so every machine runs the same cells.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    monkeypatch.delenv("LLAMA32_GGUF", raising=False)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "jupyter-runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    work = tmp_path / "work"
    work.mkdir()

    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, _probe())
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
        coalesce_streams=True,
    )
    started = time.perf_counter()
    failure = None
    try:
        client.execute()
    except CellExecutionError as exc:
        failure = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the traceback without terminal colours
    seconds = time.perf_counter() - started
    (ARTIFACTS / "notebooks").mkdir(parents=True, exist_ok=True)  # the executed notebook, to look at
    nbformat.write(nb, str(ARTIFACTS / "notebooks" / path.name))
    if failure is not None:
        pytest.fail(f"{path.name}: a cell failed:\n{failure}", pytrace=False)
    _record_time(path.name, seconds)
    print(f"{path.name}: {seconds:.1f} s")

    assert not _errors(nb), _errors(nb)
    for cell in nb.cells:
        if PROGRESS_TAG in cell.metadata.get("tags", []):
            mimes = {m for out in cell.outputs for m in out.get("data", {})}
            assert WIDGET_MIME in mimes, f"{path.name}: no progress widget in the tagged cell: {mimes}"
    if path.name == "quickstart.ipynb":
        assert any(PROGRESS_TAG in c.metadata.get("tags", []) for c in nb.cells)
