"""Facts about this machine that decide llama.cpp's defaults."""

from __future__ import annotations

import os
from functools import lru_cache

__all__ = ["gpu_offload_supported", "physical_cores"]


@lru_cache(maxsize=1)
def physical_cores() -> int:
    """Physical cores available to this process (hyper-threads slow llama.cpp down)."""
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # macOS, Windows
        allowed = set(range(os.cpu_count() or 1))
    cores: set[tuple[str, str]] = set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            proc = phys = core = None
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "processor":
                    proc = int(value)
                elif key == "physical id":
                    phys = value
                elif key == "core id":
                    core = value
                elif not key and proc is not None:
                    if proc in allowed and core is not None:
                        cores.add((phys or "0", core))
                    proc = phys = core = None
            if proc is not None and proc in allowed and core is not None:
                cores.add((phys or "0", core))
    except OSError:
        pass
    return max(1, min(len(cores) or len(allowed), len(allowed)))


@lru_cache(maxsize=1)
def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp was built with a GPU backend (CUDA, Metal, Vulkan...)."""
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())
