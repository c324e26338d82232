"""What ``llama-toolkit serve`` costs over the same model in process.

One run, alternating two contenders on the same prompts (see bench/README.md):

  ``serve``  the ``openai`` client streaming ``/v1/chat/completions`` from a
             ``llama-toolkit serve`` process on a free loopback port;
  ``local``  ``ChatLlama.stream()`` in this process, built from the same settings.

Both load the same GGUF with the same settings and greedy sampling, and every run's prompt
starts with its own session line, so no run reuses another's KV cache. Reported per pair (same
prompt and round, back to back): generation tokens/s = (output tokens - 1) / (last text - first
text), and time to first token (call -> first text). Targets: tokens/s serve/local >= 0.95,
TTFT serve/local <= 1.2.

Then ``/v1/embeddings`` requests/s against ``get_embeddings().embed_documents`` in process on
the same batches, alternating.

Only ratios measured in the same run mean anything: the machine may be shared and noisy.

    python bench/serve_overhead.py                 # embedded SmolLM2-135M
    python bench/serve_overhead.py --model ~/models/Llama-3.2-1B-Instruct-Q4_K_M.gguf --rounds 2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from serve_process import serving

PASSAGE = (
    "The city library opened in 1911 with two thousand books donated by local families. In 1958 "
    "a new wing added a children's room and a reading hall with tall windows facing the river. "
    "The building closed for repairs after the flood of 1976, when water reached the first shelf, "
    "and reopened two years later with a raised floor and a catalogue on microfilm. Today it "
    "lends about three hundred thousand items a year, runs evening classes in languages and "
    "computing, and keeps the town's newspaper archive, which volunteers are scanning page by page."
)

PROMPTS = [
    "Explain how a refrigerator keeps food cold, step by step.",
    f"Summarize this text in three sentences:\n\n{PASSAGE}",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    f"List the dates in this text and what happened on each:\n\n{PASSAGE}",
    "Give practical advice for someone learning to cook at home for the first time.",
]

EMBED_TEXTS = [
    PASSAGE,
    "How do I reset my password?",
    "The quarterly report shows revenue up four percent.",
    "Rivers carry sediment to the sea, building deltas over centuries.",
    "A short note about the meeting on Tuesday at ten.",
    "Photosynthesis turns light, water and carbon dioxide into sugar.",
    "The train leaves platform two at 7:45 every weekday.",
    "Bake the bread for forty minutes until the crust is golden.",
]


@dataclass
class Run:
    contender: str
    prompt: int
    round: int
    text: str = ""
    ttft: float = float("nan")
    span: float = 0.0
    tokens: int = 0

    @property
    def tok_s(self) -> float:
        return (self.tokens - 1) / self.span if self.tokens >= 2 and self.span > 0 else float("nan")


def timed(pieces: Iterator[tuple[str, int]], run: Run) -> Run:
    """Drain ``(text, output_tokens_or_0)`` pieces, stamping the first and last text."""
    t0 = time.perf_counter()
    first = last = 0.0
    parts: list[str] = []
    for text, tokens in pieces:
        if tokens:
            run.tokens = tokens
        if text:
            last = time.perf_counter()
            if not parts:
                first = last
            parts.append(text)
    run.text, run.span = "".join(parts), last - first
    run.ttft = first - t0 if parts else float("nan")
    return run


def local_pieces(llm: Any, messages: list[BaseMessage]) -> Iterator[tuple[str, int]]:
    for chunk in llm.stream(messages):
        usage = chunk.usage_metadata or {}
        yield str(chunk.content), int(usage.get("output_tokens") or 0)


def serve_pieces(
    client: Any, messages: list[dict[str, str]], opts: dict[str, Any]
) -> Iterator[tuple[str, int]]:
    stream = client.chat.completions.create(
        model="default", messages=messages, stream=True, stream_options={"include_usage": True}, **opts
    )
    for chunk in stream:
        if chunk.usage is not None:
            yield "", chunk.usage.completion_tokens
        for choice in chunk.choices:
            yield choice.delta.content or "", 0


def median(xs: Sequence[float]) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def spread(xs: Sequence[float]) -> str:
    xs = sorted(x for x in xs if x == x)
    if not xs:
        return "-"
    return f"median {statistics.median(xs):.3f} (min {xs[0]:.3f}, max {xs[-1]:.3f}, n={len(xs)})"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="GGUF file (default: the embedded SmolLM2-135M)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds over the 5 prompts (default 3)")
    ap.add_argument("--max-tokens", type=int, default=128, help="tokens per answer (default 128)")
    ap.add_argument("--embed-reps", type=int, default=20, help="embedding request pairs (default 20)")
    args = ap.parse_args(argv)

    import openai

    from toolkit.backends.factory import chat_model_from_settings
    from toolkit.embedded import embedded_model_path
    from toolkit.settings import get_settings

    model = str(Path(args.model).expanduser()) if args.model else str(embedded_model_path())
    common: dict[str, Any] = {"temperature": 0.0, "seed": 1234, "max_tokens": args.max_tokens}
    settings = get_settings(backend="llamacpp", model=model, **common)
    cli = ["--backend", "llamacpp", "--model", model, "--temperature", "0", "--seed", "1234"]
    cli += ["--max-tokens", str(args.max_tokens)]
    print(
        f"# serve overhead: {Path(model).name}, {args.rounds} rounds x {len(PROMPTS)} prompts, "
        f"max_tokens {args.max_tokens}\n"
    )

    local = chat_model_from_settings(settings)
    runs: list[Run] = []
    with serving(args=cli, timeout=300) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=600)
        for contender in ("serve", "local"):  # warm-up: load pages, first-call costs
            warm = [HumanMessage("Say hi.")]
            if contender == "local":
                timed(local_pieces(local, warm), Run("warm", -1, -1))
            else:
                timed(
                    serve_pieces(client, [{"role": "user", "content": "Say hi."}], common),
                    Run("warm", -1, -1),
                )
        for r in range(args.rounds):
            for i, prompt in enumerate(PROMPTS):
                system = f"Session {r}-{i}. You are a helpful assistant. Answer in detail."
                lc = [SystemMessage(system), HumanMessage(prompt)]
                wire = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
                order = ("serve", "local") if (r + i) % 2 == 0 else ("local", "serve")
                for contender in order:
                    run = Run(contender, i, r)
                    pieces = (
                        local_pieces(local, lc)
                        if contender == "local"
                        else serve_pieces(client, wire, common)
                    )
                    runs.append(timed(pieces, run))
                    print(
                        f"  round {r} prompt {i} {contender:5s}: {run.tokens:4d} tokens, "
                        f"TTFT {run.ttft * 1000:7.1f} ms, {run.tok_s:6.1f} tok/s",
                        flush=True,
                    )

        embedder, embed_ratio = _embeddings(client, settings, args.embed_reps)

    pairs: dict[tuple[int, int], dict[str, Run]] = {}
    for run in runs:
        pairs.setdefault((run.round, run.prompt), {})[run.contender] = run
    tok_ratio = [p["serve"].tok_s / p["local"].tok_s for p in pairs.values()]
    ttft_ratio = [p["serve"].ttft / p["local"].ttft for p in pairs.values()]
    same_text = sum(p["serve"].text == p["local"].text for p in pairs.values())
    by = {c: [r for r in runs if r.contender == c] for c in ("serve", "local")}

    print("\n## Chat streaming (median of each contender)\n")
    print("| contender | tok/s | TTFT ms | output tokens |")
    print("|---|---|---|---|")
    for c, rs in by.items():
        print(
            f"| {c} | {median([r.tok_s for r in rs]):.1f} | {median([r.ttft for r in rs]) * 1000:.1f} | "
            f"{median([r.tokens for r in rs]):.0f} |"
        )
    tok, ttft = median(tok_ratio), median(ttft_ratio)
    print("\n## Summary\n")
    print(
        f"- tok/s serve/local, paired: {spread(tok_ratio)}  target >= 0.95: {'met' if tok >= 0.95 else 'MISSED'}"
    )
    print(
        f"- TTFT serve/local, paired:  {spread(ttft_ratio)}  target <= 1.2: {'met' if ttft <= 1.2 else 'MISSED'}"
    )
    print(f"- identical text (greedy): {same_text} of {len(pairs)} pairs")
    print(f"- /v1/embeddings requests/s ÷ in-process {embedder}: {spread(embed_ratio)}")
    return 0


def _embeddings(client: Any, settings: Any, reps: int) -> tuple[str, list[float]]:
    """Requests/s of ``/v1/embeddings`` ÷ calls/s of the same embedder in process, paired."""
    from toolkit.backends.embeddings import get_embeddings

    embedder = get_embeddings(settings.embeddings)
    batch = EMBED_TEXTS
    client.embeddings.create(model="embeddings", input=batch)  # the server loads its embedder
    embedder.embed_documents(batch)
    ratios = []
    for k in range(reps):
        times: dict[str, float] = {}
        for who in ("serve", "local") if k % 2 == 0 else ("local", "serve"):
            t0 = time.perf_counter()
            if who == "serve":
                client.embeddings.create(model="embeddings", input=batch)
            else:
                embedder.embed_documents(batch)
            times[who] = time.perf_counter() - t0
        ratios.append(times["local"] / times["serve"])  # (1/serve) / (1/local)
    print(f"\n## Embeddings: {reps} pairs of a {len(batch)}-text batch, {settings.embeddings}\n")
    return str(settings.embeddings), ratios


if __name__ == "__main__":
    raise SystemExit(main())
