"""Every example script runs offline on the embedded model and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.py"))


def test_examples_are_indexed() -> None:
    index = (EXAMPLES[0].parent / "README.md").read_text()
    for script in EXAMPLES:
        assert f"`{script.name}`" in index, f"{script.name} is missing from examples/README.md"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_")}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()
