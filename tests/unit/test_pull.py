"""``llama-toolkit pull`` against a loopback hub and a loopback Ollama: no real network.

The hub tests check what huggingface_hub really sends (``Range: bytes=N-`` on a resume) and
that nothing half-written ever sits in ``<data_dir>/models``; the Ollama tests check the
``/api/pull`` body and how its NDJSON status lines come back.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from loopback_hub import LoopbackHub
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from toolkit import cli
from toolkit.backends.auto import find_llama32_gguf
from toolkit.backends.pull import HUB_QUANTS, pull_model, resolve_target
from toolkit.embedded import embedded_model_path
from toolkit.errors import (
    ChecksumMismatchError,
    ConfigurationError,
    ModelDownloadError,
    OllamaUnreachableError,
)
from toolkit.gguf import read_gguf_info
from toolkit.settings import get_settings

REPO_1B = "bartowski/Llama-3.2-1B-Instruct-GGUF"
FILE_1B = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
SMALL = bytes(range(256)) * 64  # 16 KiB, distinct bytes at every offset


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackHub]:
    with LoopbackHub() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)  # set after huggingface_hub was imported
        monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{_closed_port()}")  # no Ollama
        yield server


def _models() -> Path:
    return Path(get_settings().data_dir) / "models"


def _gguf_in_models() -> list[str]:
    return sorted(p.name for p in _models().glob("*.gguf")) if _models().exists() else []


# --------------------------------------------------------------------------- names


def test_name_table() -> None:
    assert resolve_target("llama3.2").filename == "Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    assert resolve_target("llama3.2").ollama_tag == "llama3.2"  # Ollama's default tag is the 3B
    assert resolve_target("llama3.2:3b").repo_id == "bartowski/Llama-3.2-3B-Instruct-GGUF"
    one = resolve_target("Llama3.2:1B", "q8_0")
    assert (one.repo_id, one.filename, one.ollama_tag) == (
        REPO_1B,
        "Llama-3.2-1B-Instruct-Q8_0.gguf",
        "llama3.2:1b-instruct-q8_0",
    )
    assert resolve_target("llama3.2:1b", "Q6_K_L").ollama_tag is None  # a bartowski-only quant
    assert "Q4_K_M" in HUB_QUANTS


@pytest.mark.parametrize(
    ("name", "quant"), [("llama3.2", "Q9_9"), ("llama3.1", None), ("llama3.2:11b", None)]
)
def test_bad_name_or_quant_is_refused_before_any_network(name: str, quant: str | None) -> None:
    with pytest.raises(ConfigurationError, match="choose"):
        pull_model(name, get_settings(ollama_host="http://127.0.0.1:9"), quant=quant)


def test_quant_ollama_has_no_tag_for(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["pull", "llama3.2:1b", "--quant", "Q6_K_L", "--via", "ollama"]) == 1
    err = capsys.readouterr().err
    assert "Ollama has no llama3.2 tag for Q6_K_L" in err and "--via hub" in err and err.count("\n") == 1


# --------------------------------------------------------------------------- hub


def test_hub_pull_of_the_real_gguf(hub: LoopbackHub, capsys: pytest.CaptureFixture[str]) -> None:
    hub.add(REPO_1B, FILE_1B, embedded_model_path())
    assert cli.main(["pull", "llama3.2:1b"]) == 0  # no Ollama answers: the hub
    out = capsys.readouterr().out.strip().splitlines()
    dest = _models() / FILE_1B
    assert len(out) == 1 and str(dest) in out[0] and "doctor" in out[0]
    assert read_gguf_info(dest).architecture == "llama"
    assert find_llama32_gguf(_models()) == dest  # what backend=auto picks
    assert sorted(p.name for p in _models().iterdir()) == [".partial", FILE_1B]
    assert not list((_models() / ".partial").glob("*.part"))  # only the (empty) lock file stays
    gets = hub.gets()
    assert (
        len(gets) == 1 and gets[0].path.startswith(f"/{REPO_1B}/resolve/") and "range" not in gets[0].headers
    )


def test_already_present_downloads_nothing(
    hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_loopback")
    hub.add(REPO_1B, FILE_1B, SMALL)
    assert cli.main(["pull", "llama3.2:1b", "--via", "hub"]) == 0
    assert "downloaded and verified" in capsys.readouterr().out
    before = len(hub.gets())
    assert cli.main(["pull", "llama3.2:1b", "--via", "hub"]) == 0
    assert "already present, sha256 verified; nothing downloaded" in capsys.readouterr().out
    assert len(hub.gets()) == before == 1
    assert (_models() / FILE_1B).read_bytes() == SMALL
    assert hub.requests[0].headers["authorization"] == "Bearer hf_loopback"  # HF_TOKEN at call time

    offline = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", offline)  # present, hub gone: usable, said so
    assert cli.main(["pull", "llama3.2:1b", "--via", "hub"]) == 0
    assert f"already present; not checked again: cannot reach the hub at {offline}" in capsys.readouterr().out


def test_a_second_pull_of_the_same_file_waits_for_none(hub: LoopbackHub) -> None:
    from filelock import FileLock

    served = hub.add(REPO_1B, FILE_1B, SMALL)
    partial = _models() / ".partial"
    partial.mkdir(parents=True)
    with (
        FileLock(str(partial / f"{FILE_1B}.{served.sha256[:16]}.part.lock")),
        pytest.raises(ModelDownloadError, match="another pull is downloading"),
    ):
        pull_model("llama3.2:1b", get_settings(), via="hub")
    assert hub.gets() == [] and _gguf_in_models() == []


def test_interrupted_download_resumes_on_the_next_run(
    hub: LoopbackHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    import huggingface_hub.file_download as fd

    monkeypatch.setattr(fd.time, "sleep", lambda _s: None)  # huggingface_hub waits 1 s per retry
    # huggingface_hub writes whole 10 MiB chunks: bytes of a chunk cut short are lost. 1 KiB
    # chunks let a 16 KiB file show the same thing.
    monkeypatch.setattr(fd.constants, "DOWNLOAD_CHUNK_SIZE", 1024)
    served = hub.add(REPO_1B, FILE_1B, SMALL)
    # 2 KiB arrive, then the network is gone: huggingface_hub retries (with a Range) until it
    # gives up, 5 retries after the last byte that arrived.
    served.cuts = [2500] + [0] * 10
    with pytest.raises(ModelDownloadError, match="run the same command again to resume"):
        pull_model("llama3.2:1b", get_settings(), via="hub")
    assert _gguf_in_models() == []  # nothing half-written in the models folder
    (part,) = (_models() / ".partial").glob("*.part")
    have = part.stat().st_size
    assert have == 2048  # the two whole chunks that arrived
    first_run = hub.gets()
    assert len(first_run) == 6
    assert first_run[0].headers.get("range") is None and first_run[1].headers["range"] == "bytes=2048-"
    served.cuts.clear()  # the network is back

    result = pull_model("llama3.2:1b", get_settings(), via="hub")
    assert hub.gets()[len(first_run)].headers["range"] == f"bytes={have}-"  # the next run resumes
    assert Path(result.model).read_bytes() == SMALL and not part.exists()


def test_corrupted_download_is_refused_and_deleted(hub: LoopbackHub) -> None:
    hub.add(REPO_1B, FILE_1B, SMALL).corrupt = True
    with pytest.raises(ChecksumMismatchError, match="does not match the hub's sha256"):
        pull_model("llama3.2:1b", get_settings(), via="hub")
    assert _gguf_in_models() == []
    assert not list((_models() / ".partial").glob("*.part"))


def test_no_network_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{_closed_port()}")
    assert cli.main(["pull", "llama3.2"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"cannot reach the Hugging Face hub at {endpoint} (offline?)" in err
    assert "Llama-3.2-3B-Instruct-Q4_K_M.gguf" in err and "ollama pull llama3.2" in err


def test_file_missing_on_the_hub(hub: LoopbackHub) -> None:
    hub.add(REPO_1B, FILE_1B, SMALL)
    with pytest.raises(ModelDownloadError, match=r"has no file Llama-3\.2-1B-Instruct-Q8_0\.gguf"):
        pull_model("llama3.2:1b", get_settings(), quant="Q8_0", via="hub")


# --------------------------------------------------------------------------- Ollama


class PullOllama:
    """/api/tags (the probe) and a streaming /api/pull that records its JSON bodies."""

    def __init__(self, server: HTTPServer, lines: list[dict[str, object]], status: int = 200) -> None:
        self.url = f"http://127.0.0.1:{server.port}"
        self.lines, self.status = lines, status
        self.bodies: list[dict[str, object]] = []
        server.expect_request("/api/tags", method="GET").respond_with_json({"models": []})
        server.expect_request("/api/pull", method="POST").respond_with_handler(self._pull)

    def _pull(self, request: Request) -> Response:
        self.bodies.append(json.loads(request.get_data()))
        body = "".join(json.dumps(line) + "\n" for line in self.lines)
        return Response(body, status=self.status, content_type="application/x-ndjson")


PROGRESS = [
    {"status": "pulling manifest"},
    {"status": "pulling 74701a8c35f6", "digest": "sha256:74701a8c35f6", "total": 1321082688, "completed": 0},
    {
        "status": "pulling 74701a8c35f6",
        "digest": "sha256:74701a8c35f6",
        "total": 1321082688,
        "completed": 1321082688,
    },
    {"status": "verifying sha256 digest"},
    {"status": "writing manifest"},
]


def test_ollama_pull_reports_progress(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch) -> None:
    ollama = PullOllama(httpserver, [*PROGRESS, {"status": "success"}])
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    seen: list[tuple[str, int, int]] = []
    result = pull_model("llama3.2:1b", get_settings(), progress=lambda *a: seen.append(a))
    assert ollama.bodies == [{"model": "llama3.2:1b", "stream": True}]
    assert (result.via, result.model) == ("ollama", "llama3.2:1b") and "doctor" in result.summary
    assert ("pulling 74701a8c35f6", 1321082688, 1321082688) in seen and seen[0] == ("pulling manifest", 0, 0)
    assert _gguf_in_models() == []


def test_ollama_error_line_is_one_line(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ollama = PullOllama(httpserver, [PROGRESS[0], {"error": "pull model manifest: file does not exist"}])
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    assert cli.main(["pull", "llama3.2", "--quant", "Q8_0", "--via", "ollama"]) == 1
    assert ollama.bodies == [{"model": "llama3.2:3b-instruct-q8_0", "stream": True}]
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "pulling manifest",  # a status without bytes is a plain line; then the error, one line
        "error: Ollama could not pull llama3.2:3b-instruct-q8_0: pull model manifest: file does not exist",
    ]


def test_ollama_http_error_and_missing_success(httpserver: HTTPServer) -> None:
    settings = get_settings(ollama_host=f"http://127.0.0.1:{httpserver.port}")
    PullOllama(httpserver, [{"error": "registry unreachable"}], status=500)
    with pytest.raises(
        ModelDownloadError, match=r"refused to pull llama3.2 \(HTTP 500: registry unreachable\)"
    ):
        pull_model("llama3.2", settings, via="ollama")
    httpserver.clear()
    PullOllama(httpserver, PROGRESS)  # the stream ends without {"status": "success"}
    with pytest.raises(ModelDownloadError, match="without `success`"):
        pull_model("llama3.2", settings, via="ollama")


def test_via_ollama_when_nothing_answers() -> None:
    settings = get_settings(ollama_host=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(OllamaUnreachableError, match="--via hub"):
        pull_model("llama3.2", settings, via="ollama")
