"""One ``rag:<collection>`` question, asked through ``serve`` with LangChain's ChatOpenAI and
asked in process with ``rag_chain``: the same sources, the same answer (embedded model, greedy)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from serve_process import serving

pytestmark = pytest.mark.integration

DOCS = {
    "bees.md": "# Beekeeping\n\nBeekeepers of the Hollowmere cooperative treat varroa mites with "
    "oxalic acid in December, when the hives have no brood.\n\nA strong hive produces around 25 "
    "kilograms of surplus honey in a good year.",
    "volcanoes.md": "# Volcanoes\n\nMount Kelvara erupted in 1883, and its ash cloud lowered "
    "temperatures across the region for two years.",
    "chess.md": "# Chess\n\nCastling is not allowed while the king is in check.",
}
QUESTION = "When do the Hollowmere beekeepers treat varroa mites, and with what?"
GENERATION = {"temperature": 0.0, "seed": 7, "max_tokens": 64}


def _key(source: dict) -> tuple:
    # serve names the file, never its path on the server
    return tuple(source.get(k) for k in ("n", "name", "page", "section", "text"))


def test_chat_openai_and_rag_chain_give_the_same_sources(tmp_path: Path) -> None:
    from langchain_openai import ChatOpenAI

    from retrievers import ingest, open_index
    from retrievers.rag import rag_chain
    from retrievers.search import HybridRetriever
    from toolkit import get_chat_model
    from toolkit.backends.openai import ToolkitChatOpenAI
    from toolkit.embedded import embedded_model_path

    folder = tmp_path / "handbook"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    ingest([folder], open_index("handbook"))

    local = get_chat_model(backend="llamacpp", model=str(embedded_model_path()), **GENERATION)
    index = open_index("handbook", create=False)
    expected = rag_chain(local, HybridRetriever(index=index)).invoke({"question": QUESTION})
    assert expected["sources"], "the in-process chain found no source: the test proves nothing"

    args = ("--temperature", "0", "--seed", "7", "--max-tokens", "64")
    with serving(env={"LLAMA_TOOLKIT_DATA_DIR": os.environ["LLAMA_TOOLKIT_DATA_DIR"]}, args=args) as url:
        plain = ChatOpenAI(base_url=url, api_key="unused", model="rag:handbook", **GENERATION)
        text = str(plain.invoke(QUESTION).content)
        ours = ToolkitChatOpenAI(base_url=url, model="rag:handbook", **GENERATION).invoke(QUESTION)
        streamed = list(ToolkitChatOpenAI(base_url=url, model="rag:handbook", **GENERATION).stream(QUESTION))

    want = [_key(dict(s)) for s in expected["sources"]]
    print(f"rag_chain in process: {expected['answer']!r}; sources {[(s[0], s[1]) for s in want]}")
    print(f"serve, ChatOpenAI: {text!r}")
    print(
        f"serve, ToolkitChatOpenAI: sources {[(s['n'], s['name']) for s in ours.response_metadata['sources']]}"
    )
    assert [_key(s) for s in ours.response_metadata["sources"]] == want
    merged = next(c.response_metadata["sources"] for c in streamed if "sources" in c.response_metadata)
    assert [_key(s) for s in merged] == want
    assert any(s[1] == "bees.md" for s in want)
    # The same chain on the same model and prompt, greedy: the same answer, whichever way in.
    assert text == ours.content == expected["answer"]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", text)}
    assert cited <= {s[0] for s in want}, f"the answer cites {cited}, not among the sources"
