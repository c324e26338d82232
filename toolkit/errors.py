"""Exceptions raised by llama-toolkit.

Every error the toolkit raises on purpose derives from :class:`ToolkitError`, and its
message says what to do next. Third-party errors (llama.cpp, Ollama, pydantic) are
translated at the boundary and chained with ``raise ... from``.

Tree::

    ToolkitError
    ├── ConfigurationError          bad setting or override; names the setting
    │   └── EmbeddingMismatchError  an index opened with another embedding model than it was built with
    ├── ModelError
    │   ├── ModelNotFoundError      GGUF path does not exist
    │   ├── InvalidModelFileError   not a GGUF file, or unreadable
    │   ├── ModelLoadError          llama.cpp refused to load the file
    │   ├── ModelNotPulledError     Ollama does not have the model
    │   ├── ModelDownloadError      `pull` could not fetch the model (offline, interrupted, refused)
    │   │   └── ChecksumMismatchError   the downloaded file is not the file the hub names
    │   ├── ModelBusyError          the shared model stayed busy past the wait limit
    │   │   └── ModelReentryError   the thread that holds the model asked it again
    │   └── GenerationLimitError    a deadline or token cap ended an answer; keeps the partial text
    │       └── GenerationTimeoutError  the deadline
    ├── AccessDeniedError           a path or setting refused by policy (deny-list, server paths)
    ├── LimitExceededError          input past a size, depth, count or cost limit; names the limit
    ├── StoreLockedError            another process is writing the document store
    ├── BackendUnavailableError
    │   ├── OllamaUnreachableError  no Ollama server answers at the host
    │   ├── OllamaResponseError     the server answered with something that is not Ollama's API
    │   ├── OpenAIUnreachableError  no OpenAI-compatible server answers at the base URL
    │   └── ChromaUnreachableError  no Chroma server answers at the configured host
    ├── IndexNotFoundError          no such document collection
    ├── ContextOverflowError        prompt longer than the context window
    │   └── DocumentTooLongError    a document that cannot fit even after maximal collapse
    ├── UnsupportedInputError       input the model cannot take (e.g. images on a text model)
    │   └── UnknownLanguageError    a language name or code nobody knows
    └── DocumentError               a document that cannot be read; names the file
        ├── DocumentNotFoundError   no such file
        ├── EmptyDocumentError      no text at all (empty, whitespace only, scanned PDF)
        ├── UnsupportedDocumentError binary data, or a file type with no loader
        ├── EncryptedDocumentError  password-protected PDF or DOCX
        └── DocumentTooComplexError past a loader limit (size, entries, paragraphs, pages, depth)
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "BackendUnavailableError",
    "ChecksumMismatchError",
    "ChromaUnreachableError",
    "ConfigurationError",
    "ContextOverflowError",
    "DocumentError",
    "DocumentNotFoundError",
    "DocumentTooComplexError",
    "DocumentTooLongError",
    "EmbeddingMismatchError",
    "EmptyDocumentError",
    "EncryptedDocumentError",
    "GenerationLimitError",
    "GenerationTimeoutError",
    "IndexNotFoundError",
    "InvalidModelFileError",
    "LimitExceededError",
    "ModelBusyError",
    "ModelDownloadError",
    "ModelError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelNotPulledError",
    "ModelReentryError",
    "OllamaResponseError",
    "OllamaUnreachableError",
    "OpenAIUnreachableError",
    "StoreLockedError",
    "ToolkitError",
    "UnknownLanguageError",
    "UnsupportedDocumentError",
    "UnsupportedInputError",
]


class ToolkitError(Exception):
    """Base class of every error raised by llama-toolkit."""


class ConfigurationError(ToolkitError, ValueError):
    """A setting or override is invalid."""


class ModelError(ToolkitError):
    """The model cannot be used."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """The GGUF path does not exist."""


class InvalidModelFileError(ModelError):
    """The file is not a GGUF model or cannot be read."""


class ModelLoadError(ModelError):
    """llama.cpp failed to load the model."""


class ModelNotPulledError(ModelError):
    """The Ollama server does not have the model."""


class BackendUnavailableError(ToolkitError, ConnectionError):
    """The model backend cannot be reached."""


class OllamaUnreachableError(BackendUnavailableError):
    """No Ollama server answers at the configured host."""


class ContextOverflowError(ToolkitError, ValueError):
    """The prompt does not fit the model's context window.

    Attributes:
        prompt_tokens: Tokens in the rendered prompt.
        n_ctx: The context window in tokens.
    """

    def __init__(self, message: str, *, prompt_tokens: int, n_ctx: int) -> None:
        super().__init__(message)
        self.prompt_tokens = prompt_tokens
        self.n_ctx = n_ctx

    @property
    def overflow(self) -> int:
        """Tokens to remove for the prompt to fit (leaving one slot to answer)."""
        return self.prompt_tokens - self.n_ctx + 1


class UnsupportedInputError(ToolkitError, ValueError):
    """The input holds something the model cannot take."""


class DocumentTooLongError(ContextOverflowError):
    """A document whose summaries still do not fit the window after every collapse step."""


class UnknownLanguageError(UnsupportedInputError):
    """A language name or ISO code that is not recognised."""


class DocumentError(ToolkitError, ValueError):
    """A document cannot be read. The message names the file and says what to do.

    Attributes:
        source: The file path or a short description of the input.
    """

    def __init__(self, message: str, *, source: str = "") -> None:
        super().__init__(message)
        self.source = source


class DocumentNotFoundError(DocumentError, FileNotFoundError):
    """The document's path does not exist."""


class EmptyDocumentError(DocumentError):
    """The document holds no text (empty, whitespace only, or a PDF without a text layer)."""


class UnsupportedDocumentError(DocumentError):
    """Binary data, or a file type the toolkit has no loader for."""


class EncryptedDocumentError(DocumentError):
    """A password-protected document."""


class EmbeddingMismatchError(ConfigurationError):
    """A document index was built with another embedding model than the one configured."""


class ChromaUnreachableError(BackendUnavailableError):
    """No Chroma server answers at the configured host."""


class IndexNotFoundError(ToolkitError, KeyError):
    """No document collection of that name exists."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ModelBusyError(ModelError):
    """The shared in-process model stayed busy longer than the caller may wait
    (``LLAMA_TOOLKIT_MODEL_WAIT_TIMEOUT``)."""


class ModelReentryError(ModelBusyError):
    """The thread that is generating asked the same model again (for example a second
    ``invoke`` while its own stream is open): waiting would deadlock, so it is refused."""


class GenerationLimitError(ModelError):
    """A deadline or a token cap ended an answer early.

    Attributes:
        partial: The text generated (or streamed) before the limit was hit; never lost.
    """

    def __init__(self, message: str, *, partial: str = "") -> None:
        super().__init__(message)
        self.partial = partial


class GenerationTimeoutError(GenerationLimitError, TimeoutError):
    """The answer ran past its overall deadline."""


class OllamaResponseError(BackendUnavailableError):
    """The server at the Ollama host answered with something that is not Ollama's API
    (not JSON, or JSON of another shape)."""


class AccessDeniedError(ToolkitError, PermissionError):
    """A path or setting refused by policy: a workspace deny-list entry, a server path the
    web app's operator has not allowed, a special file (FIFO, device, socket)."""


class LimitExceededError(ToolkitError, ValueError):
    """An input past a limit on size, nesting, count or cost. The message names the limit.

    Attributes:
        limit: The limit's name, e.g. ``"max_paragraphs"``.
    """

    def __init__(self, message: str, *, limit: str = "") -> None:
        super().__init__(message)
        self.limit = limit


class DocumentTooComplexError(DocumentError):
    """A document past one of the loaders' limits (decompressed size, archive entries,
    paragraphs, pages, nesting depth, time). The message names the file and the limit."""


class StoreLockedError(ToolkitError, TimeoutError):
    """Another process kept the embedded document store's write lock past the timeout."""


class ModelDownloadError(ModelError):
    """``llama-toolkit pull`` could not fetch the model: no network, the hub or Ollama
    refused, or the download was interrupted. A partial download is kept aside for a
    resume; nothing half-written is left in the models folder."""


class ChecksumMismatchError(ModelDownloadError):
    """The downloaded file's SHA-256 is not the one the hub names for it; the file was
    deleted, never moved into the models folder."""


class OpenAIUnreachableError(BackendUnavailableError):
    """No OpenAI-compatible server answers at ``LLAMA_TOOLKIT_BASE_URL``."""
