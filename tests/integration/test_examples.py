"""Every example script runs offline on the embedded model and exits 0.

Each script's run time is recorded in ``test-artifacts/examples.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMINGS = ROOT / "test-artifacts" / "examples.json"


def record_time(name: str, seconds: float) -> None:
    TIMINGS.parent.mkdir(exist_ok=True)
    times = json.loads(TIMINGS.read_text()) if TIMINGS.exists() else {}
    times[name] = round(seconds, 1)
    TIMINGS.write_text(json.dumps(dict(sorted(times.items())), indent=2))


def test_examples_are_indexed() -> None:
    index = (EXAMPLES[0].parent / "README.md").read_text()
    for script in EXAMPLES:
        assert f"`{script.name}`" in index, f"{script.name} is missing from examples/README.md"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_")}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=600)
    record_time(script.name, time.perf_counter() - start)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()
