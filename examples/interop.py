"""The toolkit in any LangChain app, and any LangChain chat model in the toolkit.

Part A: our RAG and summarize chains take any ``BaseChatModel``. Here they run on
langchain-community's ``ChatLlamaCpp`` - another integration, not ours - loading the same
embedded GGUF file, composed in a plain LCEL pipeline: answer a question from the documents,
then summarize the passages the answer cites.

Part B: our chat model in someone else's chain: a ``ChatPromptTemplate | llm |
StrOutputParser()`` pipeline, and an agent built by LangChain's own ``create_agent``.

Runs offline. The document index lives in a temporary folder (your own store is not touched).

    python examples/interop.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from langchain.agents import create_agent
from langchain.agents.middleware import ModelCallLimitMiddleware
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableBranch, RunnableLambda, RunnablePassthrough
from langchain_core.tools import tool

from retrievers import HybridRetriever, format_sources, ingest, open_index, rag_chain
from toolkit import ToolkitError, embedded_model_path, get_chat_model, summarize_chain

DOCUMENTS = {
    "garden.md": "# Garden club\n\nThe garden club meets every Tuesday at 6 pm in the old greenhouse. "
    "Members bring their own gloves; seeds are shared for free.",
    "bikes.txt": "The bike repair cafe opens on Saturdays from 10 am to 2 pm. Volunteers fix "
    "punctures, brakes and gears. A new chain costs 12 euros; labour is free.",
}


def other_chat_model() -> BaseChatModel:
    """A chat model from another LangChain integration, or the best stand-in available offline."""
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError:
        pass
    else:
        # ChatLlamaCpp's defaults do not suit this model: a 512-token window (a RAG prompt
        # overflows it), 8-token prompt batches (slow), and a RoPE base of 10000 that
        # overrides the one the GGUF declares - 0 keeps the model's own.
        return ChatLlamaCpp(
            model_path=str(embedded_model_path()),
            n_ctx=4096,
            n_batch=512,
            rope_freq_base=0.0,
            temperature=0.0,
            max_tokens=128,
            seed=0,
            verbose=False,
        )
    try:
        llm = get_chat_model(backend="ollama", temperature=0)  # fails unless the server has the model
        print(f"[langchain-community is not installed: using {type(llm).__name__} (langchain-ollama)]")
        return llm
    except ToolkitError:
        print(
            "[langchain-community is not installed and no Ollama server answers: part A runs on "
            "our own ChatLlama - `pip install langchain-community` to see another integration]"
        )
        return get_chat_model(temperature=0)


def cited_passages(result: dict[str, Any]) -> list[Document]:
    return [Document(s["text"], metadata={"source": s["source"]}) for s in result["sources"]]


def part_a(folder: Path, chroma: Path) -> None:
    other = other_chat_model()
    print(f"== A: our chains on {type(other).__module__}.{type(other).__name__}")
    index = open_index("interop", chroma_path=chroma)
    print(f"[indexed: {ingest([folder], index).summary()}]")

    rag = rag_chain(other, HybridRetriever(index=index, k=2), answer_tokens=96)
    summarize = summarize_chain(other, length="short")
    digest = RunnableBranch(  # a summary of the passages the answer cites, if it cites any
        (lambda r: bool(r["sources"]), RunnableLambda(cited_passages) | summarize),
        RunnableLambda(lambda _: "(no sources cited)"),
    )
    # {answer, sources} from the RAG chain, plus the digest. `.pipe` is `|`, which mypy
    # rejects here (the RagOutput TypedDict is not the dict[str, Any] that `assign` takes).
    pipeline = rag.pipe(RunnablePassthrough.assign(digest=digest))
    question = "When does the bike repair cafe open?"
    result = pipeline.invoke(question)
    print(f"Q: {question}\nA: {result['answer'].strip()}")
    print(format_sources(result["sources"]))
    print(f"Digest of the cited passages: {result['digest'].strip()}\n")


@tool
def opening_hours(place: str) -> str:
    """Opening hours of a place in town: the garden club or the bike repair cafe."""
    if "bike" in place.lower():
        return "Saturdays, 10 am to 2 pm."
    if "garden" in place.lower():
        return "Tuesdays from 6 pm."
    return f"No opening hours known for {place!r}: ask about the garden club or the bike repair cafe."


def part_b() -> None:
    llm = get_chat_model(temperature=0, max_tokens=64)
    print(f"== B: our {type(llm).__name__} in LangChain's own building blocks")

    prompt = ChatPromptTemplate.from_messages(
        [("system", "You answer in one short sentence."), ("human", "{question}")]
    )
    chain = prompt | llm | StrOutputParser()
    print(f"prompt | llm | parser -> {chain.invoke({'question': 'What colour is the sky on a clear day?'})}")

    # LangChain's create_agent with a @tool and its own call-limit middleware: nothing of ours but the model.
    agent = create_agent(
        llm,
        [opening_hours],
        system_prompt="You answer questions about opening hours with the opening_hours tool.",
        middleware=[ModelCallLimitMiddleware(run_limit=3, exit_behavior="end")],
    )
    result = agent.invoke({"messages": [HumanMessage("When is the bike repair cafe open?")]})
    for message in result["messages"][1:]:
        calls = [f"{c['name']}({c['args']})" for c in getattr(message, "tool_calls", [])]
        print(f"  {message.type}: {', '.join(calls) or str(message.content).strip()[:200]}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        for name, text in DOCUMENTS.items():
            (folder / name).write_text(text, encoding="utf-8")
        part_a(folder, Path(tmp) / "chroma")
    part_b()


if __name__ == "__main__":
    main()
