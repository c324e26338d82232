"""``backend = "auto"``: Llama 3.2 when the machine has it, the embedded model when not.

The order, first match wins:

1. ``LLAMA_TOOLKIT_MODEL`` names a GGUF file -> llama.cpp with that file.
2. An Ollama server answers at the configured host within ``ollama_probe_timeout`` and has
   a Llama 3.2 tag pulled (the configured tag, else ``llama3.2:latest``, ``llama3.2:3b``,
   ``llama3.2:1b``, then any other ``llama3.2:*``; never ``llama3.2-vision``) -> Ollama.
3. A Llama 3.2 GGUF in ``<data_dir>/models`` (``llama-toolkit pull`` puts them there), by its
   file name or its GGUF metadata -> llama.cpp with it: Instruct files first, then the
   smallest, then in name order.
4. The embedded SmolLM2-135M, with one line on stderr saying so and how to get Llama 3.2.

The choice is made once per process for the same settings and cached.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import GenerationTimeoutError, OllamaUnreachableError, ToolkitError
from toolkit.settings import ConcreteBackend, Settings

__all__ = [
    "BackendChoice",
    "choose_backend",
    "clear_backend_cache",
    "find_llama32_gguf",
    "pick_llama32_tag",
    "resolve_settings",
]

HINT = "Get Llama 3.2: llama-toolkit pull llama3.2"
_PREFERRED_TAGS = ("llama3.2:latest", "llama3.2", "llama3.2:3b", "llama3.2:1b")
_GGUF_NAME = re.compile(r"llama[-_ .]?3\.2", re.IGNORECASE)


@dataclass(frozen=True)
class BackendChoice:
    """What ``auto`` chose, and why.

    Attributes:
        backend: ``llamacpp`` or ``ollama``.
        model: The GGUF path or the Ollama tag.
        reason: One line saying why, for ``doctor``, the web app and the fallback notice.
        fallback: True when no Llama 3.2 was found and the embedded model is used.
    """

    backend: ConcreteBackend
    model: str
    reason: str
    fallback: bool = False


_cache: dict[tuple[str, str, str, float], BackendChoice] = {}
_lock = threading.Lock()
_warned: set[str] = set()  # holds "once" after the one fallback line of this process


def clear_backend_cache() -> None:
    """Forget the cached choices (for tests, or after ``pull``)."""
    with _lock:
        _cache.clear()
        _warned.clear()


def _looks_like_path(model: str) -> bool:
    return model.lower().endswith(".gguf") or "/" in model or "\\" in model or Path(model).is_file()


def pick_llama32_tag(pulled: list[str], configured: str | None = None) -> str | None:
    """The Llama 3.2 tag to use among the ``pulled`` Ollama models, or ``None``.

    Args:
        pulled: Tags the server lists, e.g. ``["llama3.2:latest", "qwen2.5:0.5b"]``.
        configured: A tag the user configured; it wins when pulled (with or without
            ``:latest``), and then only it is accepted.
    """
    names = set(pulled)
    if configured:
        for tag in (configured, f"{configured}:latest"):
            if tag in names:
                return tag
        return None
    for tag in _PREFERRED_TAGS:
        if tag in names:
            return tag
    others = sorted(p for p in pulled if p.startswith("llama3.2:") and "vision" not in p.lower())
    return others[0] if others else None


def _says_llama32(path: Path) -> bool:
    """Whether the file's name, or its GGUF ``general.name``/``general.basename``, says Llama 3.2."""
    if "vision" in path.name.lower():
        return False
    if _GGUF_NAME.search(path.name):
        return True
    from toolkit.gguf import read_gguf_info

    try:
        meta = read_gguf_info(path).metadata
    except ToolkitError:  # a damaged or foreign file is simply not a candidate
        return False
    names = " ".join(str(meta.get(key, "")) for key in ("general.name", "general.basename"))
    return bool(_GGUF_NAME.search(names)) and "vision" not in names.lower()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def find_llama32_gguf(folder: Path) -> Path | None:
    """A Llama 3.2 GGUF in ``folder``, or ``None``.

    A file counts when its name (``llama-3.2``, ``llama3.2``, any case) or its GGUF
    metadata (``general.name``/``general.basename``) says Llama 3.2. Instruct files come
    first, then smaller files (smaller model or quant), then name order.
    """
    try:
        files = [p for p in folder.iterdir() if p.suffix.lower() == ".gguf" and p.is_file()]
    except OSError:
        return None
    matches = [p for p in files if _says_llama32(p)]
    matches.sort(key=lambda p: ("instruct" not in p.name.lower(), _size(p), p.name.lower()))
    return matches[0] if matches else None


def _probe_ollama(settings: Settings, configured: str | None) -> tuple[str | None, str]:
    """The Llama 3.2 tag Ollama has, and a short account of the probe (names the host)."""
    from toolkit.backends.ollama import list_ollama_models

    host = settings.ollama_host
    try:
        pulled = list_ollama_models(host, timeout=settings.ollama_probe_timeout)
    except OllamaUnreachableError:
        return None, f"none answers at {host}"
    except GenerationTimeoutError:
        return None, f"{host} did not answer within {settings.ollama_probe_timeout:g} s"
    except ToolkitError as exc:
        return None, f"{host} is unusable ({str(exc).split(' - ')[0]})"
    tag = pick_llama32_tag(pulled, configured)
    if tag:
        return tag, f"{host} has {tag}"
    return None, f"{host} has no {configured or 'llama3.2'} pulled"


def _decide(settings: Settings) -> BackendChoice:
    configured = settings.model
    if configured and _looks_like_path(configured):
        # An explicit GGUF file is the user's choice: no probe can overrule it.
        return BackendChoice("llamacpp", configured, f"LLAMA_TOOLKIT_MODEL is a GGUF file: {configured}")
    tag, ollama_why = _probe_ollama(settings, configured)
    if tag:
        return BackendChoice("ollama", tag, f"Ollama at {ollama_why}")
    folder = settings.data_dir / "models"
    gguf = find_llama32_gguf(folder)
    if gguf is not None:
        return BackendChoice("llamacpp", str(gguf), f"Ollama: {ollama_why}; Llama 3.2 GGUF found in {folder}")
    from toolkit.embedded import embedded_model_path

    return BackendChoice(
        "llamacpp",
        str(embedded_model_path()),
        f"no Llama 3.2 found (Ollama: {ollama_why}; no GGUF in {folder}): using the embedded SmolLM2-135M",
        fallback=True,
    )


def choose_backend(settings: Settings, *, notice: bool = True) -> BackendChoice:
    """What ``auto`` picks for ``settings`` (see the module docstring); cached per process.

    Args:
        settings: The configuration; its ``backend`` is not read.
        notice: On falling back to the embedded model, write one line to stderr saying so and
            how to get Llama 3.2 (once per process).

    Raises:
        ModelNotFoundError: the fallback is needed and the embedded model is not installed.
    """
    key = (settings.ollama_host, settings.model or "", str(settings.data_dir), settings.ollama_probe_timeout)
    with _lock:
        choice = _cache.get(key)
    if choice is None:
        choice = _decide(settings)
        with _lock:
            _cache[key] = choice
    if choice.fallback and notice:
        with _lock:
            first = not _warned
            _warned.add("once")
        if first:
            sys.stderr.write(f"llama-toolkit: {choice.reason}. {HINT}\n")
            sys.stderr.flush()
    return choice


def resolve_settings(settings: Settings, *, notice: bool = True) -> Settings:
    """``settings`` with ``auto`` replaced by the chosen backend and model; others unchanged."""
    if settings.backend != "auto":
        return settings
    choice = choose_backend(settings, notice=notice)
    return settings.model_copy(update={"backend": choice.backend, "model": choice.model})
