"""``llama-toolkit doctor`` (what the toolkit would use, and whether it works) and
``llama-toolkit models`` (the models you can use)."""

from __future__ import annotations

import argparse
import sys

from toolkit.cli.options import Subparsers, add_model_options, overrides

__all__ = ["register", "run_doctor_command", "run_models_command"]


def register(sub: Subparsers) -> None:
    """Add ``doctor`` and ``models`` to the CLI's sub-parsers."""
    doctor = sub.add_parser(
        "doctor",
        help="show backend, model, context, GPU and Ollama facts",
        description="Show what the toolkit would use and whether it works here.",
    )
    add_model_options(doctor).set_defaults(handler=run_doctor_command)

    models = sub.add_parser(
        "models",
        help="list the models you can use",
        description="List the embedded model, GGUF files in the data folder "
        "and the models pulled on the Ollama server.",
    )
    add_model_options(models).set_defaults(handler=run_models_command)


def run_doctor_command(args: argparse.Namespace) -> int:
    """``doctor``; returns the exit code."""
    from toolkit.backends.doctor import run_doctor

    return run_doctor(overrides(args), sys.stdout)


def run_models_command(args: argparse.Namespace) -> int:
    """``models``; returns the exit code."""
    from toolkit.backends.doctor import run_models

    return run_models(overrides(args), sys.stdout)
