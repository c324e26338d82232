"""What ``llama-toolkit pull`` can fetch: the Llama 3.2 names, their Ollama tags and hub files.

``llama3.2`` is ``llama3.2:3b``: Ollama's default ``llama3.2`` tag is the 3B Instruct model.
The hub files come from bartowski's GGUF repositories, named
``Llama-3.2-{1B,3B}-Instruct-{QUANT}.gguf``.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.errors import ConfigurationError

__all__ = ["DEFAULT_QUANT", "HUB_QUANTS", "OLLAMA_QUANTS", "PullTarget", "resolve_target"]

DEFAULT_QUANT = "Q4_K_M"
HUB_QUANTS = (
    "f16",
    "Q8_0",
    "Q6_K_L",
    "Q6_K",
    "Q5_K_L",
    "Q5_K_M",
    "Q5_K_S",
    "Q4_K_L",
    "Q4_K_M",
    "Q4_K_S",
    "Q4_0",
    "IQ4_XS",
    "Q3_K_XL",
    "Q3_K_L",
    "IQ3_M",
)
"""The quantizations the bartowski Llama 3.2 GGUF repositories carry."""
OLLAMA_QUANTS = {
    "f16": "fp16",
    "Q8_0": "q8_0",
    "Q6_K": "q6_K",
    "Q5_K_M": "q5_K_M",
    "Q5_K_S": "q5_K_S",
    "Q4_K_M": "q4_K_M",
    "Q4_K_S": "q4_K_S",
    "Q4_0": "q4_0",
}
"""Hub quant -> the quant suffix of Ollama's ``llama3.2:{1b,3b}-instruct-<quant>`` tags."""
_SIZES = {"": "3B", "3b": "3B", "1b": "1B", "latest": "3B"}


@dataclass(frozen=True)
class PullTarget:
    """One Llama 3.2 model to pull, named for both sources.

    Attributes:
        size: ``1B`` or ``3B``.
        quant: The quantization, e.g. ``Q4_K_M``; ``None`` when the user named none.
        ollama_tag: The tag to ask Ollama for; ``None`` when Ollama has no tag for ``quant``.
        repo_id: The hub repository of the GGUF files.
        filename: The GGUF file in ``repo_id`` (and in ``<data_dir>/models`` after the pull).
    """

    size: str
    quant: str | None
    ollama_tag: str | None
    repo_id: str
    filename: str


def _canonical_quant(quant: str) -> str:
    by_upper = {q.upper(): q for q in HUB_QUANTS}
    found = by_upper.get(quant.strip().upper())
    if found is None:
        raise ConfigurationError(
            f"unknown quantization {quant!r} - choose one of {', '.join(HUB_QUANTS)} (default {DEFAULT_QUANT})"
        )
    return found


def resolve_target(name: str, quant: str | None = None) -> PullTarget:
    """The model ``name`` (``llama3.2``, ``llama3.2:1b``, ``llama3.2:3b``) at ``quant``.

    Args:
        name: The model as the user typed it.
        quant: A quantization from :data:`HUB_QUANTS` (any case), or ``None`` for the default.

    Raises:
        ConfigurationError: Not a Llama 3.2 text model this command knows, or an unknown quant.
    """
    base, _, tag = name.strip().lower().partition(":")
    if base != "llama3.2" or tag not in _SIZES:
        raise ConfigurationError(
            f"cannot pull {name!r} - choose llama3.2 (= llama3.2:3b) or llama3.2:1b, optionally with --quant"
        )
    size = _SIZES[tag]
    canonical = _canonical_quant(quant) if quant else None
    if canonical is None:
        ollama_tag: str | None = "llama3.2" if tag in ("", "latest") else f"llama3.2:{tag}"
    elif canonical in OLLAMA_QUANTS:
        ollama_tag = f"llama3.2:{size.lower()}-instruct-{OLLAMA_QUANTS[canonical]}"
    else:
        ollama_tag = None
    hub_quant = canonical or DEFAULT_QUANT
    return PullTarget(
        size=size,
        quant=canonical,
        ollama_tag=ollama_tag,
        repo_id=f"bartowski/Llama-3.2-{size}-Instruct-GGUF",
        filename=f"Llama-3.2-{size}-Instruct-{hub_quant}.gguf",
    )
