"""Issue 14's transcripts, run for real: ``bench/auto_backend_transcripts.py`` checks each step
(Ollama with llama3.2 -> Ollama; without -> embedded with the hint; after ``pull`` from a
loopback hub -> the GGUF) and exits non-zero if one fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "auto_backend_transcripts.py"


def test_auto_backend_transcripts() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=900)
    checks = proc.stdout[proc.stdout.find("## checks") :]
    assert proc.returncode == 0, checks or proc.stderr[-3000:]
    assert checks.count("ok   ") == 10 and "FAIL" not in checks
