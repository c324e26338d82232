"""The public API: the documented surface of each package, and its factories on fake models.

Every chain factory takes any LangChain ``BaseChatModel`` (here langchain_core's own fakes,
not ours) and returns a ``Runnable`` whose JSON input/output schemas are the documented ones;
the agent factories take any tool-calling model and return a runnable graph. Nothing here
loads a real model. Lazy loading, submodule shadowing and a light import are checked in
test_imports.py.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fakes import ScriptedToolModel, calling
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableParallel
from langchain_core.tools import BaseTool

# The documented surface, package by package. Adding or removing a public name is a
# deliberate change: update this set, the package's __all__ and the README together.
PUBLIC_API: dict[str, set[str]] = {
    "toolkit": {
        "__version__",
        # models and settings
        "ChatLlama",
        "Settings",
        "ToolkitChatOllama",
        "embedded_model_path",
        "get_chat_model",
        "get_embeddings",
        "get_settings",
        # chains and their progress bar
        "ProgressBar",
        "summarize_chain",
        "translate_chain",
        # errors
        "AccessDeniedError",
        "BackendUnavailableError",
        "ChromaUnreachableError",
        "ConfigurationError",
        "ContextOverflowError",
        "DocumentError",
        "DocumentNotFoundError",
        "DocumentTooComplexError",
        "DocumentTooLongError",
        "EmbeddingMismatchError",
        "EmptyDocumentError",
        "EncryptedDocumentError",
        "GenerationLimitError",
        "GenerationTimeoutError",
        "IndexNotFoundError",
        "InvalidModelFileError",
        "LimitExceededError",
        "ModelBusyError",
        "ModelError",
        "ModelLoadError",
        "ModelNotFoundError",
        "ModelNotPulledError",
        "ModelReentryError",
        "OllamaResponseError",
        "OllamaUnreachableError",
        "StoreLockedError",
        "ToolkitError",
        "UnknownLanguageError",
        "UnsupportedDocumentError",
        "UnsupportedInputError",
    },
    "toolkit.chains": {"SummaryStats", "TokenBudget", "summarize_chain", "token_budget", "translate_chain"},
    "retrievers": {
        "DocumentIndex",
        "HybridRetriever",
        "IngestReport",
        "LlamaCppEmbeddings",
        "MiniLMEmbeddings",
        "RagSource",
        "chunk_documents",
        "delete_index",
        "format_sources",
        "get_embeddings",
        "ingest",
        "list_indexes",
        "open_index",
        "rag_chain",
    },
    "agents": {
        "AnswerStep",
        "Step",
        "TokenStep",
        "ToolCallStep",
        "ToolResultStep",
        "create_assistant",
        "create_research_agent",
        "stream_steps",
    },
    "tools": {
        "calculator",
        "convert_units",
        "current_datetime",
        "date_calculator",
        "default_tools",
        "evaluate",
        "make_document_search_tool",
        "make_summarize_tool",
        "make_translate_tool",
        "make_workspace_tools",
        "web_search",
    },
}

# The same object under two names: the short import and the package that defines it.
ALIASES = [
    ("toolkit", "summarize_chain", "toolkit.chains", "summarize_chain"),
    ("toolkit", "translate_chain", "toolkit.chains", "translate_chain"),
    ("toolkit", "get_embeddings", "retrievers", "get_embeddings"),
    ("toolkit", "ProgressBar", "toolkit.progress", "ProgressBar"),
]

SOURCE_KEYS = {"n", "source", "name", "page", "section", "text", "score"}


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_all_is_the_documented_surface(package: str) -> None:
    module = importlib.import_module(package)
    assert len(module.__all__) == len(set(module.__all__)), "a name is listed twice"
    assert set(module.__all__) == PUBLIC_API[package]
    assert sorted(dir(module)) == sorted(PUBLIC_API[package])


@pytest.mark.parametrize(("package", "name", "home", "home_name"), ALIASES)
def test_top_level_names_are_the_package_objects(package: str, name: str, home: str, home_name: str) -> None:
    short = getattr(importlib.import_module(package), name)
    assert short is getattr(importlib.import_module(home), home_name)


def _own_doc(obj: Any) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__
    return (doc or "").strip()


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_public_callables_are_documented(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        obj = getattr(module, name)
        if isinstance(obj, BaseTool):
            assert obj.description.strip(), f"{package}.{name}"
        elif inspect.isfunction(obj) or inspect.isclass(obj):
            assert len(_own_doc(obj)) > 20, f"{package}.{name} has no docstring"


# --------------------------------------------------------------------------- fakes


def fake_list(answer: str) -> BaseChatModel:
    return FakeListChatModel(responses=[answer])


def fake_generic(answer: str) -> BaseChatModel:
    return GenericFakeChatModel(messages=itertools.repeat(AIMessage(answer)))


FAKES: list[Callable[[str], BaseChatModel]] = [fake_list, fake_generic]


class Shelf(BaseRetriever):
    """A retriever over a fixed list of passages: what ``rag_chain`` needs from any retriever."""

    documents: list[Document]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return list(self.documents)


def shelf() -> Shelf:
    return Shelf(
        documents=[
            Document(
                "The garden club meets every Tuesday at 6 pm.",
                metadata={"source": "/notes/garden.md", "section": "Meetings", "score": 0.9},
            ),
            Document("Seeds are shared for free.", metadata={"source": "/notes/seeds.pdf", "page": 2}),
        ]
    )


# --------------------------------------------------------------------------- chains


def _string_document_or_list(schema: dict[str, Any]) -> None:
    """A string, a Document, or a list of Documents: the summarize/translate input."""
    options = schema["anyOf"]
    assert {"type": "string"} in options
    refs = {o.get("$ref") for o in options} | {o.get("items", {}).get("$ref") for o in options}
    assert "#/$defs/Document" in refs
    assert any(o.get("type") == "array" and o["items"] == {"$ref": "#/$defs/Document"} for o in options)
    document = schema["$defs"]["Document"]
    assert {"page_content", "metadata"} <= set(document["properties"])
    assert "page_content" in document["required"]


@pytest.mark.parametrize("make", FAKES)
@pytest.mark.parametrize("factory", ["summarize_chain", "translate_chain"])
def test_text_chains_take_any_chat_model(factory: str, make: Callable[[str], BaseChatModel]) -> None:
    import toolkit

    answer = "Le club se réunit le mardi." if factory == "translate_chain" else "The club meets on Tuesdays."
    kwargs: dict[str, Any] = {"to": "fr", "source": "en"} if factory == "translate_chain" else {}
    chain = getattr(toolkit, factory)(make(answer), context_window=2048, **kwargs)
    assert isinstance(chain, Runnable)

    _string_document_or_list(chain.get_input_jsonschema())
    assert chain.get_output_jsonschema()["type"] == "string"
    assert chain.OutputType is str

    text = "The garden club meets every Tuesday evening in the old greenhouse."
    assert chain.invoke(text).strip() == answer
    assert chain.invoke(Document(text)).strip() == answer
    assert answer in chain.invoke([Document(text), Document("Seeds are shared for free.")])


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or the definition its ``$ref`` points to in ``schema``."""
    ref = node.get("$ref")
    return schema["$defs"][ref.removeprefix("#/$defs/")] if ref else node


def test_rag_chain_schemas_are_documented() -> None:
    from retrievers import rag_chain

    chain = rag_chain(fake_list("x"), shelf())
    schema = chain.get_input_jsonschema()
    assert {"type": "string"} in schema["anyOf"]
    (query,) = [_resolve(schema, o) for o in schema["anyOf"] if "$ref" in o]
    assert set(query["properties"]) == {"question", "history"}
    assert query["required"] == ["question"]
    assert query["properties"]["question"]["type"] == "string"
    assert query["properties"]["history"]["type"] == "array"

    schema = chain.get_output_jsonschema()
    out = _resolve(schema, schema)
    assert out["type"] == "object"
    assert set(out["properties"]) == set(out["required"]) == {"answer", "sources"}
    assert out["properties"]["answer"]["type"] == "string"
    sources = out["properties"]["sources"]
    assert sources["type"] == "array"
    source = _resolve(schema, sources["items"])
    assert set(source["properties"]) == set(source["required"]) == SOURCE_KEYS
    props = source["properties"]
    types = {key: props[key].get("type") or [o["type"] for o in props[key]["anyOf"]] for key in props}
    assert types == {
        "n": "integer",
        "source": "string",
        "name": "string",
        "page": ["integer", "null"],
        "section": "string",
        "text": "string",
        "score": ["number", "null"],
    }


@pytest.mark.parametrize("make", FAKES)
def test_rag_chain_takes_any_chat_model_and_retriever(make: Callable[[str], BaseChatModel]) -> None:
    from retrievers import rag_chain

    chain = rag_chain(make("On Tuesdays at 6 pm [1]."), shelf(), context_window=2048)
    assert isinstance(chain, Runnable)
    result = chain.invoke("When does the garden club meet?")
    assert result["answer"] == "On Tuesdays at 6 pm [1]."
    assert [s["n"] for s in result["sources"]] == [1, 2]
    first, second = result["sources"]
    assert set(first) == SOURCE_KEYS
    assert (first["name"], first["section"], first["page"]) == ("garden.md", "Meetings", None)
    assert first["score"] == 0.9
    assert (second["source"], second["page"], second["score"]) == ("/notes/seeds.pdf", 2, None)

    history = [HumanMessage("Tell me about the garden club."), AIMessage("It is a club [1].")]
    follow_up = chain.invoke({"question": "When does it meet?", "history": history})
    assert follow_up["answer"] == "On Tuesdays at 6 pm [1]."


def test_chains_compose_in_plain_lcel() -> None:
    """Our chains are ordinary Runnables: they run side by side in a RunnableParallel."""
    from retrievers import rag_chain
    from toolkit import summarize_chain

    llm = fake_list("Short.")
    pipeline = RunnableParallel(
        summary=(lambda x: x["text"]) | summarize_chain(llm, context_window=2048),
        answer=(lambda x: x["question"]) | rag_chain(llm, shelf(), context_window=2048),
    )
    out = pipeline.invoke({"text": "A long text about the garden club.", "question": "When?"})
    assert out["summary"].strip() == "Short."
    assert out["answer"]["answer"] == "Short." and len(out["answer"]["sources"]) == 2


# --------------------------------------------------------------------------- agents and tools


def _last_answer(agent: Runnable[Any, Any], question: str) -> str:
    result = agent.invoke({"messages": [("user", question)]})
    message = result["messages"][-1]
    assert isinstance(message, AIMessage)
    return str(message.content)


def test_create_assistant_takes_any_tool_calling_model() -> None:
    from agents import create_assistant
    from tools import calculator

    model = ScriptedToolModel(script=[calling(("calculator", {"expression": "6 * 7"})), "It is 42."])
    agent = create_assistant(model, [calculator], max_steps=3)
    assert isinstance(agent, Runnable)
    assert "messages" in agent.get_input_jsonschema()["properties"]
    assert _last_answer(agent, "What is 6 times 7?") == "It is 42."
    assert model.bindings[0][0] == ["calculator"]
    assert "42" in str(model.prompts[-1][-1].content)  # the tool's result went back to the model


def test_create_research_agent_takes_any_model_and_retriever() -> None:
    from agents import create_research_agent

    model = ScriptedToolModel(
        script=[calling(("search_documents", {"query": "garden club"})), "On Tuesdays [1]."]
    )
    agent = create_research_agent(model, shelf(), max_steps=3)
    assert isinstance(agent, Runnable)
    assert _last_answer(agent, "When does the garden club meet?") == "On Tuesdays [1]."
    assert model.bindings[0][0] == ["search_documents"]
    assert "Tuesday at 6 pm" in str(model.prompts[-1][-1].content)


def test_default_tools_are_described_base_tools() -> None:
    from tools import default_tools

    found = default_tools(fake_list("x"))
    assert all(isinstance(t, BaseTool) for t in found)
    names = [t.name for t in found]
    assert names == [
        "calculator",
        "current_datetime",
        "date_calculator",
        "convert_units",
        "search_documents",
        "summarize",
        "translate",
    ]
    for t in found:
        assert len(t.description) > 20, t.name
        assert t.args_schema is not None, t.name
    assert [t.name for t in default_tools(include_documents=False)] == names[:4]
