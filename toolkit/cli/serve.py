"""``llama-toolkit serve``: the OpenAI-compatible API (``/v1/chat/completions`` ...) on one model."""

from __future__ import annotations

import argparse

from toolkit.cli.options import Subparsers, add_model_options, overrides

__all__ = ["register", "run_serve_command"]


def register(sub: Subparsers) -> None:
    """Add ``serve`` to the CLI's sub-parsers."""
    p = sub.add_parser(
        "serve",
        help="serve an OpenAI-compatible API (chat, embeddings, models)",
        description="Serve /v1/chat/completions, /v1/embeddings, /v1/models and /health on one loaded "
        "model. A non-loopback --host needs LLAMA_TOOLKIT_API_KEY.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to bind (default: 8000)")
    add_model_options(p).set_defaults(handler=run_serve_command)


def run_serve_command(args: argparse.Namespace) -> int:
    """Run ``serve`` until interrupted; returns the exit code."""
    from toolkit.server.run import check_host, serve
    from toolkit.settings import get_settings

    settings = get_settings(**overrides(args))
    check_host(args.host, settings)
    serve(settings, host=args.host, port=args.port)
    return 0
