"""Fetch Llama 3.2 test data from the llama-cpp-python sdist on PyPI, once, into a cache.

The sdist carries llama.cpp's reference chat templates and vocab-only GGUFs. We take
Llama 3.2's chat template and Llama 3's tokenizer (``ggml-vocab-llama-bpe.gguf``) to test
the real Llama 3.2 prompt format without committing files from another package.

Usage: ``python tests/fetch_test_data.py`` prints the cache folder.
Cache: ``$TOOLKIT_TEST_DATA_DIR`` or ``~/.cache/llama-toolkit/test-data``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
from importlib import metadata
from pathlib import Path

WANTED = {
    "vendor/llama.cpp/models/templates/meta-llama-Llama-3.2-3B-Instruct.jinja": "llama-3.2-3b-instruct.jinja",
    "vendor/llama.cpp/models/ggml-vocab-llama-bpe.gguf": "ggml-vocab-llama-bpe.gguf",
}


def cache_dir() -> Path:
    env = os.environ.get("TOOLKIT_TEST_DATA_DIR")
    base = Path(env) if env else Path.home() / ".cache" / "llama-toolkit" / "test-data"
    return base / f"llama-cpp-python-{metadata.version('llama-cpp-python')}"


def ensure_test_data() -> Path:
    """Return the folder holding the files in ``WANTED``, downloading the sdist if needed."""
    folder = cache_dir()
    if all((folder / name).is_file() for name in WANTED.values()):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    version = metadata.version("llama-cpp-python")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            "--dest",
            tmp,
            f"llama-cpp-python=={version}",
        ]
        subprocess.run(cmd, check=True)
        (sdist,) = Path(tmp).glob("*.tar.gz")
        with tarfile.open(sdist) as tar:
            for member in tar.getmembers():
                rel = member.name.split("/", 1)[-1]
                if rel in WANTED:
                    src = tar.extractfile(member)
                    assert src is not None
                    (folder / WANTED[rel]).write_bytes(src.read())
    missing = [n for n in WANTED.values() if not (folder / n).is_file()]
    if missing:
        raise RuntimeError(f"llama-cpp-python {version} sdist lacks {missing}")
    return folder


if __name__ == "__main__":
    print(ensure_test_data())
