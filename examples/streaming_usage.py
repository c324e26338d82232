"""Stream an answer, then print token usage and generation speed.

Run: python examples/streaming_usage.py "Explain KV caching in two sentences"
"""

from __future__ import annotations

import sys

from langchain_core.messages import AIMessageChunk

from toolkit import get_chat_model


def main() -> None:
    prompt = " ".join(sys.argv[1:]) or "Explain what a context window is in two sentences."
    llm = get_chat_model(max_tokens=150)
    full: AIMessageChunk | None = None
    for chunk in llm.stream(prompt):
        print(chunk.content, end="", flush=True)
        full = chunk if full is None else full + chunk
    print()
    if full is not None and full.usage_metadata:
        usage = full.usage_metadata
        speed = full.response_metadata.get("tokens_per_second")
        print(
            f"\n[{usage['input_tokens']} prompt tokens, {usage['output_tokens']} generated, {speed} tokens/s]"
        )


if __name__ == "__main__":
    main()
