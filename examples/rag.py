"""Ask questions about your own documents, with numbered citations.

The example writes a small folder of documents, indexes it into a Chroma store in a
temporary folder (your own store is not touched), asks two questions and prints each answer
with the sources its [n] citations point to. Runs offline: the embedder is the int8
all-MiniLM-L6-v2 shipped on PyPI, the chat model the embedded SmolLM2-135M.

    python examples/rag.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from retrievers.ingestion import ingest
from retrievers.rag import format_sources, rag_chain
from retrievers.search import HybridRetriever
from retrievers.store import open_index
from toolkit import get_chat_model

DOCUMENTS = {
    "garden.md": "# Garden club\n\nThe garden club meets every Tuesday at 6 pm in the old greenhouse. "
    "Members bring their own gloves; seeds are shared for free.\n\n## Tomatoes\n\n"
    "Tomatoes are planted in late April and need watering every second day.",
    "bikes.txt": "The bike repair cafe opens on Saturdays from 10 am to 2 pm. Volunteers fix "
    "punctures, brakes and gears. A new chain costs 12 euros; labour is free.",
    "library.md": "# Library\n\nThe library lends up to 8 books for three weeks. Late returns cost "
    "20 cents per day. The reading room closes at 8 pm on weekdays.",
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for name, text in DOCUMENTS.items():
            (folder / name).write_text(text, encoding="utf-8")

        index = open_index("example", chroma_path=Path(tmp) / "chroma")
        report = ingest([folder], index)
        print(f"[indexed: {report.summary()}]")
        again = ingest([folder], index)
        print(f"[re-indexed: {again.summary()}]\n")

        chain = rag_chain(get_chat_model(temperature=0), HybridRetriever(index=index, k=3))
        for question in ("When does the bike repair cafe open?", "How many books can I borrow?"):
            result = chain.invoke({"question": question})
            print(f"Q: {question}\nA: {result['answer'].strip()}")
            print(format_sources(result["sources"]) + "\n")


if __name__ == "__main__":
    main()
