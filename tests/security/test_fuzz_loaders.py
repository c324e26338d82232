"""Hypothesis fuzz of every registered loader: random bytes and mutated real files.

Only the toolkit's own errors may escape, each call within a time and memory budget. The
figures per loader (inputs tried, worst time, worst peak memory) go to
``test-artifacts/security/fuzz_loaders.json`` and one printed line.
"""

from __future__ import annotations

import io
import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.documents import load_bytes
from toolkit.documents.registry import LOADERS
from toolkit.errors import ToolkitError

TIME_BUDGET_S = 2.0
MEMORY_BUDGET_BYTES = 64 * 1024 * 1024
EXAMPLES = 100
ARTIFACT = Path(__file__).resolve().parents[2] / "test-artifacts" / "security" / "fuzz_loaders.json"


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Title", 1)
    document.add_paragraph("Some text in a paragraph.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "a"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=10)
    for text in ("First page.", "Second page."):
        pdf.add_page()
        pdf.cell(0, 10, text)
    return bytes(pdf.output())


SEEDS: dict[str, bytes] = {
    ".txt": "Plain text, caf\u00e9.\n".encode(),
    ".md": b"# Heading\n\n- item\n\n```py\nx = 1\n```\n",
    ".rst": b"Title\n=====\n\nText.\n",
    ".html": b"<html><head><title>T</title></head><body><h1>H</h1><ul><li>a<li>b</ul>"
    b"<table><tr><td>1</td></tr></table><pre class='language-py'>x</pre></body></html>",
    ".csv": b'name,age\nann,3\n"bo,b",4\n',
    ".json": b'{"a": [1, 2, {"b": null}]}',
    ".py": b"def f():\n    return 1\n",
}
_STATS: dict[str, dict[str, Any]] = {}


def _loaders() -> list[str]:
    """One extension per distinct loader function, plus every extension with its own seed file."""
    first: dict[int, str] = {}
    for ext in sorted(LOADERS):
        first.setdefault(id(LOADERS[ext]), ext)
    return sorted(set(first.values()) | set(SEEDS) | {".pdf", ".docx"})


def _seed(ext: str) -> bytes:
    if ext == ".docx":
        return _docx()
    if ext == ".pdf":
        return _pdf()
    return SEEDS.get(ext, b"x = 1\n")


@st.composite
def _inputs(draw: st.DrawFn, seed: bytes) -> bytes:
    kind = draw(st.sampled_from(["random", "truncate", "flip", "splice", "repeat"]))
    if kind == "random":
        return draw(st.binary(max_size=4096))
    if kind == "truncate":
        return seed[: draw(st.integers(0, len(seed)))]
    if kind == "repeat":  # a part of the file many times: nesting, rows, tags
        start = draw(st.integers(0, max(len(seed) - 1, 0)))
        return seed[:start] + seed[start : start + draw(st.integers(1, 64))] * draw(st.integers(1, 1500))
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 16))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        else:
            data[at:at] = draw(
                st.sampled_from([b"<div>" * 200, b"\x00", b"\xff\xfe", b'"', b"<w:p/>", b"<<"])
            )
    return bytes(data)


def _call(data: bytes, ext: str) -> None:
    try:
        load_bytes(data, name=f"fuzz{ext}")
    except ToolkitError as exc:
        assert "\n" not in str(exc), str(exc)


def _one(data: bytes, ext: str) -> tuple[float, int]:
    """Seconds (untraced: tracemalloc slows Python several times) and peak bytes (traced) of one load."""
    started = time.perf_counter()
    _call(data, ext)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        _call(data, ext)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return elapsed, peak


@pytest.fixture(scope="module", autouse=True)
def _record() -> Any:
    import bs4  # noqa: F401 - imports are not part of a call's budget

    tracemalloc.start()
    yield
    tracemalloc.stop()
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(_STATS, indent=2, sort_keys=True))
    total = sum(s["inputs"] for s in _STATS.values())
    worst_t = max((s["worst_seconds"] for s in _STATS.values()), default=0)
    worst_m = max((s["worst_peak_bytes"] for s in _STATS.values()), default=0)
    print(
        f"\nfuzz_loaders: {total} inputs over {len(_STATS)} loaders, worst {worst_t:.3f} s, "
        f"worst peak {worst_m / 1e6:.1f} MB -> {ARTIFACT}"
    )


@pytest.mark.parametrize("ext", _loaders())
def test_loaders_raise_only_toolkit_errors_within_budget(ext: str) -> None:
    seed = _seed(ext)
    stats = _STATS.setdefault(ext, {"inputs": 0, "worst_seconds": 0.0, "worst_peak_bytes": 0})

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_inputs(seed))
    def check(data: bytes) -> None:
        elapsed, peak = _one(data, ext)
        stats["inputs"] += 1
        stats["worst_seconds"] = max(stats["worst_seconds"], round(elapsed, 4))
        stats["worst_peak_bytes"] = max(stats["worst_peak_bytes"], peak)
        assert elapsed < TIME_BUDGET_S, (ext, elapsed, data[:80])
        assert peak < MEMORY_BUDGET_BYTES, (ext, peak, data[:80])

    assert load_bytes(seed, name=f"seed{ext}")  # the unmutated file loads
    check()
