"""The model options every model-using command takes, and the settings overrides they make."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["MODEL_OPTIONS", "Subparsers", "add_model_options", "add_profile_option", "overrides"]

MODEL_OPTIONS = ("backend", "model", "n_ctx", "n_gpu_layers", "temperature", "max_tokens", "seed")
"""Settings names the options override."""


def add_model_options(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--backend``, ``--model`` ... to ``p``; returns ``p``."""
    g = p.add_argument_group("model options (override LLAMA_TOOLKIT_* settings)")
    g.add_argument(
        "--backend", choices=["auto", "llamacpp", "ollama", "openai"], help="model backend (default: auto)"
    )
    g.add_argument("--model", "-m", help="GGUF path (llamacpp) or Ollama tag such as llama3.2")
    g.add_argument("--n-ctx", type=int, help="context window in tokens")
    g.add_argument("--n-gpu-layers", type=int, help="layers offloaded to the GPU (-1 all, 0 none)")
    g.add_argument("--temperature", "-t", type=float, help="sampling temperature")
    g.add_argument("--max-tokens", type=int, help="most tokens per answer")
    g.add_argument("--seed", type=int, help="sampling seed for repeatable answers")
    return p


def add_profile_option(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``--profile`` (where the time went, printed on stderr after the command); returns ``p``."""
    p.add_argument(
        "--profile",
        action="store_true",
        help="print where the time went on stderr: load, read, prompt evaluation, decoding, "
        "embedding and store time, and their rates",
    )
    return p


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The model options given on the command line, as ``get_settings`` overrides."""
    return {n: getattr(args, n) for n in MODEL_OPTIONS if getattr(args, n, None) is not None}


Subparsers = argparse._SubParsersAction  # the object ``add_subparsers`` returns; commands add to it
