"""The ``openai`` backend on real OpenAI-compatible servers running the embedded SmolLM2.

Each server is started once per module on a free loopback port (tests/openai_servers.py):
llama-cpp-python's ``python -m llama_cpp.server`` and ``llama-toolkit serve``. The model is
built exactly as users get it, ``get_chat_model(backend="openai", base_url=...)``, with no
model configured (the server's first listed model is used). What is checked is what the
toolkit's code guarantees: calls that parse to the offered tool with schema-valid arguments,
chains that run end to end and cite the retrieved sources; not the 135M model's wisdom.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from openai_servers import SERVERS, openai_server
from pydantic import BaseModel

from toolkit.backends.factory import get_chat_model
from toolkit.backends.openai import ToolkitChatOpenAI, list_openai_models

pytestmark = pytest.mark.integration


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 degrees in {city}."


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str
    age: int


@pytest.fixture(scope="module", params=SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with openai_server(request.param) as url:
        yield url


@pytest.fixture
def llm(base_url: str) -> ToolkitChatOpenAI:
    # A 135M model loops under greedy decoding; llama.cpp servers take a repeat penalty as an
    # extra body field (others ignore it).
    model = get_chat_model(backend="openai", base_url=base_url, temperature=0.0, seed=7, max_tokens=128)
    assert isinstance(model, ToolkitChatOpenAI)
    return model.model_copy(update={"extra_body": {"repeat_penalty": 1.1}})


def test_model_list_and_plain_answers(base_url: str, llm: ToolkitChatOpenAI) -> None:
    served = list_openai_models(base_url, None, timeout=10.0)
    assert llm.model_name == served[0]
    answer = llm.invoke("Name a colour.")
    assert isinstance(answer, AIMessage) and answer.text.strip()
    assert answer.usage_metadata is not None and answer.usage_metadata["output_tokens"] > 0
    streamed = [c for c in llm.stream("Name a fruit.") if isinstance(c, AIMessageChunk)]
    assert len([c for c in streamed if c.text]) > 1  # token by token, not one block
    assert "".join(c.text for c in streamed).strip()


def test_each_event_loop_gets_working_connections(base_url: str) -> None:
    """Two asyncio.run calls on models of one URL, on a keep-alive server: langchain-openai's
    shared async client would hand the second loop the first loop's dead connection."""
    import asyncio

    model = list_openai_models(base_url, None, timeout=10.0)[0]
    for _ in range(2):
        llm = ToolkitChatOpenAI(model=model, base_url=base_url, max_tokens=4)
        assert asyncio.run(llm.ainvoke("Hi")).text.strip()


@pytest.mark.parametrize(
    "prompt", ["What is the weather in Paris?", "What is the weather in Paris right now?", "Say hello."]
)
def test_auto_answers_are_text_or_valid_calls(llm: ToolkitChatOpenAI, prompt: str) -> None:
    """Under ``auto`` the model decides; whatever it decides comes back well formed."""
    answer = llm.bind_tools([get_weather]).invoke(prompt)
    assert isinstance(answer, AIMessage) and isinstance(answer.content, str)
    for call in answer.tool_calls:
        assert call["name"] == "get_weather" and isinstance(call["args"].get("city"), str)
    assert not answer.invalid_tool_calls
    if not answer.tool_calls:
        assert not answer.text.lstrip().startswith('{"name"')  # a call left as text would be read back


@pytest.mark.parametrize("choice", ["required", "get_weather"])
def test_tool_call_round_trip(llm: ToolkitChatOpenAI, choice: str) -> None:
    bound = llm.bind_tools([get_weather], tool_choice=choice)
    question = HumanMessage("What is the weather in Paris right now?")
    call = bound.invoke([question])
    assert isinstance(call, AIMessage)
    assert [c["name"] for c in call.tool_calls] == ["get_weather"], call
    args = call.tool_calls[0]["args"]
    assert set(args) == {"city"} and isinstance(args["city"], str) and args["city"].strip()
    result = ToolMessage(get_weather.invoke(args), tool_call_id=call.tool_calls[0]["id"])
    final = llm.bind_tools([get_weather]).invoke([question, call, result])
    assert isinstance(final, AIMessage)
    assert final.text.strip() or final.tool_calls  # the history with a tool result is accepted


def test_streamed_tool_call(llm: ToolkitChatOpenAI) -> None:
    full: Any = None
    for chunk in llm.bind_tools([get_weather], tool_choice="get_weather").stream("Weather in Rome?"):
        full = chunk if full is None else full + chunk
    assert [c["name"] for c in full.tool_calls] == ["get_weather"]
    assert isinstance(full.tool_calls[0]["args"].get("city"), str)


def test_structured_output(llm: ToolkitChatOpenAI) -> None:
    person = llm.with_structured_output(Person).invoke("Bob is 3 years old.")
    assert isinstance(person, Person)


def test_summarize_chain_end_to_end(llm: ToolkitChatOpenAI) -> None:
    from corpus import report

    from toolkit.chains import summarize_chain

    # About 2,600 estimated tokens: more than one part of the 4096-token window's budget.
    text = report(40)
    summary = summarize_chain(llm, length="short", part_max_tokens=96).invoke({"text": text})
    assert isinstance(summary, str) and summary.strip()
    assert len(summary) < len(text) / 4


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from retrievers.embeddings import MiniLMEmbeddings
    from retrievers.ingestion import ingest
    from retrievers.store import DocumentIndex

    folder = tmp_path_factory.mktemp("openai-rag")
    docs = folder / "docs"
    docs.mkdir()
    (docs / "volcanoes.md").write_text(
        "# Volcanoes\n\nMount Kelvara erupted in 1883, and its ash cloud lowered temperatures across "
        "the region for two years.\n",
        encoding="utf-8",
    )
    (docs / "bees.md").write_text(
        "# Bees\n\nA honey bee colony is led by a single queen, who can lay up to 2,000 eggs a day.\n",
        encoding="utf-8",
    )
    index = DocumentIndex("openai-rag", embeddings=MiniLMEmbeddings(), path=folder / "chroma")
    ingest([docs], index)
    assert index.count() >= 2
    return index


def test_rag_chain_end_to_end(llm: ToolkitChatOpenAI, collection: Any) -> None:
    from retrievers.rag import rag_chain
    from retrievers.search import HybridRetriever

    chain = rag_chain(llm, HybridRetriever(index=collection, k=2), answer_tokens=96)
    chunks = list(chain.stream("When did Mount Kelvara erupt?"))
    assert list(chunks[0]) == ["sources"]
    sources = chunks[0]["sources"]
    assert Path(sources[0]["source"]).name == "volcanoes.md"
    answer = "".join(c.get("answer", "") for c in chunks[1:])
    assert answer.strip()
    out = chain.invoke("When did Mount Kelvara erupt?")
    assert out["sources"][0]["name"] == "volcanoes.md" and out["answer"].strip()


def test_agent_calls_a_tool_and_answers(llm: ToolkitChatOpenAI) -> None:
    from agents import create_assistant
    from tools import calculator

    agent = create_assistant(llm, [calculator], max_steps=4)
    result = agent.invoke({"messages": [("user", "Use the calculator: what is 17 * 23?")]})
    messages = result["messages"]
    calls = [c for m in messages if isinstance(m, AIMessage) for c in m.tool_calls]
    assert calls and calls[0]["name"] == "calculator", messages
    assert any(isinstance(m, ToolMessage) for m in messages)
    assert isinstance(messages[-1], AIMessage)
