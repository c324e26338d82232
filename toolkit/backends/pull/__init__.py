"""``llama-toolkit pull``: get Llama 3.2 onto this machine, through Ollama or from the hub.

:func:`pull_model` chooses the source: a reachable Ollama (the settings' host, probed within
``ollama_probe_timeout``) pulls the tag itself; otherwise the GGUF comes from the Hugging
Face hub into ``<data_dir>/models``, where ``backend=auto`` finds it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from toolkit.backends.pull.hub import (
    DEFAULT_ENDPOINT,
    HubFile,
    Progress,
    download_from_hub,
    file_sha256,
    hub_endpoint,
)
from toolkit.backends.pull.names import DEFAULT_QUANT, HUB_QUANTS, OLLAMA_QUANTS, PullTarget, resolve_target
from toolkit.backends.pull.via_ollama import ollama_pull
from toolkit.errors import ConfigurationError, ToolkitError
from toolkit.settings import Settings

__all__ = [
    "DEFAULT_ENDPOINT",
    "DEFAULT_QUANT",
    "HUB_QUANTS",
    "OLLAMA_QUANTS",
    "HubFile",
    "Progress",
    "PullResult",
    "PullTarget",
    "Via",
    "download_from_hub",
    "file_sha256",
    "hub_endpoint",
    "models_dir",
    "ollama_pull",
    "pull_model",
    "resolve_target",
]

Via = Literal["auto", "ollama", "hub"]


@dataclass(frozen=True)
class PullResult:
    """What a pull did.

    Attributes:
        via: ``ollama`` or ``hub``.
        model: The Ollama tag, or the GGUF path in the models folder.
        downloaded: False when a hub file was already present and verified.
        summary: One line for the user: where the model is and that ``doctor`` will pick it.
    """

    via: Literal["ollama", "hub"]
    model: str
    downloaded: bool
    summary: str


def models_dir(settings: Settings) -> Path:
    """``<data_dir>/models``: where hub pulls go and where ``backend=auto`` looks for a GGUF."""
    return Path(settings.data_dir) / "models"


def _ollama_answers(settings: Settings) -> str:
    """Empty if Ollama answers at the settings' host, else why not (one line)."""
    from toolkit.backends.ollama import list_ollama_models

    try:
        list_ollama_models(settings.ollama_host, timeout=settings.ollama_probe_timeout)
    except ToolkitError as exc:
        return str(exc).split(" - ")[0]
    return ""


def pull_model(
    name: str,
    settings: Settings,
    *,
    quant: str | None = None,
    via: Via = "auto",
    progress: Progress | None = None,
) -> PullResult:
    """Pull ``name`` (``llama3.2``, ``llama3.2:1b``, ``llama3.2:3b``).

    Args:
        name: The model.
        settings: Where Ollama is (``ollama_host``, ``ollama_probe_timeout``) and the data folder.
        quant: A quantization from :data:`HUB_QUANTS`; default: Ollama's tag, or ``Q4_K_M`` on the hub.
        via: ``ollama``, ``hub``, or ``auto``: Ollama when it answers, else the hub.
        progress: Called with ``(label, done, total)``.

    Raises:
        ConfigurationError: An unknown model or quant, or a quant Ollama has no tag for with ``via="ollama"``.
        OllamaUnreachableError: ``via="ollama"`` and Ollama does not answer.
        ModelDownloadError: The pull failed (one line saying what to do next).
        ChecksumMismatchError: The hub file's bytes do not match its sha256.
    """
    target = resolve_target(name, quant)
    if via == "ollama" and target.ollama_tag is None:
        raise ConfigurationError(
            f"Ollama has no llama3.2 tag for {target.quant} - choose one of {', '.join(OLLAMA_QUANTS)} or use --via hub"
        )
    use_ollama = via == "ollama" or (
        via == "auto" and target.ollama_tag is not None and not _ollama_answers(settings)
    )
    if use_ollama and target.ollama_tag is not None:
        host = settings.ollama_host
        ollama_pull(
            target.ollama_tag,
            host,
            progress=progress,
            connect_timeout=max(settings.ollama_probe_timeout, 1.0),
        )
        return PullResult(
            "ollama",
            target.ollama_tag,
            True,
            f"Ollama at {host} has {target.ollama_tag}; `llama-toolkit doctor` will pick it "
            "(backend=auto uses a Llama 3.2 tag on a reachable Ollama first)",
        )
    folder = models_dir(settings)
    got = download_from_hub(target.repo_id, target.filename, folder, progress=progress)
    if got.downloaded:
        state = "downloaded and verified"
    elif got.verified:
        state = "already present, sha256 verified; nothing downloaded"
    else:
        state = f"already present; not checked again: cannot reach the hub at {hub_endpoint()}"
    return PullResult(
        "hub",
        str(got.path),
        got.downloaded,
        f"{got.path} ({state}); `llama-toolkit doctor` will pick it "
        f"(backend=auto uses a Llama 3.2 GGUF in {folder} when no Ollama has Llama 3.2)",
    )
