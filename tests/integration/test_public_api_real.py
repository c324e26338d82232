"""The public API's factories on the real embedded model: one small run each.

The unit twin (tests/unit/test_public_api.py) checks the same factories on fake models; here
``toolkit.get_chat_model()`` (SmolLM2-135M through llama.cpp) and ``toolkit.get_embeddings()``
(int8 all-MiniLM-L6-v2) do the work. Inputs are tiny: every model run costs seconds.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable

import toolkit
from agents import create_assistant, create_research_agent
from retrievers import rag_chain
from tools import calculator, default_tools

pytestmark = pytest.mark.integration

TEXT_TOOLS = ["summarize", "translate"]  # added when a model is given: they call it
TEXT = "The garden club meets every Tuesday evening in the old greenhouse. Seeds are shared for free."


class Shelf(BaseRetriever):
    """Two fixed passages: the RAG chain and the research agent need any retriever."""

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document("The garden club meets every Tuesday at 6 pm.", metadata={"source": "/n/garden.md"}),
            Document("The library closes at 8 pm.", metadata={"source": "/n/library.md", "page": 1}),
        ]


@pytest.fixture
def llm() -> BaseChatModel:
    # Built inside each test's clean environment; the loaded GGUF is shared between instances.
    return toolkit.get_chat_model(temperature=0, max_tokens=48, seed=0)


def test_get_chat_model_is_a_langchain_chat_model(llm: BaseChatModel) -> None:
    assert isinstance(llm, BaseChatModel) and isinstance(llm, toolkit.ChatLlama)
    message = llm.invoke("Say hello.")
    assert isinstance(message, AIMessage) and str(message.content).strip()


def test_summarize_chain(llm: BaseChatModel) -> None:
    chain = toolkit.summarize_chain(llm, length="short")
    assert isinstance(chain, Runnable)
    summary = chain.invoke(TEXT)
    assert isinstance(summary, str) and summary.strip()


def test_translate_chain(llm: BaseChatModel) -> None:
    chain = toolkit.translate_chain(llm, to="fr", source="en")
    assert isinstance(chain, Runnable)
    out = chain.invoke("Good morning.")
    assert isinstance(out, str) and out.strip()


def test_rag_chain(llm: BaseChatModel) -> None:
    chain = rag_chain(llm, Shelf(), answer_tokens=48)
    assert isinstance(chain, Runnable)
    result = chain.invoke("When does the garden club meet?")
    assert set(result) == {"answer", "sources"}
    assert isinstance(result["answer"], str) and result["answer"].strip()
    assert [s["n"] for s in result["sources"]] == [1, 2]
    assert result["sources"][0]["name"] == "garden.md" and result["sources"][1]["page"] == 1


def _final(agent: Any, question: str) -> AIMessage:
    message = agent.invoke({"messages": [("user", question)]})["messages"][-1]
    assert isinstance(message, AIMessage)
    return message


def test_create_assistant(llm: BaseChatModel) -> None:
    agent = create_assistant(llm, [calculator], max_steps=2)
    assert isinstance(agent, Runnable)
    _final(agent, "What is 6 times 7?")  # an answer or the step-limit message: never an exception


def test_create_research_agent(llm: BaseChatModel) -> None:
    agent = create_research_agent(llm, Shelf(), max_steps=2)
    assert isinstance(agent, Runnable)
    _final(agent, "When does the garden club meet?")


def test_default_tools_with_the_real_model(llm: BaseChatModel) -> None:
    found = {t.name: t for t in default_tools(llm, include_documents=False)}
    assert list(found) == ["calculator", "current_datetime", "date_calculator", "convert_units", *TEXT_TOOLS]
    assert "6 * 7 = 42" in found["calculator"].invoke({"expression": "6 * 7"})


def test_get_embeddings_gives_384_dimensions() -> None:
    embeddings = toolkit.get_embeddings()
    query = embeddings.embed_query("When does the garden club meet?")
    documents = embeddings.embed_documents([TEXT, "The library closes at 8 pm."])
    assert len(query) == 384 and all(isinstance(x, float) for x in query)
    assert [len(v) for v in documents] == [384, 384]
