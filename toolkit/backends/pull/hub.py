"""Download a GGUF from the Hugging Face hub: resumable, SHA-256 checked, moved in atomically.

``hf_hub_download`` (huggingface_hub 2.4) is not used for the file itself: it writes to a
process-unique ``.incomplete`` file and deletes it when the download fails, so an interrupted
download starts again from byte 0. Here the bytes go to ``<models>/.partial/<file>.<sha>.part``
through huggingface_hub's own ``http_get`` (headers, retries, ``Range`` on resume), so the
next run resumes where the last one stopped. The file is checked against the hub's LFS sha256
(``X-Linked-Etag``) and only then moved into ``<models>/<file>`` with :func:`os.replace`.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from toolkit.errors import ChecksumMismatchError, ModelDownloadError

__all__ = ["DEFAULT_ENDPOINT", "HubFile", "Progress", "download_from_hub", "file_sha256", "hub_endpoint"]

DEFAULT_ENDPOINT = "https://huggingface.co"
Progress = Callable[[str, int, int], None]
"""``progress(label, done, total)``: bytes (or steps) done of ``total`` (0: unknown)."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class HubFile:
    """A GGUF in the models folder after a hub pull.

    Attributes:
        path: Where it is.
        sha256: Its verified SHA-256 (the hub's LFS sha256).
        downloaded: False when the file was already there.
        verified: False when it was there but the hub could not be reached to check it
            (``sha256`` is then empty).
    """

    path: Path
    sha256: str
    downloaded: bool
    verified: bool = True


def hub_endpoint() -> str:
    """The hub URL: ``HF_ENDPOINT`` as it is now (huggingface_hub reads it only at import)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def file_sha256(path: Path, progress: Progress | None = None, *, name: str = "") -> str:
    """The SHA-256 of ``path`` as 64 hex digits, reporting ``verifying <name>`` progress."""
    label = f"verifying {name or path.name}"
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress(label, done, total)
    return digest.hexdigest()


def _offline(endpoint: str, repo_id: str, filename: str, models: Path) -> ModelDownloadError:
    url = f"{endpoint}/{repo_id}/resolve/main/{filename}"
    return ModelDownloadError(
        f"cannot reach the Hugging Face hub at {endpoint} (offline?): download {filename} from {url} "
        f"into {models}, or start Ollama and run `ollama pull llama3.2`"
    )


def _transport_errors() -> tuple[type[Exception], ...]:
    """Network failures as httpx raises them, and as ``httpx2`` does: the fork of httpx that
    huggingface_hub 2.x loads (call this after importing huggingface_hub)."""
    import httpx

    fork = sys.modules.get("httpx2")
    forked = getattr(fork, "TransportError", None) if fork is not None else None
    return (httpx.TransportError, forked) if isinstance(forked, type) else (httpx.TransportError,)


def _metadata(repo_id: str, filename: str, models: Path, endpoint: str, token: str | None) -> Any:
    """The file's hub metadata (commit, LFS sha256, size), errors translated.

    ``None`` when the hub is unreachable but the file is in ``models`` already.
    """
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import EntryNotFoundError, HfHubHTTPError, OfflineModeIsEnabled

    url = hf_hub_url(repo_id, filename, revision="main", endpoint=endpoint)
    offline: tuple[type[Exception], ...] = (*_transport_errors(), OfflineModeIsEnabled)
    try:
        return get_hf_file_metadata(url, token=token, endpoint=endpoint, timeout=10.0)
    except offline as exc:
        if (models / filename).is_file():
            return None  # present already: usable offline, though not checked again
        raise _offline(endpoint, repo_id, filename, models) from exc
    except EntryNotFoundError as exc:
        raise ModelDownloadError(
            f"{repo_id} has no file {filename} on {endpoint} - choose another --quant"
        ) from exc
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ModelDownloadError(
            f"the hub at {endpoint} refused {repo_id}/{filename} (HTTP {status}) - "
            "check HF_TOKEN and HF_ENDPOINT, then try again"
        ) from exc


class _Counted:
    """The part file, reporting every write as progress (``http_get`` writes, seeks, truncates)."""

    def __init__(self, f: IO[bytes], label: str, total: int, progress: Progress | None) -> None:
        self._f, self._label, self._total, self._progress = f, label, total, progress

    def _report(self) -> None:
        if self._progress:
            self._progress(self._label, self._f.tell(), self._total)

    def write(self, data: bytes) -> int:
        n = self._f.write(data)
        self._report()
        return n

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def truncate(self, size: int | None = None) -> int:
        n = self._f.truncate(size)
        self._report()
        return n


def _silent_tqdm() -> type[Any]:
    from tqdm.auto import tqdm

    class Silent(tqdm):  # type: ignore[misc,type-arg]
        """huggingface_hub's own bar, switched off: progress goes to the caller's callback."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Silent


def _fetch(url: str, part: Path, size: int, token: str | None, progress: Progress | None) -> None:
    """Append the missing bytes of ``url`` to ``part`` (``Range: bytes=<have>-`` on resume)."""
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    with part.open("ab") as f:
        counted = _Counted(f, f"downloading {part.name.split('.gguf')[0]}.gguf", size, progress)
        counted.write(b"")  # show where a resumed download starts
        http_get(
            url,
            cast(Any, counted),
            resume_size=have,
            headers=build_hf_headers(token=token),
            expected_size=size,
            displayed_filename=part.name,
            tqdm_class=_silent_tqdm(),
        )


def _verified_present(dest: Path, sha256: str, progress: Progress | None) -> bool:
    return dest.is_file() and file_sha256(dest, progress) == sha256


def download_from_hub(
    repo_id: str,
    filename: str,
    models: Path,
    *,
    endpoint: str | None = None,
    token: str | None = None,
    progress: Progress | None = None,
) -> HubFile:
    """Put ``repo_id``'s ``filename`` into ``models``, verified, unless it is there already.

    Args:
        repo_id: The hub repository, e.g. ``bartowski/Llama-3.2-1B-Instruct-GGUF``.
        filename: The file in it.
        models: The models folder (``<data_dir>/models``); created if missing.
        endpoint: The hub URL; default :func:`hub_endpoint` (``HF_ENDPOINT`` at call time).
        token: A hub token; default ``HF_TOKEN`` at call time.
        progress: Called with download and verification progress.

    Raises:
        ModelDownloadError: The hub is unreachable, refuses, or the download was interrupted
            (the partial file is kept in ``models/.partial`` and the next call resumes it).
        ChecksumMismatchError: The bytes are not the ones the hub's sha256 names (deleted).
    """
    from filelock import FileLock, Timeout
    from huggingface_hub import hf_hub_url

    endpoint = (endpoint or hub_endpoint()).rstrip("/")
    token = token or os.environ.get("HF_TOKEN") or None
    meta = _metadata(repo_id, filename, models, endpoint, token)
    dest = models / filename
    if meta is None:
        return HubFile(dest, "", downloaded=False, verified=False)
    sha256 = str(meta.etag or "").strip('"').lower()
    if not _SHA256.match(sha256) or not meta.size:
        raise ModelDownloadError(
            f"the hub at {endpoint} gave no LFS sha256 and size for {repo_id}/{filename} - "
            "it cannot be verified; check HF_ENDPOINT"
        )
    if _verified_present(dest, sha256, progress):
        return HubFile(dest, sha256, downloaded=False)
    partial = models / ".partial"
    partial.mkdir(parents=True, exist_ok=True)
    part = partial / f"{filename}.{sha256[:16]}.part"
    url = hf_hub_url(repo_id, filename, revision=meta.commit_hash or "main", endpoint=endpoint)
    stopped: tuple[type[Exception], ...] = (*_transport_errors(), OSError)
    try:
        with FileLock(str(part) + ".lock", timeout=0):
            _download_locked(url, part, int(meta.size), token, progress)
            if file_sha256(part, progress, name=filename) != sha256:
                part.unlink()
                raise ChecksumMismatchError(
                    f"{filename} from {endpoint} does not match the hub's sha256 {sha256[:12]}... - "
                    "it was deleted; run the pull again"
                )
            os.replace(part, dest)
    except Timeout as exc:
        raise ModelDownloadError(
            f"another pull is downloading {filename} into {partial} - wait for it to finish"
        ) from exc
    except stopped as exc:
        raise ModelDownloadError(
            f"the download of {filename} from {endpoint} stopped ({type(exc).__name__}) - "
            "run the same command again to resume it"
        ) from exc
    return HubFile(dest, sha256, downloaded=True)


def _download_locked(url: str, part: Path, size: int, token: str | None, progress: Progress | None) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    try:
        _fetch(url, part, size, token, progress)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise ModelDownloadError(
            f"the hub refused the download of {part.name.split('.gguf')[0]}.gguf (HTTP {status}) - "
            "check HF_TOKEN, then try again"
        ) from exc
