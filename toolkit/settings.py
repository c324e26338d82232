"""Configuration: one pydantic-settings object, env prefix ``LLAMA_TOOLKIT_``.

Values come from, in order of precedence: keyword overrides, environment variables,
a ``.env`` file in the working directory, then the defaults below. ``OLLAMA_HOST`` is
honoured as Ollama's own clients honour it.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from toolkit.errors import ConfigurationError

__all__ = [
    "DEFAULT_WORKSPACE_DENY",
    "ENV_PREFIX",
    "Backend",
    "ConcreteBackend",
    "Settings",
    "get_settings",
    "normalize_ollama_host",
]

ENV_PREFIX = "LLAMA_TOOLKIT_"
DEFAULT_OLLAMA_MODEL = "llama3.2"
_OLLAMA_DEFAULT_PORT = 11434

DEFAULT_WORKSPACE_DENY = (
    ".env",
    ".env.*",
    "*.env",
    ".git",
    ".ssh",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    ".netrc",
    ".pgpass",
    ".pypirc",
    ".npmrc",
    ".aws",
    ".azure",
    ".gcloud",
    "gcloud",
    ".kube",
    ".docker",
    ".gnupg",
    "credentials",
    "credentials.json",
    "secrets.toml",
)
"""Names (shell globs, matched against every part of a path) the workspace tools refuse."""

Backend = Literal["auto", "llamacpp", "ollama", "openai"]
ConcreteBackend = Literal["llamacpp", "ollama", "openai"]


def normalize_ollama_host(host: str | None) -> str:
    """Turn an ``OLLAMA_HOST`` value into a base URL, as Ollama's clients do.

    ``""`` -> ``http://127.0.0.1:11434``; ``0.0.0.0`` (a listen address) -> loopback;
    a missing scheme becomes ``http`` and a missing port ``11434``.
    """
    host = (host or "").strip()
    if not host:
        return f"http://127.0.0.1:{_OLLAMA_DEFAULT_PORT}"
    if "://" not in host:
        host = "http://" + host
    parts = urlsplit(host)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"scheme must be http or https, got {parts.scheme!r}")
    hostname = parts.hostname or "127.0.0.1"
    if hostname in ("0.0.0.0", "::"):
        hostname = "127.0.0.1"
    if ":" in hostname:
        hostname = f"[{hostname}]"
    port = parts.port or (443 if parts.scheme == "https" else _OLLAMA_DEFAULT_PORT)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{hostname}:{port}{path}"


class Settings(BaseSettings):
    """Everything the toolkit can be configured with.

    Every field can be set as ``LLAMA_TOOLKIT_<FIELD>`` in the environment or a ``.env``
    file, or passed as a keyword to :func:`get_settings` / ``get_chat_model``.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        validate_default=True,
    )

    backend: Backend = Field(
        "auto",
        description="Model backend: `auto` (Ollama when it has Llama 3.2 pulled, else a Llama 3.2 GGUF in "
        "`<data_dir>/models`, else the embedded model), `llamacpp` (in-process GGUF), `ollama` (server) or "
        "`openai` (any OpenAI-compatible server at `base_url`).",
    )
    model: str | None = Field(
        None,
        description=(
            "GGUF file path (llamacpp), Ollama model tag such as `llama3.2`, or the model name an "
            "OpenAI-compatible server knows. Empty: the embedded SmolLM2-135M for llamacpp, `llama3.2` for "
            "ollama, the server's first listed model for openai; for auto, see `backend`."
        ),
    )
    n_ctx: int | None = Field(
        None,
        ge=256,
        le=131072,
        description=(
            "Context window in tokens. Empty: the model's trained context, capped by `kv_cache_budget_mb`."
        ),
    )
    kv_cache_budget_mb: int = Field(
        2048,
        ge=64,
        le=1_048_576,
        description="Memory the automatic context size may spend on the KV cache, in MiB.",
    )
    n_gpu_layers: int | None = Field(
        None,
        ge=-1,
        description=(
            "Layers offloaded to the GPU: -1 all, 0 none. Empty: all when llama.cpp was built "
            "with a GPU backend, else none."
        ),
    )
    n_threads: int | None = Field(
        None, ge=1, le=512, description="CPU threads for llama.cpp. Empty: physical cores."
    )
    n_batch: int = Field(512, ge=32, le=16384, description="Prompt tokens llama.cpp evaluates per batch.")
    temperature: float = Field(0.7, ge=0.0, le=2.0, description="Sampling temperature.")
    top_p: float = Field(0.95, gt=0.0, le=1.0, description="Nucleus sampling threshold.")
    repeat_penalty: float = Field(
        1.1,
        gt=0.0,
        le=2.0,
        description="Penalty on repeating recent tokens (1.0: none). 1.1, Ollama's default, keeps "
        "small models out of loops.",
    )
    max_tokens: int = Field(512, ge=1, le=131072, description="Most tokens generated for one answer.")
    seed: int | None = Field(
        None, ge=0, le=2**32 - 2, description="Sampling seed for repeatable answers. Empty: random."
    )
    chat_template: str | None = Field(
        None,
        description=(
            "Jinja chat template (text or a file path) used instead of the GGUF's own. "
            "Empty: the template stored in the GGUF."
        ),
    )
    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("llama-toolkit"),
        description="Folder for the Chroma store, chat history and caches.",
    )
    embeddings: str = Field(
        "minilm",
        description=(
            "Embedding model for RAG: `minilm` (offline int8 all-MiniLM-L6-v2), `ollama:<model>` "
            "such as `ollama:nomic-embed-text`, or a path to a GGUF embedding model."
        ),
    )
    chroma_path: Path | None = Field(
        None, description="Folder of the embedded Chroma store. Empty: `<data_dir>/chroma`."
    )
    chroma_host: str | None = Field(
        None,
        description="URL of a Chroma server (`chroma run`), e.g. http://127.0.0.1:8000. Empty: the embedded store.",
    )
    collection: str = Field(
        "documents", min_length=3, max_length=63, description="Chroma collection that RAG reads and writes."
    )
    ollama_host: str = Field(
        # LLAMA_TOOLKIT_OLLAMA_HOST (the usual env source) wins over Ollama's own variable.
        default_factory=lambda: os.environ.get("OLLAMA_HOST", ""),
        description="Ollama server URL (`OLLAMA_HOST` is honoured). Empty: http://127.0.0.1:11434.",
    )
    request_timeout: float = Field(
        300.0,
        gt=0,
        description="Seconds to wait for each read of an Ollama response (connect, then each chunk).",
    )
    request_deadline: float = Field(
        900.0,
        gt=0,
        description="Seconds one Ollama request may take overall, however steadily the server sends; then "
        "the answer ends with an error that keeps the text streamed so far.",
    )
    ollama_probe_timeout: float = Field(
        1.0,
        gt=0,
        le=60,
        description="Seconds `backend = auto` gives the Ollama server to answer before choosing llama.cpp.",
    )
    base_url: str | None = Field(
        None,
        description="URL of an OpenAI-compatible server for `backend = openai` (vLLM, llama.cpp's server, "
        "LM Studio, `llama-toolkit serve`), e.g. http://127.0.0.1:8000/v1.",
    )
    openai_api_key: SecretStr | None = Field(
        None,
        description="API key sent to the `base_url` server (`OPENAI_API_KEY` is not read). Empty: none.",
    )
    api_key: SecretStr | None = Field(
        None,
        description="Key that clients of `llama-toolkit serve` must send as `Authorization: Bearer <key>`; "
        "required to bind a non-loopback address. Empty: no key (loopback only).",
    )
    serve_queue_size: int = Field(
        8,
        ge=0,
        le=1024,
        description="Requests `llama-toolkit serve` keeps waiting for the in-process model; past that, 429.",
    )
    serve_max_request_bytes: int = Field(
        4 * 2**20,
        ge=1024,
        le=2**30,
        description="Largest request body `llama-toolkit serve` accepts, in bytes; past that, 413.",
    )
    serve_queue_timeout: float = Field(
        300.0,
        gt=0,
        le=86400,
        description="Seconds a `llama-toolkit serve` request waits in the queue for the model; then 429.",
    )
    serve_request_timeout: float = Field(
        900.0,
        gt=0,
        le=86400,
        description="Seconds one `llama-toolkit serve` request may run on the model (a long summarize "
        "included); then it is cancelled and ends with an error.",
    )
    model_wait_timeout: float = Field(
        60.0,
        ge=0,
        description="Seconds a caller waits for the shared in-process model while another answer is being "
        "generated; then ModelBusyError. 0: do not wait.",
    )
    model_idle_timeout: float = Field(
        30.0,
        gt=0,
        description="Seconds a paused stream may keep the in-process model without reading a token; then "
        "the model is released and that stream ends with an error.",
    )
    store_lock_timeout: float = Field(
        120.0,
        ge=0,
        description="Seconds a write to the embedded Chroma store waits while another process writes to it; "
        "then StoreLockedError.",
    )
    workspace_deny: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_WORKSPACE_DENY),
        description="Names the agent's file tools refuse, as comma-separated shell globs matched against "
        "every part of a path (`.env`, `.git`, SSH keys, cloud credentials by default). Empty: refuse nothing.",
    )
    ui_allow_server_paths: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description=f"Folders on the server the web app's users may read: a GGUF to load, a folder to "
        f"ingest ({os.pathsep!r}-separated). Empty: browser users can only upload.",
    )
    ui_password: SecretStr | None = Field(
        None,
        description="Password (or token) for `llama-toolkit ui --auth`: each user signs in with a name and "
        "this password and sees only their own chats.",
    )

    @field_validator("ollama_host", mode="after")
    @classmethod
    def _normalize_host(cls, value: str) -> str:
        return normalize_ollama_host(value)

    @field_validator("workspace_deny", mode="before")
    @classmethod
    def _split_globs(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("ui_allow_server_paths", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(os.pathsep) if part.strip()]
        return value

    @field_validator("ui_allow_server_paths", mode="after")
    @classmethod
    def _real_roots(cls, value: list[Path]) -> list[Path]:
        return [Path(os.path.expanduser(path)).resolve() for path in value]

    @field_validator("ui_password", "api_key", "openai_api_key", mode="after")
    @classmethod
    def _blank_password(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("model", "chat_template", "chroma_host", "base_url", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    def resolved_model(self, backend: Backend | None = None) -> str:
        """The model to use: the configured one or the backend's default.

        Args:
            backend: The backend whose default applies; ``None``: the configured ``backend``.
                ``auto`` is not resolved here (that needs the network: see
                ``toolkit.backends.auto``); its default is the embedded model's.

        Returns:
            A GGUF path, an Ollama tag, or for ``openai`` the configured name or ``""``
            (the server's first listed model).
        """
        if self.model:
            return self.model
        chosen = backend or self.backend
        if chosen == "ollama":
            return DEFAULT_OLLAMA_MODEL
        if chosen == "openai":
            return ""
        from toolkit.embedded import embedded_model_path

        return str(embedded_model_path())


def _env_name(field: str) -> str:
    if field == "ollama_host":
        return "LLAMA_TOOLKIT_OLLAMA_HOST or OLLAMA_HOST"
    return ENV_PREFIX + field.upper()


def _check_names(names: list[str], where: str) -> None:
    fields = list(Settings.model_fields)
    for name in names:
        if name not in fields:
            hint = difflib.get_close_matches(name, fields, n=1)
            extra = f"; did you mean `{hint[0]}`?" if hint else f"; known settings: {', '.join(fields)}"
            raise ConfigurationError(f"unknown setting `{name}` {where}{extra}")


def get_settings(**overrides: Any) -> Settings:
    """Read the settings from the environment, ``.env`` and ``overrides``.

    Raises:
        ConfigurationError: a value is invalid or a name is unknown; the message names
            the setting and its environment variable.
    """
    _check_names(list(overrides), "passed as an override")
    stray = [
        key[len(ENV_PREFIX) :].lower()
        for key in os.environ
        if key.upper().startswith(ENV_PREFIX) and key[len(ENV_PREFIX) :]
    ]
    _check_names(stray, f"in the environment ({ENV_PREFIX}...)")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            got = err.get("input")
            problems.append(f"{field} ({_env_name(field)}): {err['msg']} (got {got!r})")
        raise ConfigurationError("invalid setting: " + "; ".join(problems)) from exc
