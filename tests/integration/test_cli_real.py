"""The installed ``llama-toolkit`` command on the real embedded model, as a user runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

EXE = Path(sys.executable).with_name("llama-toolkit")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_") and k != "OLLAMA_HOST"}
    env["LLAMA_TOOLKIT_MAX_TOKENS"] = "64"
    return env


def _offline_prefix() -> list[str]:
    """Run in a new network namespace with no interfaces up: no network at all."""
    unshare = shutil.which("unshare")
    if unshare:
        probe = subprocess.run([unshare, "-rn", "true"], capture_output=True)
        if probe.returncode == 0:
            return [unshare, "-rn"]
    if os.environ.get("CI"):
        pytest.fail("unshare -rn is unavailable: cannot prove the CLI works offline")
    pytest.skip("unshare -rn is not permitted here (needs user namespaces); CI runs this test")


def test_ask_streams_a_joke_with_networking_disabled() -> None:
    prefix = _offline_prefix()
    # Inside the namespace even loopback is down: prove it first.
    probe = subprocess.run(
        [
            *prefix,
            sys.executable,
            "-c",
            "import socket,sys; s=socket.socket(); s.settimeout(2); sys.exit(3 if s.connect_ex(('1.1.1.1', 80)) == 0 else 0)",
        ],
        capture_output=True,
    )
    assert probe.returncode == 0, "network is reachable inside the namespace"
    proc = subprocess.Popen(
        [*prefix, str(EXE), "ask", "Tell me a joke", "--max-tokens", "120", "--stats"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_env(),
    )
    assert proc.stdout is not None
    reads: list[bytes] = []
    while chunk := os.read(proc.stdout.fileno(), 65536):
        reads.append(chunk)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    out = b"".join(reads).decode()
    assert out.strip()
    assert len(reads) >= 3, "the answer arrived in one piece: it was not streamed"
    assert "generated" in err.decode()  # --stats line


def test_chat_session_from_stdin() -> None:
    proc = subprocess.run(
        [str(EXE), "chat", "--temperature", "0"],
        input="Hello!\n/reset\nWhat is 2+2?\n/exit\n",
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "(conversation cleared)" in proc.stderr
    assert len([line for line in proc.stdout.splitlines() if line.strip()]) >= 2


def test_doctor_reports_the_embedded_setup() -> None:
    proc = subprocess.run([str(EXE), "doctor"], capture_output=True, text=True, env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "SmolLM2-135M-Instruct.Q4_1.gguf" in out
    assert any(line.startswith("context in effect") and line.endswith(" 8192") for line in out.splitlines())
    assert "RoPE freq base (from GGUF)  100000.0" in out
    assert "status" in out and "ready" in out


def test_errors_exit_non_zero_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    proc = subprocess.run(
        [str(EXE), "ask", "--model", str(bad), "hi"], capture_output=True, text=True, env=_env()
    )
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and "is not a GGUF model file" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_summarize_and_translate_files_offline(tmp_path: Path) -> None:
    prefix = _offline_prefix()
    report = tmp_path / "report.md"
    report.write_text(
        "# Pumps\n\n"
        + "\n\n".join(
            f"Station {i} was inspected on day {i} and its pump was repaired by the northern crew."
            for i in range(40)
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [*prefix, str(EXE), "summarize", str(report), "--length", "short", "--temperature", "0"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    out = tmp_path / "fr.md"
    proc = subprocess.run(
        [*prefix, str(EXE), "translate", "-", "--to", "fr", "--out", str(out), "--temperature", "0"],
        input="# Hello\n\nI love programming.\n\n```\nkeep = 1\n```\n",
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    translated = out.read_text(encoding="utf-8")
    assert translated.startswith("# ") and "```\nkeep = 1\n```" in translated
    assert translated != "# Hello\n\nI love programming.\n\n```\nkeep = 1\n```\n"


@pytest.mark.parametrize(
    ("question", "call", "answer"),
    [
        # the README's own example (issue 16): the call and the answer both carry 397.8
        ("What is 17% of 2,340?", "calculator(", "397.8"),
        # issue 16's transcripts: before, value=2 (cut at the comma) and from_unit="lb,"
        (
            "Convert 2,340 kg to pounds.",
            'convert_units(value=2340, from_unit="kg", to_unit="pounds")',
            "5158.82",
        ),
        # before, value=17: "17% of 2,340 kg" is one quantity, 397.8 kg
        (
            "What is 17% of 2,340 kg in pounds?",
            'convert_units(value=397.8, from_unit="kg", to_unit="pounds")',
            "876.999",
        ),
    ],
)
def test_agent_answers_from_grounded_calls(question: str, call: str, answer: str) -> None:
    # A call's arguments are decoded greedily (tool_call_temperature 0) at any temperature; the
    # answer after the result is sampled, so it is made greedy too: the same on every machine.
    proc = subprocess.run(
        [str(EXE), "agent", question, "--temperature", "0"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    print(f"$ llama-toolkit agent {question!r}\n{proc.stdout}")
    assert proc.returncode == 0, proc.stderr
    step, result, *rest = proc.stdout.strip().splitlines()
    assert step.startswith(f"-> {call}") and answer in result
    assert answer in " ".join(rest), "the final answer does not carry the tool's number"
