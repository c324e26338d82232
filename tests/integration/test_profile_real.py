"""``ask --profile`` on the real embedded model: llama.cpp's load, prompt evaluation and decoding
are each measured, counted and add up with the rest to the wall time."""

from __future__ import annotations

import pytest

from toolkit import cli, profiling
from toolkit.backends.llamacpp.runtime import unload_all

pytestmark = pytest.mark.integration


def test_ask_profile_on_the_embedded_model(embedded_model: str, capsys: pytest.CaptureFixture[str]) -> None:
    unload_all()  # the load is part of this run
    argv = ["ask", "--backend", "llamacpp", "--model", embedded_model, "--max-tokens", "24", "--seed", "7"]
    assert cli.main([*argv, "--profile", "--stats", "Name three colours."]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip()
    err = captured.err.splitlines()
    stats = next(line for line in err if line.startswith("["))
    prompt_tokens, generated = int(stats[1:].split()[0]), int(stats.split(", ")[1].split()[0])
    rows = {line.split()[0]: line.split() for line in err[err.index(profiling.TITLE) + 2 :]}
    assert list(rows) == ["load", "prompt", "decode", "other", "wall"]
    assert rows["load"][4:6] == ["1", "model"]
    assert rows["prompt"][4:8] == [str(prompt_tokens), "tokens,", "0", "cached"]  # a fresh load
    # Every token sampled is counted, the end-of-turn token too when the answer ends by itself.
    assert int(rows["decode"][4]) in (generated, generated + 1)
    assert rows["prompt"][-1] == rows["decode"][-1] == "tokens/s"
    total = sum(float(rows[p][1]) for p in ("load", "prompt", "decode", "other"))
    assert total == pytest.approx(float(rows["wall"][1]), abs=0.003)

    # Again: the model stays loaded, and the prompt is partly found in the KV cache.
    assert cli.main([*argv, "--profile", "Name three colours."]) == 0
    err = capsys.readouterr().err.splitlines()
    rows = {line.split()[0]: line.split() for line in err[err.index(profiling.TITLE) + 2 :]}
    assert "load" not in rows and "cached" in " ".join(rows["prompt"])
