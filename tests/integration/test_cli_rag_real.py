"""``llama-toolkit ingest``, ``index`` and ``ask --rag`` as a user runs them: real embedder,
real Chroma store in the data folder, real embedded chat model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXE = Path(sys.executable).with_name("llama-toolkit")


def run(*args: str, data: Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_") and k != "OLLAMA_HOST"}
    env.update(LLAMA_TOOLKIT_DATA_DIR=str(data), LLAMA_TOOLKIT_MAX_TOKENS="96")
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=timeout)


def test_ingest_ask_with_citations_list_stats_and_delete(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.md").write_text(
        "# Bike repair cafe\n\nThe bike repair cafe opens on Saturdays from 10 am to 2 pm. "
        "Volunteers fix punctures, brakes and gears.",
        encoding="utf-8",
    )
    (docs / "library.txt").write_text(
        "The library lends up to 8 books for three weeks. Late returns cost 20 cents per day.",
        encoding="utf-8",
    )
    (docs / "broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    data = tmp_path / "data"

    first = run("ingest", str(docs), "--collection", "notes", data=data)
    assert first.returncode == 0, first.stderr
    assert "2 added" in first.stdout and "1 failed" in first.stdout
    assert "broken.txt" in first.stderr and "binary" in first.stderr
    again = run("ingest", str(docs), "--collection", "notes", data=data)
    assert "2 unchanged" in again.stdout and "0 added" in again.stdout

    listed = run("index", "list", data=data)
    assert listed.returncode == 0 and "notes" in listed.stdout.split()
    stats = run("index", "stats", "notes", data=data)
    assert stats.returncode == 0 and "all-MiniLM-L6-v2-onnx-int8" in stats.stdout

    ask = run(
        "ask",
        "--rag",
        "--collection",
        "notes",
        "--temperature",
        "0",
        "When does the bike repair cafe open?",
        data=data,
    )
    assert ask.returncode == 0, ask.stderr
    answer, _, sources = ask.stdout.partition("\nSources:\n")
    assert answer.strip()
    assert "[1]" in sources and "bikes.md" in sources.splitlines()[0]

    off_topic = run(
        "ask", "--rag", "--collection", "notes", "What is the boiling point of mercury?", data=data
    )
    assert off_topic.returncode == 0 and "know" in off_topic.stdout.lower()

    deleted = run("index", "delete", "notes", data=data)
    assert deleted.returncode == 0
    missing = run("index", "delete", "notes", data=data)
    assert (
        missing.returncode == 1 and missing.stderr.startswith("error: ") and missing.stderr.count("\n") == 1
    )
