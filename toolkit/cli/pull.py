"""``llama-toolkit pull``: get Llama 3.2 through Ollama, or its GGUF from the Hugging Face hub."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from toolkit.cli.options import Subparsers

__all__ = ["TqdmProgress", "register", "run_pull_command"]


def register(sub: Subparsers) -> None:
    """Add ``pull`` to the CLI's sub-parsers."""
    p = sub.add_parser(
        "pull",
        help="download Llama 3.2 (through Ollama, else from the Hugging Face hub)",
        description="Pull llama3.2 (= llama3.2:3b) or llama3.2:1b. With Ollama reachable it pulls "
        "the tag through Ollama; otherwise it downloads the GGUF from the Hugging Face hub "
        "(HF_ENDPOINT, HF_TOKEN honoured; resumable; sha256 checked) into <data_dir>/models.",
    )
    p.add_argument("model", help="llama3.2, llama3.2:1b or llama3.2:3b")
    p.add_argument("--quant", help="quantization, e.g. Q4_K_M (the hub default), Q5_K_M, Q6_K, Q8_0")
    p.add_argument(
        "--via",
        choices=["ollama", "hub"],
        help="force the source (default: Ollama when it answers, else the hub)",
    )
    p.set_defaults(handler=run_pull_command)


class TqdmProgress:
    """A ``progress(label, done, total)`` callback drawing one tqdm bar per label on ``file``."""

    def __init__(self, file: TextIO | None = None) -> None:
        self.file = file or sys.stderr
        self._bar: Any = None
        self._label = ""

    def __call__(self, label: str, done: int, total: int) -> None:
        from tqdm.auto import tqdm

        if not total:  # a step without a size (``pulling manifest``): one line, once
            if label != self._label:
                self.close()
                self._label = label
                tqdm.write(label, file=self.file)
            return
        if label != self._label or (self._bar is not None and total and self._bar.total != total):
            self.close()
            self._label = label
            self._bar = tqdm(
                total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=self.file
            )
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        """Close the bar on screen, if any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run_pull_command(args: argparse.Namespace) -> int:
    """``pull``; returns the exit code."""
    from toolkit.backends.pull import pull_model
    from toolkit.settings import get_settings

    bar = TqdmProgress()
    try:
        result = pull_model(
            args.model, get_settings(), quant=args.quant, via=args.via or "auto", progress=bar
        )
    finally:
        bar.close()
    print(result.summary)
    return 0
