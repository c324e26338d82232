"""Facts about the configured backend, for ``llama-toolkit doctor`` and the UI."""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from toolkit.errors import ToolkitError
from toolkit.settings import Settings, get_settings

__all__ = ["collect_facts", "run_doctor", "run_models"]

Facts = dict[str, Any]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def collect_facts(settings: Settings) -> Facts:
    """What the toolkit would use with ``settings`` and whether it works; never raises.

    Args:
        settings: The configuration to check.

    Returns:
        Display name -> value, in display order, plus ``"ok"``: whether the configured
        backend and model are ready.
    """
    facts: Facts = {
        "llama-toolkit": _version("llama-toolkit"),
        "python": f"{platform.python_version()} ({sys.executable})",
        "llama-cpp-python": _version("llama-cpp-python"),
        "backend": settings.backend,
        "data folder": str(settings.data_dir),
        "ok": True,
    }
    settings = _auto_facts(facts, settings)
    gpu = _hardware_facts(facts)
    try:
        model: str | None = settings.resolved_model()
    except ToolkitError as exc:
        facts.update(model=f"unavailable: {exc}", ok=False)
        model = None
    if settings.backend == "llamacpp" and model:
        _llamacpp_facts(facts, settings, model, gpu)
    if settings.backend == "openai":
        _openai_facts(facts, settings, model)
    _ollama_facts(facts, settings, model)
    return facts


def _auto_facts(facts: Facts, settings: Settings) -> Settings:
    """For ``backend = auto``: show what it chose and why; the settings it resolves to."""
    if settings.backend != "auto":
        return settings
    from toolkit.backends.auto import HINT, choose_backend, resolve_settings

    try:
        choice = choose_backend(settings, notice=False)
    except ToolkitError as exc:
        facts.update(backend=f"auto - {exc}", ok=False)
        return settings.model_copy(update={"backend": "llamacpp"})
    facts["backend"] = f"auto -> {choice.backend}"
    facts["why"] = choice.reason
    if choice.fallback:
        facts["hint"] = HINT
    return resolve_settings(settings, notice=False)


def _openai_facts(facts: Facts, settings: Settings, model: str | None) -> None:
    """Add the OpenAI-compatible server's URL, whether it answers and what it serves."""
    facts["base URL"] = settings.base_url or "unset (set LLAMA_TOOLKIT_BASE_URL)"
    facts["model"] = model or "the server's first model"
    if not settings.base_url:
        facts["ok"] = False
        return
    try:
        from toolkit.backends.openai import list_openai_models

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        served = list_openai_models(settings.base_url, key, timeout=3.0)
        facts["server models"] = ", ".join(served) or "none listed"
        if model and model not in served:
            facts["model"] = f"{model} - not served at {settings.base_url}"
            facts["ok"] = False
    except (ToolkitError, ImportError) as exc:
        facts["server models"] = str(exc)
        facts["ok"] = False


def _hardware_facts(facts: Facts) -> bool:
    """Add llama.cpp's GPU backend and the core count; whether GPU offload is possible."""
    try:
        from toolkit.hardware import gpu_offload_supported, physical_cores

        gpu = gpu_offload_supported()
        facts["llama.cpp GPU backend"] = "yes" if gpu else "no (CPU build; see README 'GPU offload')"
        facts["physical cores"] = physical_cores()
    except ImportError as exc:
        facts["llama.cpp GPU backend"] = f"llama-cpp-python not importable: {exc}"
        return False
    return gpu


def _llamacpp_facts(facts: Facts, settings: Settings, model: str, gpu: bool) -> None:
    """Add what the GGUF file says and what llama.cpp would use of it."""
    facts["model"] = model
    try:
        from toolkit.backends.context import resolve_n_ctx
        from toolkit.gguf import read_gguf_info

        info = read_gguf_info(model)
        facts["model name"] = f"{info.name} ({info.architecture})"
        facts["model size"] = f"{Path(model).stat().st_size / 2**20:.0f} MiB"
        facts["trained context"] = info.context_length
        facts["context in effect"] = resolve_n_ctx(info, settings.n_ctx, settings.kv_cache_budget_mb)
        facts["RoPE freq base (from GGUF)"] = info.rope_freq_base
        facts["chat template"] = (
            "from GGUF" if info.chat_template else "missing (set LLAMA_TOOLKIT_CHAT_TEMPLATE)"
        )
        if settings.chat_template:
            facts["chat template"] = "LLAMA_TOOLKIT_CHAT_TEMPLATE"
    except ToolkitError as exc:
        facts.update(model=f"{model} - {exc}", ok=False)
    layers = settings.n_gpu_layers if settings.n_gpu_layers is not None else (-1 if gpu else 0)
    facts["GPU offload in effect"] = {-1: "all layers", 0: "none (CPU)"}.get(layers, f"{layers} layers")
    facts["threads"] = settings.n_threads or facts.get("physical cores")


def _ollama_facts(facts: Facts, settings: Settings, model: str | None) -> None:
    """Add whether the Ollama server answers, what it has pulled, and (for the ollama
    backend) whether it has the model."""
    facts["Ollama host"] = settings.ollama_host
    try:
        from toolkit.backends.ollama import list_ollama_models

        pulled = list_ollama_models(settings.ollama_host, timeout=3.0)
        facts["Ollama"] = "reachable"
        facts["Ollama models"] = ", ".join(pulled) or "none pulled (ollama pull llama3.2)"
        if settings.backend == "ollama" and model:
            facts["model"] = model
            if not any(p == model or p.startswith(model + ":") for p in pulled):
                facts["model"] = f"{model} - not pulled: run `ollama pull {model}`"
                facts["ok"] = False
    except ToolkitError as exc:
        facts["Ollama"] = str(exc)
        if settings.backend == "ollama":
            facts["model"] = model
            facts["ok"] = False


def run_doctor(overrides: dict[str, Any], out: TextIO) -> int:
    """Write the facts for the settings ``overrides`` give to ``out``, one per line.

    Returns:
        The exit code: 0 when ready, 1 when not.
    """
    facts = collect_facts(get_settings(**overrides))
    ok = facts.pop("ok")
    width = max(len(k) for k in facts)
    for key, value in facts.items():
        out.write(f"{key:<{width}}  {value}\n")
    out.write(f"{'status':<{width}}  {'ready' if ok else 'NOT READY - see above'}\n")
    return 0 if ok else 1


def run_models(overrides: dict[str, Any], out: TextIO) -> int:
    """Write every model the toolkit can use to ``out``: embedded, GGUF files, Ollama's.

    The one ``backend = auto`` would use is marked ``<- auto``, and the last line says why.

    Returns:
        The exit code (0: an unreachable Ollama is reported, not a failure).
    """
    settings = get_settings(**overrides)
    from toolkit.backends.auto import choose_backend
    from toolkit.embedded import embedded_model_path

    picked: tuple[str, str] | None = None
    try:
        choice = choose_backend(settings, notice=False)
        picked = (choice.backend, choice.model)
        why = f"auto picks           {choice.backend} {choice.model} ({choice.reason})\n"
    except ToolkitError as exc:
        why = f"auto picks           nothing: {exc}\n"

    def mark(backend: str, model: str) -> str:
        return "  <- auto" if picked == (backend, model) else ""

    try:
        embedded = str(embedded_model_path())
        out.write(f"embedded (llamacpp)  {embedded}{mark('llamacpp', embedded)}\n")
    except ToolkitError as exc:
        out.write(f"embedded (llamacpp)  missing: {exc}\n")
    folder = settings.data_dir / "models"
    for path in sorted(folder.glob("*.gguf")) if folder.is_dir() else []:
        out.write(f"gguf (llamacpp)      {path}{mark('llamacpp', str(path))}\n")
    from toolkit.backends.ollama import list_ollama_models

    try:
        pulled = list_ollama_models(settings.ollama_host, timeout=3.0)
    except ToolkitError as exc:
        out.write(f"ollama               {exc}\n")
        pulled = None
    for name in pulled or []:
        out.write(f"ollama               {name}{mark('ollama', name)}\n")
    if pulled == []:
        out.write(
            f"ollama               none pulled at {settings.ollama_host} - run `ollama pull llama3.2`\n"
        )
    out.write(why)
    return 0
