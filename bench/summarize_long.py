"""Summarizing a ~20K-token document: prompt tokens processed, and time against langchain-classic.

Contenders, on the same ChatLlama (same file, window, sampling, max_tokens):

  ours     ``toolkit.chains.summarize_chain(llm)``: chunks packed close to the window at
           structure boundaries, map, collapse only if needed, streamed final pass;
  classic  langchain-classic's map-reduce summarize chain as LangChain's documentation sets it
           up: ``CharacterTextSplitter(chunk_size=1000, chunk_overlap=0)`` measured in tokens,
           then ``load_summarize_chain(llm, chain_type="map_reduce").invoke(docs)``. The
           documentation measures chunks with ``from_tiktoken_encoder``, which downloads
           tiktoken's vocabulary at run time; offline we measure with the model's own tokenizer,
           the same 1000-token chunks.

Reported: total prompt tokens processed ÷ document tokens (target <= 1.15 for ours) and
wall time ours ÷ classic (target <= 1/1.5), from one run that alternates the contenders.

    python bench/summarize_long.py                       # embedded SmolLM2-135M, ~20K tokens
    python bench/summarize_long.py --rounds 2 --paragraphs 400
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from corpus import report

from toolkit.backends.llamacpp import ChatLlama
from toolkit.chains.summarize import STATS_EVENT, summarize_chain
from toolkit.embedded import embedded_model_path


class Usage(BaseCallbackHandler):
    """Adds up the model's own token counts over every call of a run."""

    def __init__(self) -> None:
        self.calls = 0
        self.prompt = 0
        self.cached = 0
        self.output = 0
        self.stats: dict[str, Any] = {}

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        usage = response.generations[0][0].message.usage_metadata or {}
        self.calls += 1
        self.prompt += usage.get("input_tokens", 0)
        self.cached += (usage.get("input_token_details") or {}).get("cache_read", 0)
        self.output += usage.get("output_tokens", 0)

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        if name == STATS_EVENT:
            self.stats = dict(data)


def run_ours(llm: ChatLlama, text: str) -> tuple[float, Usage, str]:
    usage = Usage()
    llm.loaded.llama.reset()
    t0 = time.perf_counter()
    summary = summarize_chain(llm).invoke(text, config={"callbacks": [usage]})
    return time.perf_counter() - t0, usage, summary


def run_classic(llm: ChatLlama, text: str) -> tuple[float, Usage, str]:
    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_core.documents import Document
    from langchain_text_splitters import CharacterTextSplitter

    usage = Usage()
    llm.loaded.llama.reset()
    t0 = time.perf_counter()
    splitter = CharacterTextSplitter(chunk_size=1000, chunk_overlap=0, length_function=llm.get_num_tokens)
    docs = splitter.split_documents([Document(page_content=text)])
    chain = load_summarize_chain(llm, chain_type="map_reduce")
    result = chain.invoke({"input_documents": docs}, config={"callbacks": [usage]})
    usage.stats = {"chunks": len(docs)}
    return time.perf_counter() - t0, usage, str(result["output_text"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="GGUF file (default: the embedded SmolLM2-135M)")
    parser.add_argument("--paragraphs", type=int, default=280, help="report length (~72 tokens each)")
    parser.add_argument("--rounds", type=int, default=1, help="ours/classic pairs, order flipped each round")
    parser.add_argument("--max-tokens", type=int, default=512, help="the model's max_tokens for both")
    args = parser.parse_args(argv)

    llm = ChatLlama(
        model_path=args.model or str(embedded_model_path()),
        temperature=0.0,
        seed=1,
        repeat_penalty=1.1,
        max_tokens=args.max_tokens,
    )
    text = report(args.paragraphs)
    doc_tokens = llm.get_num_tokens(text)
    print(f"model {Path(llm.model_path).name}, window {llm.context_window}, document {doc_tokens} tokens\n")

    runs: dict[str, list[tuple[float, Usage, str]]] = {"ours": [], "classic": []}
    for r in range(args.rounds):
        order = ["ours", "classic"] if r % 2 == 0 else ["classic", "ours"]
        for name in order:
            result = (run_ours if name == "ours" else run_classic)(llm, text)
            runs[name].append(result)
            print(f"round {r + 1} {name:8s} {result[0]:7.1f} s", flush=True)

    print(
        "\n| contender | wall s (median) | calls | chunks | prompt tokens | evaluated (not cached) "
        "| prompt ÷ document | output tokens |"
    )
    print("|---|---|---|---|---|---|---|---|")
    medians = {}
    for name, results in runs.items():
        wall = statistics.median(r[0] for r in results)
        medians[name] = wall
        u = results[-1][1]
        print(
            f"| {name} | {wall:.1f} | {u.calls} | {u.stats.get('chunks', '?')} | {u.prompt} | "
            f"{u.prompt - u.cached} | {u.prompt / doc_tokens:.3f} | {u.output} |"
        )
    ours = runs["ours"][-1][1]
    ratio = medians["ours"] / medians["classic"]
    print("\nSummary")
    print(f"  document tokens                      {doc_tokens}")
    print(f"  ours: prompt tokens ÷ document       {ours.prompt / doc_tokens:.3f}   (target <= 1.15)")
    print(f"  ours: collapse depth                 {ours.stats.get('depth')}")
    print(
        f"  wall time ours ÷ classic             {ratio:.3f}   (classic ÷ ours = {1 / ratio:.2f}x; "
        "target >= 1.5x)"
    )
    print("\nOur summary:\n" + runs["ours"][-1][2].strip())
    print("\nClassic summary:\n" + runs["classic"][-1][2].strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
