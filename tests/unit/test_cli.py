"""CLI parsing, exit codes and the chat loop (with a scripted fake model; the real model
is exercised in tests/integration/test_cli_real.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from pydantic import Field

from toolkit import cli


@pytest.mark.parametrize("command", [[], ["ask"], ["chat"], ["doctor"], ["models"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: llama-toolkit" in out
    if command:
        assert "--model" in out


def test_no_command_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 2


def test_missing_model_is_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    assert cli.main(["ask", "--model", str(tmp_path / "missing.gguf"), "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: GGUF model file not found:")
    assert err.count("\n") == 1


def test_bad_setting_is_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--temperature", "9", "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid setting: temperature (LLAMA_TOOLKIT_TEMPERATURE)")


def test_empty_stdin_prompt(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("   \n"))
    assert cli.main(["ask"]) == 2
    assert "empty" in capsys.readouterr().err


class RecordingFake(GenericFakeChatModel):
    seen: list[list[BaseMessage]] = Field(default_factory=list)
    overrides: dict[str, Any] = Field(default_factory=dict)

    def _stream(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._stream(messages, *args, **kwargs)


def _fake(monkeypatch: pytest.MonkeyPatch, answers: list[str]) -> RecordingFake:
    model = RecordingFake(messages=iter(AIMessage(a) for a in answers), seen=[], overrides={})

    def factory(**overrides: Any) -> RecordingFake:
        model.overrides.update(overrides)
        return model

    monkeypatch.setattr("toolkit.backends.factory.get_chat_model", factory)
    return model


def test_ask_streams_and_passes_overrides(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _fake(monkeypatch, ["Why did the llama cross the road?"])
    assert cli.main(["ask", "--temperature", "0.2", "--max-tokens", "9", "-s", "Be brief", "Tell", "me"]) == 0
    assert capsys.readouterr().out == "Why did the llama cross the road?\n"
    assert model.overrides == {"temperature": 0.2, "max_tokens": 9}
    assert [m.type for m in model.seen[0]] == ["system", "human"]
    assert model.seen[0][1].content == "Tell me"


def test_ask_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    model = _fake(monkeypatch, ["ok"])
    monkeypatch.setattr("sys.stdin", io.StringIO("Summarize this\n"))
    assert cli.main(["ask", "-"]) == 0
    assert model.seen[0][-1].content == "Summarize this"


def test_chat_keeps_history_and_resets(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _fake(monkeypatch, ["Hello!", "Paris.", "Hi again."])
    monkeypatch.setattr(
        "sys.stdin", io.StringIO("hello\ncapital of France?\n/reset\nhi\n/exit\nnever read\n")
    )
    assert cli.main(["chat"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == ["Hello!", "Paris.", "Hi again."]
    assert [len(m) for m in model.seen] == [1, 3, 1]  # history grew, then /reset cleared it
    assert [m.content for m in model.seen[1]] == ["hello", "Hello!", "capital of France?"]


def test_chat_unknown_command_and_eof(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _fake(monkeypatch, [])
    monkeypatch.setattr("sys.stdin", io.StringIO("/frobnicate\n"))
    assert cli.main(["chat"]) == 0  # EOF ends the chat cleanly
    assert "unknown command /frobnicate" in capsys.readouterr().err
    assert model.seen == []
