"""What picking one token costs, ours against llama.cpp's own sampler chain, per sampling setting.

The decode is left out: after one prompt is evaluated, each sampler picks ``--tokens`` tokens in a
row from the same logits (it accepts each, so a repeat penalty's window fills and slides as in a
real answer). Per setting:

  ours        ``native.sampler_for``: the highest logit read in place when greedy, else
              llama.cpp's chain without its penalties sampler; the repeat penalty applied by
              ``RepeatPenalty`` to the window's own tokens only;
  llama.cpp   the chain ``Llama.generate`` builds (``Llama._init_sampler``), penalties included,
              one ``llama_sampler_sample`` a token: what raw llama-cpp-python pays, and what
              ChatLlama paid before.

Printed: microseconds a token (median of ``--rounds``), and that cost as a share of one decoded
token of this model (the floor's time a token, measured here: one-token ``llama_decode`` calls).
Greedy and seeded answers are token for token the same either way
(tests/integration/test_native_sampling.py).

    python bench/sampling_cost.py
    python bench/sampling_cost.py --model ~/models/Llama-3.2-1B-Instruct-Q4_K_M.gguf
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

SETTINGS = [
    ("greedy, repeat_penalty 1.0", 0.0, 1.0),
    ("greedy, repeat_penalty 1.1", 0.0, 1.1),
    ("temperature 0.7, repeat_penalty 1.0", 0.7, 1.0),
    ("temperature 0.7, repeat_penalty 1.1 (ChatLlama's defaults)", 0.7, 1.1),
]


def per_token(pick: Any, n: int) -> float:
    for _ in range(64):
        pick()
    t0 = time.perf_counter()
    for _ in range(n):
        pick()
    return (time.perf_counter() - t0) / n * 1e6


def decode_cost(llama: Any, n: int) -> float:
    """Microseconds of one one-token ``llama_decode`` at the end of the evaluated prompt."""
    import llama_cpp

    batch = llama_cpp.llama_batch_init(1, 0, 1)
    try:
        batch.n_tokens, batch.n_seq_id[0], batch.logits[0] = 1, 1, True
        batch.seq_id[0][0] = 0
        ctx, start = llama._ctx.ctx, llama.n_tokens
        t0 = time.perf_counter()
        for i in range(n):
            batch.token[0], batch.pos[0] = 1000 + i, start + i
            if llama_cpp.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed")
        elapsed = time.perf_counter() - t0
        llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx), 0, start, -1)
        return elapsed / n * 1e6
    finally:
        llama_cpp.llama_batch_free(batch)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, default=None, help="GGUF file (default: the embedded SmolLM2-135M)"
    )
    parser.add_argument("--tokens", type=int, default=2000, help="tokens picked per timing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    import llama_cpp
    from langchain_core.messages import HumanMessage

    from toolkit import ChatLlama
    from toolkit.backends.llamacpp import native
    from toolkit.backends.llamacpp.decoding import evaluate_prompt
    from toolkit.embedded import embedded_model_path

    model = (args.model or embedded_model_path()).expanduser().resolve()
    llm = ChatLlama(model_path=str(model), verbose_load=False)
    loaded = llm.loaded
    llama = loaded.llama
    prompt = llm.render_prompt([HumanMessage("Tell me a story about a dragon and a cat.")])
    tokens = llama.tokenize(prompt.encode(), add_bos=False, special=True)
    base = {"top_k": 40, "top_p": 0.95, "min_p": 0.05}
    rows = []
    with loaded.lock:
        llama.reset()
        evaluate_prompt(loaded, tokens, repeatable=True)
        decode = statistics.median(decode_cost(llama, 64) for _ in range(args.rounds))
        evaluate_prompt(loaded, tokens, repeatable=True)  # the prompt's last logits again
        ctx = llama._ctx.ctx
        for label, temperature, penalty in SETTINGS:
            sampling = {**base, "temperature": temperature, "repeat_penalty": penalty}
            ours, theirs = [], []
            for _ in range(args.rounds):
                pick, sampler = native.sampler_for(llama, sampling, temperature)
                ours.append(per_token(pick, args.tokens))
                if sampler is not None:
                    sampler.close()
                chain = native.chain_for(llama, sampling, temperature)
                theirs.append(
                    per_token(lambda c=chain.sampler: llama_cpp.llama_sampler_sample(c, ctx, -1), args.tokens)
                )
                chain.close()
            rows.append((label, statistics.median(ours), statistics.median(theirs)))

    print(f"model {model.name}, vocabulary {llama.n_vocab()}, {args.tokens} tokens x {args.rounds} rounds")
    print(f"one-token llama_decode: {decode:.0f} us (median)\n")
    print(
        "| sampling | ours us/token | llama.cpp chain us/token | ours ÷ chain | ours as % of a decode | chain as % |"
    )
    print("|---|---|---|---|---|---|")
    for label, ours_us, chain_us in rows:
        print(
            f"| {label} | {ours_us:.1f} | {chain_us:.1f} | {ours_us / chain_us:.3f} | "
            f"{100 * ours_us / decode:.1f}% | {100 * chain_us / decode:.1f}% |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
