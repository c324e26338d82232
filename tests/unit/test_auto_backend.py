"""``backend = "auto"``: each branch of the choice against a loopback Ollama, and what
``doctor`` and ``models`` say about it."""

from __future__ import annotations

import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from toolkit.backends.auto import (
    HINT,
    choose_backend,
    clear_backend_cache,
    find_llama32_gguf,
    pick_llama32_tag,
    resolve_settings,
)
from toolkit.cli import main
from toolkit.embedded import EMBEDDED_MODEL_FILE, embedded_model_path
from toolkit.settings import get_settings
from unit.test_ollama_wire import LLAMA32_INFO, FakeOllama, _show_payload


@pytest.fixture(autouse=True)
def _fresh_choice() -> Iterator[None]:
    clear_backend_cache()
    yield
    clear_backend_cache()


@pytest.fixture
def ollama(httpserver: HTTPServer) -> FakeOllama:
    return FakeOllama(httpserver)


@pytest.fixture
def closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def _models_dir() -> Path:
    folder = Path(os.environ["LLAMA_TOOLKIT_DATA_DIR"]) / "models"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _place_gguf(name: str) -> Path:
    target = _models_dir() / name
    target.symlink_to(embedded_model_path())
    return target


def test_the_default_backend_is_auto() -> None:
    assert get_settings().backend == "auto"


def test_ollama_with_llama32_pulled_is_chosen(ollama: FakeOllama, capfd: pytest.CaptureFixture[str]) -> None:
    settings = get_settings(ollama_host=ollama.url)
    choice = choose_backend(settings)
    assert (choice.backend, choice.model) == ("ollama", "llama3.2:latest")
    assert choice.reason == f"Ollama at {ollama.url} has llama3.2:latest"
    assert not choice.fallback
    resolved = resolve_settings(settings)
    assert (resolved.backend, resolved.model) == ("ollama", "llama3.2:latest")
    assert capfd.readouterr().err == ""


def test_ollama_wins_over_a_gguf_in_the_models_folder(ollama: FakeOllama) -> None:
    _place_gguf("Llama-3.2-1B-Instruct-Q4_K_M.gguf")
    assert choose_backend(get_settings(ollama_host=ollama.url)).backend == "ollama"


def test_ollama_without_llama32_and_no_gguf_falls_back_with_one_hint(
    ollama: FakeOllama, capfd: pytest.CaptureFixture[str]
) -> None:
    ollama.models = {"qwen2.5": _show_payload(LLAMA32_INFO, ["completion"])}
    settings = get_settings(ollama_host=ollama.url)
    choice = choose_backend(settings)
    assert choice.backend == "llamacpp" and choice.model == str(embedded_model_path())
    assert choice.fallback
    folder = _models_dir()
    assert choice.reason == (
        f"no Llama 3.2 found (Ollama: {ollama.url} has no llama3.2 pulled; no GGUF in {folder}):"
        " using the embedded SmolLM2-135M"
    )
    choose_backend(settings)
    resolve_settings(settings)
    choose_backend(get_settings(ollama_host=ollama.url, ollama_probe_timeout=2.0))  # other settings
    err = capfd.readouterr().err
    assert err == f"llama-toolkit: {choice.reason}. Get Llama 3.2: llama-toolkit pull llama3.2\n"
    assert HINT == "Get Llama 3.2: llama-toolkit pull llama3.2"


def test_a_llama32_gguf_in_the_models_folder_is_chosen(
    closed_port: str, capfd: pytest.CaptureFixture[str]
) -> None:
    _place_gguf("notes.gguf")  # not Llama 3.2 by its name
    _place_gguf("Llama-3.2-3B-Q8_0.gguf")
    gguf = _place_gguf("Llama-3.2-1B-Instruct-Q4_K_M.gguf")
    choice = choose_backend(get_settings(ollama_host=closed_port))
    assert (choice.backend, choice.model) == ("llamacpp", str(gguf))
    assert choice.reason == f"Ollama: none answers at {closed_port}; Llama 3.2 GGUF found in {_models_dir()}"
    assert capfd.readouterr().err == ""


def test_nothing_at_all_falls_back_to_the_embedded_model(closed_port: str) -> None:
    choice = choose_backend(get_settings(ollama_host=closed_port))
    assert choice.fallback and choice.model == str(embedded_model_path())
    assert choice.reason.startswith(f"no Llama 3.2 found (Ollama: none answers at {closed_port}; no GGUF in ")


def test_a_configured_gguf_path_is_used_without_asking_ollama(ollama: FakeOllama, tmp_path: Path) -> None:
    path = tmp_path / "mine.gguf"
    path.symlink_to(embedded_model_path())
    choice = choose_backend(get_settings(ollama_host=ollama.url, model=str(path)))
    assert (choice.backend, choice.model) == ("llamacpp", str(path))
    assert ollama.requests == []


def test_a_configured_ollama_tag_is_used_when_pulled(ollama: FakeOllama) -> None:
    choice = choose_backend(get_settings(ollama_host=ollama.url, model="llama3.2-vision"))
    assert (choice.backend, choice.model) == ("ollama", "llama3.2-vision:latest")


def test_a_silent_ollama_is_given_up_within_the_probe_budget() -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)  # accepts connections, never answers
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host = f"http://127.0.0.1:{server.getsockname()[1]}"
    try:
        start = time.perf_counter()
        choice = choose_backend(get_settings(ollama_host=host, ollama_probe_timeout=0.5))
        elapsed = time.perf_counter() - start
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        server.close()
    assert choice.fallback
    assert choice.reason.startswith(f"no Llama 3.2 found (Ollama: {host} did not answer within 0.5 s;")
    assert elapsed < 5.0  # a hang guard only; the budget is 0.5 s


def test_the_choice_is_made_once_per_process(ollama: FakeOllama) -> None:
    settings = get_settings(ollama_host=ollama.url)
    for _ in range(3):
        choose_backend(settings)
    assert [path for path, _ in ollama.requests] == ["/api/tags"]


def test_explicit_backends_are_not_resolved(ollama: FakeOllama) -> None:
    for backend in ("llamacpp", "ollama", "openai"):
        assert resolve_settings(get_settings(backend=backend, ollama_host=ollama.url)).backend == backend
    assert ollama.requests == []


@pytest.mark.parametrize(
    ("pulled", "configured", "expected"),
    [
        (["llama3.2:latest", "llama3.2:1b"], None, "llama3.2:latest"),
        (["llama3.2:1b", "llama3.2:3b"], None, "llama3.2:3b"),
        (["llama3.2:1b-instruct-q8_0"], None, "llama3.2:1b-instruct-q8_0"),
        (["llama3.2-vision:latest", "llama3.1:8b"], None, None),
        (["llama3.2:11b-vision"], None, None),
        (["llama3.2:latest", "mistral:latest"], "mistral", "mistral:latest"),
        (["llama3.2:latest"], "mistral", None),
        ([], None, None),
    ],
)
def test_pick_llama32_tag(pulled: list[str], configured: str | None, expected: str | None) -> None:
    assert pick_llama32_tag(pulled, configured) == expected


def test_find_llama32_gguf_by_name(tmp_path: Path) -> None:
    assert find_llama32_gguf(tmp_path / "missing") is None
    for name in ("llama3.2-vision.gguf", "Llama-3.2-3B-Q8_0.gguf", "llama3.2-1b-instruct.GGUF", "x.txt"):
        (tmp_path / name).write_bytes(b"GGUF")
    found = find_llama32_gguf(tmp_path)
    assert found is not None and found.name == "llama3.2-1b-instruct.GGUF"


def test_find_llama32_gguf_prefers_instruct_then_the_smaller_file(tmp_path: Path) -> None:
    (tmp_path / "Llama-3.2-3B-Instruct-Q8_0.gguf").write_bytes(b"GGUF" + b"0" * 200)
    (tmp_path / "Llama-3.2-1B-Instruct-Q4_K_M.gguf").write_bytes(b"GGUF" + b"0" * 100)
    (tmp_path / "Llama-3.2-1B-Q2_K.gguf").write_bytes(b"GGUF")
    found = find_llama32_gguf(tmp_path)
    assert found is not None and found.name == "Llama-3.2-1B-Instruct-Q4_K_M.gguf"


def _gguf_named(path: Path, name: str) -> None:
    """A minimal GGUF v3 file whose only metadata is ``general.name``."""
    key, value = b"general.name", name.encode()
    header = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    path.write_bytes(header + struct.pack("<Q", len(key)) + key + struct.pack("<IQ", 8, len(value)) + value)


def test_find_llama32_gguf_by_metadata(tmp_path: Path) -> None:
    _gguf_named(tmp_path / "model-a.gguf", "SmolLM2 135M")
    assert find_llama32_gguf(tmp_path) is None
    _gguf_named(tmp_path / "model-b.gguf", "Llama 3.2 1B Instruct")
    (tmp_path / "broken.gguf").write_bytes(b"GGUF")  # damaged: skipped, not an error
    found = find_llama32_gguf(tmp_path)
    assert found is not None and found.name == "model-b.gguf"


# --------------------------------------------------------------------------- doctor / models


def test_doctor_says_auto_chose_ollama_and_why(
    ollama: FakeOllama, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["OLLAMA_HOST"] = ollama.url  # the autouse fixture removes it after the test
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "auto -> ollama" in out
    assert f"Ollama at {ollama.url} has llama3.2:latest" in out
    assert "llama3.2:latest" in out and "hint" not in out


def test_doctor_says_why_it_fell_back_and_how_to_get_llama32(
    closed_port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["OLLAMA_HOST"] = closed_port
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "auto -> llamacpp" in out
    assert f"no Llama 3.2 found (Ollama: none answers at {closed_port}; no GGUF in" in out
    assert "llama-toolkit pull llama3.2" in out
    assert EMBEDDED_MODEL_FILE in out


def test_doctor_shows_the_gguf_auto_found(closed_port: str, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["OLLAMA_HOST"] = closed_port
    gguf = _place_gguf("Llama-3.2-1B-Instruct-Q4_K_M.gguf")
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "auto -> llamacpp" in out and "Llama 3.2 GGUF found in" in out
    assert str(gguf) in out and "hint" not in out


def test_models_marks_what_auto_picks(ollama: FakeOllama, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["OLLAMA_HOST"] = ollama.url
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("auto picks           ollama llama3.2:latest (Ollama at ")
    assert [line for line in lines if line.endswith("<- auto")] == [
        "ollama               llama3.2:latest  <- auto"
    ]


def test_models_marks_the_gguf_auto_picks(closed_port: str, capsys: pytest.CaptureFixture[str]) -> None:
    os.environ["OLLAMA_HOST"] = closed_port
    gguf = _place_gguf("Llama-3.2-1B-Instruct-Q4_K_M.gguf")
    assert main(["models"]) == 0
    marked = [line for line in capsys.readouterr().out.splitlines() if line.endswith("<- auto")]
    assert marked == [f"gguf (llamacpp)      {gguf}  <- auto"]


def test_doctor_for_openai_lists_what_the_server_serves(
    httpserver: HTTPServer, capsys: pytest.CaptureFixture[str]
) -> None:
    models = {"object": "list", "data": [{"id": "llama3.2", "object": "model", "owned_by": "me"}]}
    httpserver.expect_request("/v1/models", method="GET").respond_with_json(models)
    base = httpserver.url_for("/v1")
    os.environ.update(LLAMA_TOOLKIT_BACKEND="openai", LLAMA_TOOLKIT_BASE_URL=base)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    facts = {key.strip(): value.strip() for key, _, value in (ln.partition("  ") for ln in out.splitlines())}
    assert facts["backend"] == "openai" and facts["base URL"] == base, out
    assert facts["server models"] == "llama3.2", out


def test_doctor_for_an_unreachable_openai_server_reports_it(
    closed_port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ.update(LLAMA_TOOLKIT_BACKEND="openai", LLAMA_TOOLKIT_BASE_URL=f"{closed_port}/v1")
    assert main(["doctor"]) == 1  # reported, never raised
    out = capsys.readouterr().out
    assert f"{closed_port}/v1" in out and "NOT READY" in out
