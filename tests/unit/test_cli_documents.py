"""``llama-toolkit summarize`` and ``translate`` with a scripted model (the real model runs in
tests/integration/test_cli_real.py)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedChatModel, echo_markers

from toolkit import cli


def _use(monkeypatch: pytest.MonkeyPatch, model: ScriptedChatModel) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def factory(**overrides: Any) -> ScriptedChatModel:
        seen.update(overrides)
        return model

    monkeypatch.setattr("toolkit.backends.factory.get_chat_model", factory)
    return seen


class _Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(io.BytesIO(data), encoding="utf-8"))


@pytest.mark.parametrize("command", [["summarize"], ["translate"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "--model" in capsys.readouterr().out


def test_summarize_file_with_progress(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    llm = ScriptedChatModel(respond=echo_markers(), context_window=600)
    seen = _use(monkeypatch, llm)
    doc = tmp_path / "report.md"
    doc.write_text("\n\n".join(f"M{i} " + "word " * 60 for i in range(40)), encoding="utf-8")
    code = cli.main(["summarize", str(doc), "--style", "bullets", "--length", "short", "--temperature", "0"])
    assert code == 0
    out, err = capsys.readouterr()
    assert out.split() == [f"M{i}" for i in range(40)]
    assert seen == {"temperature": 0.0}
    assert "summarizing parts" in err  # the progress bar drew on stderr
    assert "3 bullet points" in str(llm.prompts[-1][0].content)


def test_translate_stdin_to_file_atomically(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _use(monkeypatch, ScriptedChatModel(respond=str.upper))
    _stdin(monkeypatch, b"# Title\n\nSome text.\n")
    out = tmp_path / "fr.md"
    assert cli.main(["translate", "-", "--to", "fr", "--glossary", "text=texte", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == "# TITLE\n\nSOME texte.\n"
    assert capsys.readouterr().out == ""


def test_failed_translation_keeps_the_previous_output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken(text: str) -> str:
        raise ConnectionError("server went away")

    _use(monkeypatch, ScriptedChatModel(respond=broken))
    doc = tmp_path / "in.txt"
    doc.write_text("Hello there.", encoding="utf-8")
    out = tmp_path / "out.txt"
    out.write_text("previous translation", encoding="utf-8")
    assert cli.main(["translate", str(doc), "--to", "de", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "server went away" in err and "Traceback" not in err
    assert out.read_text(encoding="utf-8") == "previous translation"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.txt")]  # no temp left


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["translate", "{doc}", "--to", "klingonese"], "unknown language 'klingonese'"),
        (["summarize", "{missing}"], "not found"),
        (["summarize", "{binary}"], "binary"),
        (["summarize", "{empty}"], "empty"),
        (["translate", "{doc}", "--to", "fr", "--glossary", "=x"], "has no term"),
    ],
)
def test_bad_input_is_a_one_line_error(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    _use(monkeypatch, ScriptedChatModel(respond=str.upper))
    files = {
        "doc": tmp_path / "doc.txt",
        "missing": tmp_path / "missing.txt",
        "binary": tmp_path / "image.txt",
        "empty": tmp_path / "empty.md",
    }
    files["doc"].write_text("Hello.", encoding="utf-8")
    files["binary"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    files["empty"].write_text("  \n", encoding="utf-8")
    argv = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err.lower() and err.count("\n") == 1


def test_bad_length_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["summarize", "x.txt", "--length", "huge"])
    assert exit_info.value.code == 2
    assert "short, medium, long or a number of words" in capsys.readouterr().err
