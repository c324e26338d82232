"""A second process on an embedded Chroma store, for ``test_store.py``.

python store_process.py hold FOLDER SECONDS READY_FILE   # take the write lock, say so, sleep
python store_process.py ingest FOLDER COLLECTION FILE     # ingest one file with the fake embedder
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from langchain_core.embeddings import DeterministicFakeEmbedding


def fake_embedder() -> DeterministicFakeEmbedding:
    """The same deterministic (sha256-seeded) embedder as the test process."""
    return DeterministicFakeEmbedding(size=32)


def main(argv: list[str]) -> int:
    mode, folder = argv[0], Path(argv[1])
    if mode == "hold":
        from retrievers._storelock import write_lock

        folder.mkdir(parents=True, exist_ok=True)
        with write_lock(folder, timeout=5.0):
            Path(argv[3]).write_text("locked", encoding="utf-8")
            time.sleep(float(argv[2]))
        return 0
    if mode == "ingest":
        from retrievers.ingestion import ingest
        from retrievers.store import DocumentIndex

        index = DocumentIndex(argv[2], embeddings=fake_embedder(), path=folder)
        print(ingest([argv[3]], index).summary())
        return 0
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
