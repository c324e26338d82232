"""Careless and hostile command lines: each ends in one line on stderr and exit code 1 (130
for Ctrl-C), never a traceback, and never loses an output the model already spent time on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedChatModel
from pytest_httpserver import HTTPServer
from unit.test_ollama_wire import FakeOllama

from toolkit import cli

ROOT = Path(__file__).resolve().parents[2]


def _use(monkeypatch: pytest.MonkeyPatch, model: ScriptedChatModel) -> ScriptedChatModel:
    monkeypatch.setattr("toolkit.backends.factory.get_chat_model", lambda **_: model)
    return model


def _one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("\r")]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "f.txt"
    path.write_text("The quarterly report says revenue grew by four percent.", encoding="utf-8")
    return path


def _read_only_folder(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() == 0:  # root writes through any mode bits; sysfs refuses new files even to root
        yield Path("/sys/kernel")
        return
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    yield folder
    folder.chmod(0o755)


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    yield from _read_only_folder(tmp_path)


# --------------------------------------------------------------------------- --out, checked first


@pytest.mark.parametrize("command", [["summarize"], ["translate", "--to", "fr"]])
@pytest.mark.parametrize("where", ["folder", "read_only", "no_parent", "parent_is_file"])
def test_a_bad_out_is_refused_before_the_model_runs(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    doc: Path,
    tmp_path: Path,
    read_only: Path,
    command: list[str],
    where: str,
) -> None:
    out = {
        "folder": tmp_path,
        "read_only": read_only / "summary.txt",
        "no_parent": tmp_path / "missing" / "summary.txt",
        "parent_is_file": doc / "summary.txt",
    }[where]
    model = _use(monkeypatch, ScriptedChatModel(respond=str.upper))
    start = time.monotonic()
    code = cli.main([command[0], str(doc), *command[1:], "--out", str(out)])
    elapsed = time.monotonic() - start
    line = _one_line(capsys.readouterr().err)
    assert code == 1
    assert model.prompts == []  # no model time spent
    assert elapsed < 1.0
    assert "--out" in line and str(out) in line


def test_an_out_that_turns_into_a_folder_during_the_run_is_saved_next_to_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], doc: Path, tmp_path: Path
) -> None:
    out = tmp_path / "summary.txt"

    def respond(text: str) -> str:
        out.mkdir(exist_ok=True)  # the output path becomes unwritable while the model runs
        return "REVENUE GREW FOUR PERCENT"

    _use(monkeypatch, ScriptedChatModel(respond=respond))
    assert cli.main(["summarize", str(doc), "--out", str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    saved = Path(line.rsplit("saved in ", 1)[1])
    assert saved.parent == tmp_path and saved.name.startswith("summary.unsaved-")
    assert saved.read_text(encoding="utf-8").strip() == "REVENUE GREW FOUR PERCENT"


def test_an_out_whose_folder_vanishes_during_the_run_is_saved_in_the_data_dir(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], doc: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    out = folder / "summary.md"
    monkeypatch.setenv("LLAMA_TOOLKIT_DATA_DIR", str(tmp_path / "data"))

    def respond(text: str) -> str:
        folder.rmdir()
        return "SAVED ANYWAY"

    _use(monkeypatch, ScriptedChatModel(respond=respond))
    assert cli.main(["summarize", str(doc), "--out", str(out)]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "could not write --out" in line
    saved = Path(line.rsplit("saved in ", 1)[1])
    assert saved.is_relative_to(tmp_path / "data")
    assert saved.read_text(encoding="utf-8").strip() == "SAVED ANYWAY"


# --------------------------------------------------------------------------- prompts that are not UTF-8


def test_a_prompt_that_is_not_utf8_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _use(monkeypatch, ScriptedChatModel(respond=str.upper))
    raw = b"\xff hello".decode("utf-8", "surrogateescape")  # what Python makes of argv $'\xff hello'
    assert cli.main(["ask", raw]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "not valid UTF-8" in line and "0xff" in line
    assert model.prompts == []
    assert cli.main(["summarize", "-", "--focus", raw]) == 1
    assert "--focus is not valid UTF-8" in _one_line(capsys.readouterr().err)


def test_a_prompt_that_is_not_utf8_in_a_real_process() -> None:
    code = "import sys; from toolkit.cli import main; sys.exit(main())"
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "LLAMA_TOOLKIT_BACKEND": "ollama"}
    env["LLAMA_TOOLKIT_OLLAMA_HOST"] = "http://127.0.0.1:9"  # never reached
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", code, "ask", b"\xff hello"],
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 1, err
    assert _one_line(err).startswith("error: the prompt is not valid UTF-8 (byte 0xff at character 1)")
    assert proc.stdout == b""
    assert time.monotonic() - start < 30


def test_piped_stdin_that_is_not_utf8_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    class Pipe(io.TextIOWrapper):
        def isatty(self) -> bool:
            return False

    _use(monkeypatch, ScriptedChatModel(respond=str.upper))
    monkeypatch.setattr("sys.stdin", Pipe(io.BytesIO(b"caf\xe9 au lait"), encoding="utf-8"))
    assert cli.main(["ask"]) == 1
    assert "not valid UTF-8" in _one_line(capsys.readouterr().err)


# --------------------------------------------------------------------------- Ctrl-C, file errors


def test_ctrl_c_is_one_line_and_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(text: str) -> str:
        raise KeyboardInterrupt

    _use(monkeypatch, ScriptedChatModel(respond=interrupted))
    assert cli.main(["ask", "hello"]) == 130
    assert _one_line(capsys.readouterr().err) == "error: interrupted (Ctrl-C)"


def test_an_os_error_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def disk_full(text: str) -> str:
        raise OSError(28, "No space left on device", "/tmp/cache.bin")

    _use(monkeypatch, ScriptedChatModel(respond=disk_full))
    assert cli.main(["ask", "hello"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "No space left on device (/tmp/cache.bin)" in line


# --------------------------------------------------------------------------- Ollama from the CLI


def test_a_web_page_at_ollama_host_is_one_line(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = "<!doctype html><html><body>Router login</body></html>"
    httpserver.expect_request("/api/show").respond_with_data(page, content_type="text/html")
    monkeypatch.setenv("OLLAMA_HOST", f"http://127.0.0.1:{httpserver.port}")
    start = time.monotonic()
    assert cli.main(["ask", "--backend", "ollama", "hello"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert "is not Ollama" in line and "OLLAMA_HOST" in line
    assert time.monotonic() - start < 5


class _TricklingOllama(FakeOllama):
    """Answers /api/chat with a token every 0.2 s that never ends (until ``stop``)."""

    stop = threading.Event()

    def _ndjson(self, model: str) -> Iterator[bytes]:
        ends = time.monotonic() + 10
        i = 0
        while not self.stop.is_set() and time.monotonic() < ends:
            part: dict[str, Any] = {"model": model, "message": {"role": "assistant", "content": f"w{i} "}}
            yield (json.dumps({**part, "created_at": "2025-01-15T10:00:00Z", "done": False}) + "\n").encode()
            i += 1
            self.stop.wait(0.2)


def test_a_trickling_ollama_ends_at_the_deadline_printing_the_partial(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = _TricklingOllama(httpserver)
    monkeypatch.setenv("OLLAMA_HOST", fake.url)
    monkeypatch.setenv("LLAMA_TOOLKIT_REQUEST_DEADLINE", "1")
    start = time.monotonic()
    try:
        code = cli.main(["ask", "--backend", "ollama", "hello"])
    finally:
        fake.stop.set()
    elapsed = time.monotonic() - start
    captured = capsys.readouterr()
    assert code == 1
    assert elapsed < 2.0
    assert captured.out.startswith("w0 w1 w2 ")  # the partial answer, kept
    assert "did not finish within 1 s" in _one_line(captured.err)


def test_a_cut_off_answer_in_chat_is_kept_and_the_chat_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from toolkit.errors import GenerationTimeoutError

    def respond(text: str) -> str:
        if text == "long":
            raise GenerationTimeoutError("Ollama did not finish within 1 s", partial="Once upon a")
        return f"echo {text}"

    model = _use(monkeypatch, ScriptedChatModel(respond=respond))
    monkeypatch.setattr("sys.stdin", io.StringIO("long\nshort\n"))
    assert cli.main(["chat"]) == 0
    captured = capsys.readouterr()
    assert "Once upon a" in captured.out and "echo short" in captured.out
    assert _one_line(captured.err) == "error: Ollama did not finish within 1 s"
    assert [m.content for m in model.prompts[-1]] == ["long", "Once upon a", "short"]


@pytest.mark.parametrize(("raised", "code"), [("limit", 1), ("ctrl_c", 130)])
def test_a_summary_cut_short_keeps_the_part_done(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    doc: Path,
    tmp_path: Path,
    raised: str,
    code: int,
) -> None:
    from toolkit.errors import GenerationLimitError

    out = tmp_path / "summary.txt"
    out.write_text("last week's summary", encoding="utf-8")

    class HalfDone(ScriptedChatModel):
        def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
            from langchain_core.messages import AIMessageChunk
            from langchain_core.outputs import ChatGenerationChunk

            yield ChatGenerationChunk(message=AIMessageChunk(content="Revenue grew"))
            if raised == "ctrl_c":
                raise KeyboardInterrupt
            raise GenerationLimitError("the answer hit max_tokens", partial="Revenue grew")

    _use(monkeypatch, HalfDone(respond=str.upper))
    assert cli.main(["summarize", str(doc), "--out", str(out)]) == code
    line = _one_line(capsys.readouterr().err)
    saved = Path(line.rsplit("saved in ", 1)[1])
    assert "Revenue grew" in saved.read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == "last week's summary"  # the old output is untouched
