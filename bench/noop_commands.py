"""Wall time of CLI commands that find nothing to do: what a user waits for at the prompt.

In a fresh data folder, 5 small Markdown files are ingested once; then each command runs
``--runs`` times as a new process (``python -m toolkit``), round robin, and the median wall
time of each is printed:

  ingest (no-op)      ``ingest FOLDER`` again, every file unchanged: answered from the
                      store's manifest, without importing chromadb (issue 17);
  ingest (full path)  the same with the manifest deleted first: chromadb opens the store and
                      checks each file, the path every no-op ingest took before issue 17;
  index list          collection names read from Chroma's SQLite file;
  doctor, --help      for scale.

Also printed: ``python -c pass`` (the interpreter alone) and ``import chromadb`` alone, the
floor and what the fast paths avoid. Target: no-op ingest and ``index list`` <= 1.0 s each.
Nothing here asserts on time; the machine may be shared.

    python bench/noop_commands.py
    python bench/noop_commands.py --runs 9
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(argv: list[str], env: dict[str, str], *, ok: tuple[int, ...] = (0,)) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="noop-bench-"))
    try:
        folder = tmp / "docs"
        folder.mkdir()
        for i in range(5):
            (folder / f"note-{i}.md").write_text(
                f"# Note {i}\n\n" + f"Paragraph {i} about the quarterly plan and its budget. " * 40,
                encoding="utf-8",
            )
        env = {**os.environ, "LLAMA_TOOLKIT_DATA_DIR": str(tmp / "data"), "NO_COLOR": "1"}
        env.pop("LLAMA_TOOLKIT_CHROMA_PATH", None)
        env.pop("LLAMA_TOOLKIT_CHROMA_HOST", None)
        cli = [sys.executable, "-m", "toolkit"]
        run([*cli, "ingest", str(folder)], env)  # the first ingest: not timed
        manifests = tmp / "data" / "chroma"

        def full_path() -> float:
            for manifest in manifests.glob(".llama-toolkit.manifest.*.json"):
                manifest.unlink()
            elapsed = run([*cli, "ingest", str(folder)], env)  # it writes the manifest again
            return elapsed

        commands = {
            "ingest (no-op, manifest)": lambda: run([*cli, "ingest", str(folder)], env),
            "ingest (no-op, full path)": full_path,
            "index list": lambda: run([*cli, "index", "list"], env),
            "doctor": lambda: run([*cli, "doctor"], env, ok=(0, 1)),
            "--help": lambda: run([*cli, "--help"], env),
            "python -c pass": lambda: run([sys.executable, "-c", "pass"], env),
            "python -c 'import chromadb'": lambda: run([sys.executable, "-c", "import chromadb"], env),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, command in commands.items():
                times[name].append(command())
        if not list(manifests.glob(".llama-toolkit.manifest.*.json")):
            raise SystemExit("no manifest after ingest: the no-op rows did not take the fast path")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"5 files, {args.runs} runs each, round robin; wall time of a new process\n")
    print("| command | median s | min s | max s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} | {min(values):.2f} | {max(values):.2f} |")
    noop, listing = (
        statistics.median(times["ingest (no-op, manifest)"]),
        statistics.median(times["index list"]),
    )
    print(f"\nno-op ingest {noop:.2f} s, index list {listing:.2f} s (target <= 1.0 s each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
