"""``--profile`` on the command line: the table on stderr after ``ingest`` (real MiniLM embedder,
real Chroma store), after ``ask`` (with ``--stats`` still printed) and after an error. The real
chat model's prompt and decode rows are tested in tests/integration/test_profile_real.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from toolkit import cli, profiling
from toolkit.backends.embeddings import factory as embedding_factory
from toolkit.backends.embeddings import minilm


def table(err: str) -> dict[str, list[str]]:
    """The report's rows by phase, split on whitespace (what follows the report's title)."""
    lines = err.splitlines()
    start = lines.index(profiling.TITLE)
    assert lines[start + 1].split() == ["phase", "seconds", "share", "calls", "counts", "rate"]
    return {line.split()[0]: line.split() for line in lines[start + 2 :]}


def seconds(rows: dict[str, list[str]], phase: str) -> float:
    return float(rows[phase][1])


def test_ingest_profile_shows_read_load_embed_and_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loaded in this run, whatever ran before: no session in the registry, and a fresh shared
    # embedder (an earlier test's would still hold its session).
    monkeypatch.setattr(minilm, "_runtimes", {})
    embedding_factory._shared_minilm.cache_clear()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bikes.md").write_text("# Bikes\n\n" + "The repair cafe fixes brakes and gears. " * 60)
    (docs / "library.txt").write_text("The library lends up to 8 books for three weeks. " * 40)
    assert cli.main(["ingest", str(docs), "--collection", "notes", "--profile"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("notes: 2 added")
    rows = table(captured.err)
    assert list(rows) == ["read", "load", "embed", "store", "other", "wall"]
    assert rows["read"][3:6] == ["3", "2", "files"]  # the manifest check (no file counted), then 2 files
    chunks = int(captured.out.split(" chunks added")[0].split()[-1])
    embed = " ".join(rows["embed"])
    assert f" {chunks} texts, " in embed and embed.endswith("texts/s")
    assert " ".join(rows["store"][4:6]) == f"{chunks} chunks"
    assert rows["load"][4:6] == ["1", "model"]  # the MiniLM session
    phases = sum(seconds(rows, p) for p in ("read", "load", "embed", "store"))
    assert phases + seconds(rows, "other") == pytest.approx(seconds(rows, "wall"), abs=0.002)
    assert not profiling.is_enabled()

    # Nothing changed: the manifest answers without Chroma, and the table says so.
    assert cli.main(["ingest", str(docs), "--collection", "notes", "--profile"]) == 0
    again = table(capsys.readouterr().err)
    assert list(again) == ["read", "other", "wall"]


class _Fake(GenericFakeChatModel):
    def _stream(self, *args: Any, **kwargs: Any) -> Any:
        for chunk in super()._stream(*args, **kwargs):
            chunk.message.usage_metadata = {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5}
            yield chunk
            break


def test_ask_profile_keeps_stats_and_is_all_other_without_a_local_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _Fake(messages=iter([AIMessage("Hello there")]))
    monkeypatch.setattr("toolkit.backends.factory.get_chat_model", lambda **kw: model)
    assert cli.main(["ask", "--profile", "--stats", "hi"]) == 0
    captured = capsys.readouterr()
    stats, *report = captured.err.splitlines()
    assert stats.startswith("[3 prompt tokens, 2 generated")
    rows = table("\n".join(report))
    assert list(rows) == ["other", "wall"]  # a fake model does no measured work
    assert rows["other"][1] == rows["wall"][1]


def test_profile_is_printed_after_an_error_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--profile", "--model", str(tmp_path / "missing.gguf"), "hi"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("error: GGUF model file not found:")
    assert "wall" in table("\n".join(err[1:]))


def test_without_profile_nothing_is_printed_or_recorded(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = GenericFakeChatModel(messages=iter([AIMessage("ok")]))
    monkeypatch.setattr("toolkit.backends.factory.get_chat_model", lambda **kw: model)
    assert cli.main(["ask", "hi"]) == 0
    assert "profile" not in capsys.readouterr().err
    assert profiling.snapshot() == {} and not profiling.is_enabled()


@pytest.mark.parametrize("command", ["ask", "summarize", "translate", "ingest"])
def test_profile_is_offered_where_the_issue_asks(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    assert "--profile" in capsys.readouterr().out
