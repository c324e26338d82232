"""What ChatLlama costs over raw llama.cpp, and what its KV-cache reuse saves.

One run, two parts (see bench/README.md for how to read the output):

A. Streaming speed. Four contenders, alternated round-robin over the same prompts:
   ``ours``      toolkit's ``ChatLlama.stream()``;
   ``raw``       ``llama_cpp.Llama.create_chat_completion(stream=True)`` on a Llama loaded with
                 the same settings as ours (file, n_ctx, n_batch/n_ubatch, threads, GPU layers);
   ``community`` langchain-community's ``ChatLlamaCpp(model_path=...)`` with its defaults
                 (n_ctx=512, n_batch=8, rope_freq_base=10000, n_threads=llama.cpp's default);
   ``floor``     llama.cpp's decode alone, on ours' own context: the same prompt tokens, then
                 the greedy answer's tokens replayed through one-token ``llama_decode`` calls
                 from llama-cpp-python's low-level bindings (no sampling, no text, no
                 LangChain): what llama-bench's tg measures, at these positions in the context.
   Every run starts cold (``Llama.reset()`` first) with the same greedy sampling, and reports
   generation tokens/s = (output tokens - 1) / (time of last token - time of first token), so
   prompt processing is left out of the speed; time to first token is reported on its own.

B. KV-cache reuse. A ~2K-token, 9-turn conversation; turn 10 is timed warm (turn 9 was just
   run on the same ChatLlama, so the shared prefix is in the KV cache) and cold (after
   ``reset()``), alternating.

Only ratios between contenders measured in the same run mean anything: the machine may be
shared and noisy. Nothing here asserts on time.

    python bench/chat_overhead.py                  # embedded SmolLM2-135M
    python bench/chat_overhead.py --model ~/models/Llama-3.2-1B-Instruct-Q4_K_M.gguf
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from toolkit.backends.llamacpp import ChatLlama
from toolkit.backends.llamacpp.native import generate_options
from toolkit.embedded import embedded_model_path

SYSTEM = "You are a helpful assistant. Answer in detail."

PROMPTS = [
    "Explain how a refrigerator keeps food cold, step by step.",
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Describe the water cycle and why it matters for farming.",
    "Give practical advice for someone learning to cook at home for the first time.",
    "Compare trains and airplanes for travelling between two cities 500 km apart.",
]

# Greedy decoding for every contender; the other knobs are spelled out so that no
# contender's own default (community: repeat_penalty=1.1, temperature=0.8) leaks in.
SAMPLING: dict[str, Any] = {
    "temperature": 0.0,
    "top_k": 40,
    "top_p": 0.95,
    "min_p": 0.05,
    "repeat_penalty": 1.0,
    "seed": 1234,
}

# --sampling defaults: ChatLlama's own defaults (toolkit/settings.py), seeded, for all.
DEFAULT_SAMPLING: dict[str, Any] = {**SAMPLING, "temperature": 0.7, "repeat_penalty": 1.1}

CONTENDERS = ("ours", "raw", "community", "floor")


# -- plumbing ------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence fd 2: llama.cpp prints load diagnostics there even with verbose=False."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def to_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    roles = {SystemMessage: "system", HumanMessage: "user", AIMessage: "assistant"}
    return [{"role": roles[type(m)], "content": str(m.content)} for m in messages]


@dataclass
class Run:
    """One timed streaming call."""

    contender: str
    prompt: int
    round: int
    text: str = ""
    ttft: float = 0.0  # wall clock: call -> first chunk with text
    span: float = 0.0  # first chunk with text -> last chunk with text
    chunks: int = 0  # chunks with text
    tokens: int = 0  # output tokens, by re-tokenizing `text` (see count_tokens)
    meta: dict[str, Any] = field(default_factory=dict)  # ours: response_metadata + usage

    @property
    def tok_s(self) -> float | None:
        if self.tokens < 2 or self.span <= 0:
            return None
        return (self.tokens - 1) / self.span


def timed(pieces: Iterator[str], run: Run) -> Run:
    """Drain a stream of text pieces, stamping the first and last piece with text.

    ``pieces`` is a lazy generator: none of the contender's work (template, tokenization,
    prompt evaluation) starts before the first ``next()``, so it all falls after t0.
    """
    t0 = time.perf_counter()
    t_first = t_last = 0.0
    parts: list[str] = []
    for text in pieces:
        if text:
            t_last = time.perf_counter()
            if not parts:
                t_first = t_last
            parts.append(text)
    run.text = "".join(parts)
    run.chunks = len(parts)
    run.ttft = t_first - t0 if parts else float("nan")
    run.span = t_last - t_first
    return run


def ours_pieces(
    llm: ChatLlama, messages: list[BaseMessage], meta: dict[str, Any], **kw: Any
) -> Iterator[str]:
    for chunk in llm.stream(messages, **kw):
        if chunk.response_metadata.get("time_to_first_token") is not None:
            meta.update(chunk.response_metadata)
        if chunk.usage_metadata:
            meta["usage"] = dict(chunk.usage_metadata)
        yield str(chunk.content)


def raw_pieces(llama: Any, messages: list[dict[str, str]], **kw: Any) -> Iterator[str]:
    for chunk in llama.create_chat_completion(messages=messages, stream=True, **kw):
        choices = chunk.get("choices") or []
        if choices:
            yield choices[0].get("delta", {}).get("content") or ""


def community_pieces(llm: Any, messages: list[BaseMessage], **kw: Any) -> Iterator[str]:
    for chunk in llm.stream(messages, **kw):
        yield str(chunk.content)


class Floor:
    """The decode loop alone: what generation costs in llama.cpp, with nothing on top.

    Each prompt's greedy answer is sampled once, untimed (``Llama.generate``, the same tokens
    ours and raw stream). A timed run then evaluates the prompt (``Llama.eval``, as cold as the
    others) and replays the answer through a reusable one-token ``llama_batch``: one
    ``llama_decode`` per token and nothing else, no logits read, no sampling. The text of the
    first token is yielded once the prompt is evaluated, the rest after the last decode, so
    the span holds answer - 1 decodes, as ours' and raw's do between their first and last token.
    """

    def __init__(self, llm: ChatLlama, prompts: list[list[BaseMessage]], max_tokens: int) -> None:
        import llama_cpp

        self.llama = llama = llm.loaded.llama
        self.answers: list[tuple[list[int], list[int]]] = []
        vocab = llama._model.vocab
        for messages in prompts:
            prompt = llama.tokenize(llm.render_prompt(messages).encode(), add_bos=False, special=True)
            llama.reset()
            llama.set_seed(SAMPLING["seed"])  # as ours and raw seed each call
            answer: list[int] = []
            gen = llama.generate(prompt, **generate_options(SAMPLING, SAMPLING["temperature"]))
            for token in gen:
                if llama_cpp.llama_vocab_is_eog(vocab, token) or len(answer) >= max_tokens:
                    break
                answer.append(token)
            gen.close()
            self.answers.append((prompt, answer))
        self.batch = llama_cpp.llama_batch_init(1, 0, 1)
        self.batch.n_tokens, self.batch.n_seq_id[0], self.batch.logits[0] = 1, 1, True
        self.batch.seq_id[0][0] = 0

    def pieces(self, p: int) -> Iterator[str]:
        import llama_cpp

        llama = self.llama
        prompt, answer = self.answers[p]
        text = llama.detokenize(answer).decode("utf-8", errors="replace")
        llama.reset()
        llama.eval(prompt)
        yield text[:1]
        decode, ctx, batch, n = llama_cpp.llama_decode, llama.ctx, self.batch, llama.n_tokens
        slot, pos = batch.token, batch.pos
        for i, token in enumerate(answer[:-1]):
            slot[0], pos[0] = token, n + i
            if decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
        llama.reset()  # the KV cache now holds positions Llama does not know of: forget them
        yield text[1:]


# -- statistics and tables -----------------------------------------------------------------


def quartiles(xs: Sequence[float]) -> tuple[float, float, float]:
    if len(xs) < 2:
        x = xs[0] if xs else float("nan")
        return x, x, x
    q1, q2, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    return q1, q2, q3


def fmt(x: float | None, nd: int = 1) -> str:
    if x is None or x != x:
        return "-"
    return f"{x:.{nd}f}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells[1:]:
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def spread_row(label: str, xs: Sequence[float], scale: float = 1.0, nd: int = 1) -> list[str]:
    xs = sorted(x * scale for x in xs if x == x)
    if not xs:
        return [label, "0", "-", "-", "-", "-", "-"]
    q1, med, q3 = quartiles(xs)
    return [label, str(len(xs)), fmt(med, nd), fmt(xs[0], nd), fmt(q1, nd), fmt(q3, nd), fmt(xs[-1], nd)]


SPREAD = ["n", "median", "min", "p25", "p75", "max"]


def settings_of(llama: Any) -> dict[str, Any]:
    cp, mp = llama.context_params, llama.model_params
    return {
        "n_ctx": llama.n_ctx(),
        "n_batch": cp.n_batch,
        "n_ubatch": cp.n_ubatch,
        "n_threads": cp.n_threads,
        "n_threads_batch": cp.n_threads_batch,
        "n_gpu_layers": mp.n_gpu_layers,
        "rope_freq_base": cp.rope_freq_base or "gguf",
        "rope_freq_scale": cp.rope_freq_scale or "gguf",
        "chat_format": getattr(llama, "chat_format", None) or "-",
    }


# -- part A --------------------------------------------------------------------------------


def part_a(
    ours: ChatLlama,
    raw: Any,
    community: Any,
    count_tokens: Callable[[str], int],
    rounds: int,
    max_tokens: int,
) -> dict[str, Any]:
    prompts = [[SystemMessage(SYSTEM), HumanMessage(p)] for p in PROMPTS]
    floor = Floor(ours, prompts, max_tokens)
    lc_kw = {**SAMPLING, "max_tokens": max_tokens}
    raw_kw = {**SAMPLING, "max_tokens": max_tokens}

    def run_one(name: str, p: int, r: int) -> Run:
        run = Run(name, p, r)
        messages = prompts[p]
        gc.collect()
        # Cold prompt for everyone: forget the KV cache of the contender's llama_cpp.Llama.
        if name == "ours":
            ours.loaded.llama.reset()
            return timed(ours_pieces(ours, messages, run.meta, **lc_kw), run)
        if name == "raw":
            raw.reset()
            return timed(raw_pieces(raw, to_dicts(messages), **raw_kw), run)
        if name == "floor":
            return timed(floor.pieces(p), run)
        community.client.reset()
        return timed(community_pieces(community, messages, **lc_kw), run)

    # Warm-up, untimed: page the weights in, compile the templates, fill allocator pools.
    for name in CONTENDERS:
        run_one(name, 0, -1)

    runs: list[Run] = []
    step = 0
    for r in range(rounds):
        for p in range(len(prompts)):
            # Rotate who goes first so no contender always follows the same neighbour.
            k = step % len(CONTENDERS)
            order = CONTENDERS[k:] + CONTENDERS[:k]
            step += 1
            for name in order:
                run = run_one(name, p, r)
                # Same counting method for all: re-tokenize the streamed text with the model's
                # tokenizer. Chunk counts are not comparable (llama-cpp-python holds back text
                # that might start a stop string and merges multi-byte pieces; ChatLlama skips
                # tokens that decode to nothing), and only ours reports exact usage. For
                # identical texts (ours vs raw, greedy) this gives identical counts, so the
                # ratio is exact; ours' exact count is kept to show the method's error.
                run.tokens = count_tokens(run.text)
                runs.append(run)
    return {"runs": runs, "prompts": len(prompts), "rounds": rounds}


def report_a(res: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    runs: list[Run] = res["runs"]
    by = {c: [r for r in runs if r.contender == c] for c in CONTENDERS}
    key = {(r.contender, r.prompt, r.round): r for r in runs}

    print("\n## A. Streaming generation speed (tokens/s, higher is better)\n")
    rows = [spread_row(c, [r.tok_s for r in by[c] if r.tok_s is not None]) for c in CONTENDERS]
    print(table(["contender", *SPREAD], rows))

    print("\nOutput tokens per run (re-tokenized) and runs that hit max_tokens:\n")
    rows = []
    for c in CONTENDERS:
        toks = sorted(r.tokens for r in by[c])
        hit = sum(1 for r in by[c] if r.tokens >= max_tokens - 2)
        rows.append([c, len(toks), statistics.median(toks), toks[0], toks[-1], f"{hit}/{len(toks)}"])
    print(table(["contender", "n", "median", "min", "max", "hit max_tokens"], rows))

    print("\nPer prompt, median tokens/s:\n")
    rows = []
    for p in range(res["prompts"]):
        row: list[Any] = [f"#{p + 1}"]
        for c in CONTENDERS:
            xs = [r.tok_s for r in by[c] if r.prompt == p and r.tok_s is not None]
            row.append(fmt(statistics.median(xs)) if xs else "-")
        rows.append(row)
    print(table(["prompt", *CONTENDERS], rows))

    print("\n## A. Time to first token (ms, cold prompt, lower is better)\n")
    rows = [spread_row(c, [r.ttft for r in by[c]], scale=1000) for c in CONTENDERS]
    rows.append(
        spread_row(
            "ours (metadata)",
            [r.meta["time_to_first_token"] for r in by["ours"] if "time_to_first_token" in r.meta],
            scale=1000,
        )
    )
    print(table(["contender", *SPREAD], rows))

    def paired(a: str, b: str, attr: str) -> list[float]:
        out = []
        for r in by[a]:
            other = key.get((b, r.prompt, r.round))
            x = getattr(r, attr)
            y = getattr(other, attr) if other else None
            if x and y:
                out.append(x / y)
        return out

    def med(c: str, attr: str) -> float:
        return statistics.median([getattr(r, attr) for r in by[c] if getattr(r, attr)])

    ratios = {
        "tok/s ours/floor": (paired("ours", "floor", "tok_s"), med("ours", "tok_s") / med("floor", "tok_s")),
        "tok/s raw/floor": (paired("raw", "floor", "tok_s"), med("raw", "tok_s") / med("floor", "tok_s")),
        "tok/s ours/raw": (paired("ours", "raw", "tok_s"), med("ours", "tok_s") / med("raw", "tok_s")),
        "tok/s ours/community": (
            paired("ours", "community", "tok_s"),
            med("ours", "tok_s") / med("community", "tok_s"),
        ),
        "TTFT ours/raw": (paired("ours", "raw", "ttft"), med("ours", "ttft") / med("raw", "ttft")),
        "TTFT ours/community": (
            paired("ours", "community", "ttft"),
            med("ours", "ttft") / med("community", "ttft"),
        ),
    }
    print("\n## A. Ratios (paired = same prompt and round, run back to back)\n")
    rows = []
    for name, (xs, of_medians) in ratios.items():
        xs = sorted(xs)
        q1, q2, q3 = quartiles(xs)
        rows.append(
            [
                name,
                len(xs),
                fmt(q2, 3),
                fmt(xs[0], 3),
                fmt(q1, 3),
                fmt(q3, 3),
                fmt(xs[-1], 3),
                fmt(of_medians, 3),
            ]
        )
    print(table(["ratio", "n", "median paired", "min", "p25", "p75", "max", "of medians"], rows))

    def same_text(other: str) -> int:
        return sum(1 for r in by["ours"] if (o := key.get((other, r.prompt, r.round))) and o.text == r.text)

    same = same_text("raw")
    exact = [r for r in by["ours"] if "usage" in r.meta]
    off = [r.tokens - r.meta["usage"]["output_tokens"] for r in exact]
    print("\nChecks:")
    print(
        f"- ours and raw streamed identical text in {same}/{len(by['ours'])} paired runs ({'greedy' if SAMPLING['temperature'] == 0 else 'seeded'}, same settings)"
    )
    print(f"- floor replayed the text ours streamed in {same_text('floor')}/{len(by['ours'])} paired runs")
    print(
        f"- community streamed the same text as ours in {same_text('community')}/{len(by['ours'])} "
        "paired runs (its n_ctx/RoPE defaults change the model's output); first words, prompt #1:"
    )
    for c in CONTENDERS:
        first = next((r.text for r in by[c] if r.prompt == 0), "")
        print(f"    {c:<10} {' '.join(first.split())[:90]!r}")
    print(
        f"- re-tokenized count minus ours' exact usage.output_tokens: "
        f"min {min(off, default=0)}, max {max(off, default=0)} over {len(off)} runs"
    )
    tps_meta = [r.meta.get("tokens_per_second") for r in by["ours"] if r.meta.get("tokens_per_second")]
    if tps_meta:
        print(
            f"- ours' own response_metadata tokens_per_second: median {statistics.median(tps_meta):.1f} "
            f"(bench measures {med('ours', 'tok_s'):.1f} from outside)"
        )
    return {
        name: (statistics.median(xs) if xs else float("nan"), om, len(xs))
        for name, (xs, om) in ratios.items()
    }


# -- part B --------------------------------------------------------------------------------

_FACTS = [
    "The first step is to collect the requirements and write them down in plain words.",
    "Measure before you change anything, because intuition about speed is often wrong.",
    "A small prototype answers more questions than a long meeting about the design.",
    "Keep the interface narrow so that the parts behind it can change without notice.",
    "Caching helps only when the same work is requested again soon after.",
    "Logs should say what happened, to what, and why it matters to the reader.",
    "Tests that run in seconds get run; tests that take an hour get skipped.",
    "Every dependency is a promise someone else has to keep for you.",
    "Rolling back must be as easy as rolling forward, or nobody will dare to ship.",
    "Document the decision and the reason, since the reason is what people forget.",
    "Budgets for memory and latency belong in the design, not in the postmortem.",
    "When two goals conflict, write down which one wins and when.",
]

_QUESTIONS = [
    "How should we start planning the new inventory service?",
    "What should we measure first?",
    "Is it worth building a prototype?",
    "How do we keep the API stable?",
    "Where would a cache help us?",
    "What makes logging useful?",
    "How fast should the test suite be?",
    "How careful should we be with dependencies?",
    "Can you summarise the three most important points so far, in order of priority?",
    "Given all that, what should we do tomorrow morning?",
]


def build_conversation(llm: ChatLlama, target: int, turn9_tokens: int) -> tuple[list[BaseMessage], int]:
    """System + 8 synthetic user/assistant pairs + user 9, sized so the 9-turn history is ~target."""

    def conv(n: int) -> list[BaseMessage]:
        msgs: list[BaseMessage] = [SystemMessage("You are a careful senior engineer advising a team.")]
        for t in range(8):
            answer = " ".join(_FACTS[(t * 5 + k) % len(_FACTS)] for k in range(n))
            msgs += [HumanMessage(_QUESTIONS[t]), AIMessage(answer)]
        return [*msgs, HumanMessage(_QUESTIONS[8])]

    n = 1
    while llm.get_num_tokens_from_messages(conv(n + 1)) + turn9_tokens <= target:
        n += 1
    return conv(n), n


def part_b(llm: ChatLlama, reps: int, target: int, turn9_tokens: int, turn10_tokens: int) -> dict[str, Any]:
    llama = llm.loaded.llama
    kw9 = {**SAMPLING, "max_tokens": turn9_tokens}
    kw10 = {**SAMPLING, "max_tokens": turn10_tokens}
    turn9, n_sentences = build_conversation(llm, target, turn9_tokens)

    def run_turn(messages: list[BaseMessage], kw: dict[str, Any], label: str, rep: int) -> Run:
        run = Run(label, 0, rep)
        return timed(ours_pieces(llm, messages, run.meta, **kw), run)

    # Turn 9's answer is the model's own greedy answer, as in a real chat, so the warm KV cache
    # holds the history's tokens up to the end of that answer.
    llama.reset()
    answer9 = run_turn(turn9, kw9, "setup", -1).text
    turn10 = [*turn9, AIMessage(answer9), HumanMessage(_QUESTIONS[9])]
    history_tokens = llm.get_num_tokens_from_messages(turn10[:-1])
    prompt10_tokens = llm.get_num_tokens_from_messages(turn10)
    if prompt10_tokens + turn10_tokens >= llm.context_window:
        raise SystemExit(f"turn 10 ({prompt10_tokens} tokens) does not fit n_ctx={llm.context_window}")

    def warm(rep: int) -> Run:
        llama.reset()
        again = run_turn(turn9, kw9, "turn9", rep)
        run = run_turn(turn10, kw10, "warm", rep)
        run.meta["turn9_same"] = again.text == answer9
        return run

    def cold(rep: int) -> Run:
        llama.reset()
        return run_turn(turn10, kw10, "cold", rep)

    # No separate warm-up: the setup run above already went through the long-prompt path.
    runs: list[Run] = []
    for rep in range(reps):
        gc.collect()
        pair = (warm, cold) if rep % 2 == 0 else (cold, warm)
        for fn in pair:
            runs.append(fn(rep))
    return {
        "runs": runs,
        "history_tokens": history_tokens,
        "prompt10_tokens": prompt10_tokens,
        "sentences": n_sentences,
        "answer9_tokens": llm.get_num_tokens(answer9),
    }


def report_b(res: dict[str, Any]) -> dict[str, Any]:
    runs: list[Run] = res["runs"]
    print("\n## B. KV-cache reuse: turn 10 of a 9-turn conversation, time to first token (ms)\n")
    print(
        f"History (9 user/assistant pairs + system): {res['history_tokens']} tokens; turn-10 prompt: "
        f"{res['prompt10_tokens']} tokens; turn 9's answer (model-generated, greedy): "
        f"{res['answer9_tokens']} tokens.\n"
    )
    modes = ("warm", "cold")
    by = {m: [r for r in runs if r.contender == m] for m in modes}
    rows = []
    for m in modes:
        rows.append(spread_row(f"{m} (metadata)", [r.meta["time_to_first_token"] for r in by[m]], scale=1000))
        rows.append(spread_row(f"{m} (wall clock)", [r.ttft for r in by[m]], scale=1000))
    print(table(["turn 10", *SPREAD], rows))

    print("\nTokens reused from the KV cache (response_metadata prompt_tokens_cached):\n")
    rows = []
    for m in modes:
        cached = sorted(r.meta["prompt_tokens_cached"] for r in by[m])
        inputs = sorted(r.meta["usage"]["input_tokens"] for r in by[m])
        rows.append([m, len(cached), inputs[len(inputs) // 2], cached[0], cached[-1], inputs[0] - cached[-1]])
    print(table(["turn 10", "n", "prompt tokens", "cached min", "cached max", "evaluated (min)"], rows))
    same = sum(1 for r in by["warm"] if r.meta.get("turn9_same"))
    print(f"\nTurn 9 re-ran to the same answer before {same}/{len(by['warm'])} warm runs.")

    def ratio(attr: Callable[[Run], float]) -> float:
        return statistics.median([attr(r) for r in by["warm"]]) / statistics.median(
            [attr(r) for r in by["cold"]]
        )

    out = {
        "meta": ratio(lambda r: r.meta["time_to_first_token"]),
        "wall": ratio(lambda r: r.ttft),
        "n": min(len(by["warm"]), len(by["cold"])),
        "cached": statistics.median(r.meta["prompt_tokens_cached"] for r in by["warm"]),
        "prompt": res["prompt10_tokens"],
    }
    print(
        f"\nRatio warm / cold of median TTFT: metadata {out['meta']:.3f}, wall clock {out['wall']:.3f} "
        "(target <= 0.3)"
    )
    return out


# -- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="GGUF file (default: the embedded SmolLM2-135M)")
    ap.add_argument("--rounds", type=int, default=4, help="rounds over the 5 prompts in part A (default 4)")
    ap.add_argument("--max-tokens", type=int, default=128, help="tokens per answer in part A (default 128)")
    ap.add_argument("--kv-reps", type=int, default=6, help="warm/cold pairs in part B (default 6)")
    ap.add_argument("--history-tokens", type=int, default=2000, help="part B history size (default 2000)")
    ap.add_argument("--n-ctx", type=int, default=None, help="ours and raw n_ctx (default: ChatLlama's)")
    ap.add_argument(
        "--sampling",
        choices=("greedy", "defaults"),
        default="greedy",
        help="greedy, no penalty (default), or ChatLlama's defaults: temperature 0.7, repeat_penalty 1.1, seeded",
    )
    ap.add_argument("--skip-a", action="store_true", help="run part B only")
    ap.add_argument("--skip-b", action="store_true", help="run part A only")
    args = ap.parse_args(argv)
    if args.sampling == "defaults":
        SAMPLING.update(DEFAULT_SAMPLING)
    if args.rounds < 1 or args.kv_reps < 1 or args.max_tokens < 2:
        ap.error("--rounds and --kv-reps must be >= 1, --max-tokens >= 2")

    import llama_cpp

    with warnings.catch_warnings():
        # langchain-community warns on import that it is being sunset; it is only our baseline.
        warnings.simplefilter("ignore", DeprecationWarning)
        from langchain_community.chat_models import ChatLlamaCpp

    model = (args.model or embedded_model_path()).expanduser().resolve()
    t_start = time.perf_counter()

    ours = ChatLlama(model_path=str(model), n_ctx=args.n_ctx, verbose_load=False)
    key = ours.loaded.key
    tokenizer = ours.loaded.llama

    def count_tokens(text: str) -> int:
        return len(tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    print("# ChatLlama overhead benchmark\n")
    print(f"model: {model.name} ({model.stat().st_size / 2**20:.0f} MiB)")
    print(
        f"llama-cpp-python {llama_cpp.__version__}, cpu_count {os.cpu_count()}, python {sys.version.split()[0]}"
    )

    summary_a: dict[str, Any] | None = None
    summary_b: dict[str, Any] | None = None
    if not args.skip_a:
        with quiet_stderr():
            # The same settings as toolkit/backends/llamacpp/runtime.py loads ours with.
            raw = llama_cpp.Llama(
                model_path=str(model),
                n_ctx=key.n_ctx,
                n_batch=min(key.n_batch, key.n_ctx),
                n_ubatch=min(key.n_batch, key.n_ctx),
                n_gpu_layers=key.n_gpu_layers,
                n_threads=key.n_threads,
                n_threads_batch=key.n_threads,
                verbose=False,
            )
            # Its defaults; only the log switch changed (verbose=True prints timings per call).
            community = ChatLlamaCpp(model_path=str(model), verbose=False)

        settings = {
            "ours": settings_of(ours.loaded.llama),
            "raw": settings_of(raw),
            "community": settings_of(community.client),
            "floor": settings_of(ours.loaded.llama),  # ours' own Llama
        }
        print("\n## Load settings\n")
        names = list(settings["ours"])
        print(table(["contender", *names], [[c, *settings[c].values()] for c in CONTENDERS]))
        differ = [k for k in names if k != "chat_format" and settings["ours"][k] != settings["raw"][k]]
        if differ:
            print(f"\nWARNING: raw differs from ours in {differ}")
        print(
            f"\nSampling for all: {SAMPLING} ({args.sampling}); max_tokens {args.max_tokens}; "
            f"{len(PROMPTS)} prompts x {args.rounds} rounds, round-robin with rotating order, "
            "each run after Llama.reset() (cold prompt)."
        )
        t_a = time.perf_counter()
        res_a = part_a(ours, raw, community, count_tokens, args.rounds, args.max_tokens)
        summary_a = report_a(res_a, args.max_tokens)
        print(f"\n(part A took {time.perf_counter() - t_a:.0f} s)")
        del raw, community
        gc.collect()

    if not args.skip_b:
        t_b = time.perf_counter()
        res_b = part_b(ours, args.kv_reps, args.history_tokens, turn9_tokens=48, turn10_tokens=16)
        summary_b = report_b(res_b)
        print(f"\n(part B took {time.perf_counter() - t_b:.0f} s)")

    print("\n## Summary\n")
    print("```")
    if summary_a:
        for name, target in (
            ("tok/s ours/floor", ">= 0.97"),
            ("tok/s raw/floor", "llama-cpp-python's own loop"),
            ("tok/s ours/raw", ">= 0.97"),
            ("tok/s ours/community", "higher is better"),
            ("TTFT ours/raw", "~1.0, lower is better"),
            ("TTFT ours/community", "lower is better"),
        ):
            paired, of_medians, n = summary_a[name]
            print(f"{name:<24} {paired:6.3f}  (of medians {of_medians:.3f}, n={n})  target {target}")
    if summary_b:
        print(
            f"{'KV warm/cold TTFT':<24} {summary_b['meta']:6.3f}  (wall clock {summary_b['wall']:.3f}, "
            f"n={summary_b['n']} pairs, {summary_b['cached']:.0f}/{summary_b['prompt']} prompt tokens cached)  "
            "target <= 0.3"
        )
    print(f"{'wall time':<24} {time.perf_counter() - t_start:6.0f} s")
    print("```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
