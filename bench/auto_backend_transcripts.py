"""Transcripts of ``backend = "auto"`` as a new user meets it (issue 14's must-show).

A fresh data folder, nothing configured (no LLAMA_TOOLKIT_* variables, no .env), and three
situations, each shown with ``llama-toolkit doctor`` and ``llama-toolkit ask "Tell me a joke"``
run as real subprocesses:

1. A loopback Ollama that has ``llama3.2`` pulled: ``ask`` goes to Ollama.
2. The same Ollama without it: the embedded model answers, with the one-line hint.
3. After ``llama-toolkit pull llama3.2:1b --via hub`` from a loopback Hugging Face hub: the
   GGUF in the models folder is used.

The Ollama and the hub are test servers on 127.0.0.1 (``tests/unit/test_ollama_wire.py``'s
FakeOllama, ``tests/loopback_hub.py``). The fake Ollama streams one canned reply that says it
is the fake server (FAKE_REPLY); the hub serves the embedded SmolLM2-135M GGUF under Llama 3.2's file name
(no Llama 3.2 weights can be downloaded here), so in step 3 the model *name* in ``doctor`` is
SmolLM2's: what the transcript shows is which file ``auto`` picked and why.

    python bench/auto_backend_transcripts.py      # writes test-artifacts/auto_backend_transcripts.txt
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import unit.test_ollama_wire as wire
from loopback_hub import LoopbackHub
from pytest_httpserver import HTTPServer
from unit.test_ollama_wire import FakeOllama

from toolkit.embedded import embedded_model_path

ROOT = Path(__file__).resolve().parent.parent
EXE = Path(sys.executable).with_name("llama-toolkit")
OUT = ROOT / "test-artifacts" / "auto_backend_transcripts.txt"
HUB_REPO = "bartowski/Llama-3.2-1B-Instruct-GGUF"
HUB_FILE = "Llama-3.2-1B-Instruct-Q4_K_M.gguf"
FAKE_REPLY = ("[canned reply from the FAKE loopback Ollama server] ", "No joke: Ollama answered.")


def _env(data: Path, ollama: str, hub: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLAMA_TOOLKIT_") and k != "OLLAMA_HOST"}
    env.update(
        LLAMA_TOOLKIT_DATA_DIR=str(data),
        OLLAMA_HOST=ollama,
        HF_ENDPOINT=hub,
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        LLAMA_TOOLKIT_TEMPERATURE="0",  # a repeatable answer from the embedded model
        LLAMA_TOOLKIT_MAX_TOKENS="60",
    )
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path, log: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(EXE), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    shown = " ".join(a if " " not in a else f'"{a}"' for a in args)
    log.append(f"$ llama-toolkit {shown}")
    for line in proc.stdout.rstrip("\n").splitlines():
        log.append(line)
    for line in proc.stderr.rstrip("\n").splitlines():
        log.append(f"[stderr] {line}")
    log.append(f"[exit {proc.returncode}]")
    log.append("")
    return proc


def _doctor_lines(proc: subprocess.CompletedProcess[str]) -> dict[str, str]:
    facts = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition("  ")
        facts[key.strip()] = value.strip()
    return facts


def main() -> int:
    log: list[str] = []
    checks: list[tuple[str, bool]] = []
    with tempfile.TemporaryDirectory() as tmp, LoopbackHub() as hub:
        work = Path(tmp)
        data = work / "data"
        server = HTTPServer(host="127.0.0.1", port=_free_port())
        server.start()
        try:
            wire.ANSWER_PARTS = FAKE_REPLY  # FakeOllama streams these parts on /api/chat
            fake = FakeOllama(server)
            env = _env(data, fake.url, hub.url)

            log.append(f"## 1. Ollama at {fake.url} has llama3.2 pulled (a FAKE server: its reply is canned)")
            doctor = _doctor_lines(_run(["doctor"], env, work, log))
            ask = _run(["ask", "Tell me a joke"], env, work, log)
            checks.append(("1: doctor says auto -> ollama", doctor.get("backend") == "auto -> ollama"))
            checks.append(("1: ask answered by Ollama", ask.stdout.strip() == "".join(FAKE_REPLY).strip()))
            checks.append(("1: ask sent to /api/chat", bool(fake.bodies("/api/chat"))))

            fake.models.pop("llama3.2")
            log.append("## 2. The same Ollama without llama3.2 (only llama3.2-vision), no GGUF")
            doctor = _doctor_lines(_run(["doctor"], env, work, log))
            ask = _run(["ask", "Tell me a joke"], env, work, log)
            hint = [line for line in ask.stderr.splitlines() if line.startswith("llama-toolkit: ")]
            checks.append(("2: doctor says auto -> llamacpp", doctor.get("backend") == "auto -> llamacpp"))
            checks.append(("2: one hint line on stderr", len(hint) == 1 and "pull llama3.2" in hint[0]))
            checks.append(("2: embedded model answered", ask.returncode == 0 and bool(ask.stdout.strip())))

            hub.add(HUB_REPO, HUB_FILE, embedded_model_path())
            log.append(
                f"## 3. llama-toolkit pull from a loopback hub at {hub.url} (serving the embedded GGUF"
            )
            log.append(f"##    under {HUB_FILE})")
            pull = _run(["pull", "llama3.2:1b", "--via", "hub"], env, work, log)
            doctor = _doctor_lines(_run(["doctor"], env, work, log))
            ask = _run(["ask", "Tell me a joke"], env, work, log)
            gguf = data / "models" / HUB_FILE
            checks.append(("3: pull succeeded", pull.returncode == 0 and gguf.is_file()))
            checks.append(("3: doctor uses the pulled GGUF", doctor.get("model") == str(gguf)))
            checks.append(("3: no hint any more", "llama-toolkit: " not in ask.stderr))
            checks.append(("3: ask answered", ask.returncode == 0 and bool(ask.stdout.strip())))
        finally:
            server.stop()
    log.append("## checks")
    log.extend(f"{'ok  ' if ok else 'FAIL'} {name}" for name, ok in checks)
    text = "\n".join(log) + "\n"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    sys.stdout.write(f"written to {OUT}\n")
    return 0 if all(ok for _, ok in checks) else 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
