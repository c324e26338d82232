"""Hybrid search and the RAG chain, on a real Chroma in tmp_path with fake embeddings and a scripted model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakes import EventRecorder, ScriptedChatModel, words
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_tests.integration_tests import RetrieversIntegrationTests

from retrievers.rag import CONTEXT_EVENT, DONT_KNOW, RETRIEVED_EVENT, format_sources, rag_chain
from retrievers.search import HybridRetriever, SearchMode, clear_keyword_cache, tokenize
from retrievers.store import DocumentIndex
from toolkit.errors import ConfigurationError, ContextOverflowError, UnsupportedInputError
from toolkit.text.budget import token_budget

TOPICS = ["harbour", "orchard", "glacier", "bakery", "railway", "library"]


def chunk(
    text: str, source: str, i: int, *, file_type: str = "markdown", page: int | None = None
) -> Document:
    meta: dict[str, Any] = {
        "source": source,
        "file_type": file_type,
        "section": f"Section {i % 3}",
        "chunk_index": i,
        "chunks": 99,
        "content_hash": "h",
        "start": 0,
    }
    if page is not None:
        meta["page"] = page
    return Document(text, metadata=meta)


def corpus() -> list[Document]:
    """24 chunks: six topics over a PDF and a Markdown file, one part number, two revenue facts."""
    docs = []
    for i in range(24):
        topic = TOPICS[i % len(TOPICS)]
        pdf = i % 2 == 0
        docs.append(
            chunk(
                f"Notes {i} on the {topic}: the {topic} committee met and reviewed item {i}.",
                "/docs/report.pdf" if pdf else "/docs/notes.md",
                i,
                file_type="pdf" if pdf else "markdown",
                page=i // 4 + 1 if pdf else None,
            )
        )
    docs.append(chunk("Replace the worn valve with part XJ-4410 before winter.", "/docs/manual.md", 24))
    docs.append(chunk("Zorblax revenue in 2022 was 10 million euros.", "/docs/zorblax.md", 25))
    docs.append(chunk("Zorblax revenue in 2023 was 12 million euros.", "/docs/zorblax.md", 26))
    docs.append(chunk("Quillon revenue in 2023 was 3 million euros.", "/docs/quillon.md", 27))
    return docs


def make_index(path: Path, docs: list[Document] | None = None, embeddings: Embeddings | None = None) -> Any:
    index = DocumentIndex(
        "documents", embeddings=embeddings or DeterministicFakeEmbedding(size=32), path=path
    )
    docs = corpus() if docs is None else docs
    if docs:
        index.add(docs, [f"c{i}" for i in range(len(docs))])
    return index


@pytest.fixture
def index(tmp_path: Path) -> Any:
    return make_index(tmp_path / "chroma")


# ---- search ---------------------------------------------------------------------------------


def test_tokenize_lowercases_and_drops_stopwords() -> None:
    assert tokenize("What is the Part XJ-4410 of Zürich?") == ["part", "xj", "4410", "zürich"]


def test_bm25_finds_the_exact_term_chunk(index: Any) -> None:
    retriever = HybridRetriever(index=index, k=3)
    [top, *_] = retriever.invoke("which part number XJ-4410", mode="keyword")
    assert "XJ-4410" in top.page_content
    assert top.metadata["rank"] == 1 and top.metadata["relevant"] is True
    assert top.metadata["score"] == top.metadata["bm25"] > 0
    hybrid = retriever.invoke("which part number XJ-4410")
    assert any("XJ-4410" in d.page_content for d in hybrid)  # the rare term survives fusion


def test_keyword_search_returns_only_matching_chunks(index: Any) -> None:
    found = HybridRetriever(index=index, k=10, mode="keyword").invoke("glacier")
    assert len(found) == 4  # 24 topic chunks, every sixth is about the glacier
    assert all("glacier" in d.page_content for d in found)
    assert HybridRetriever(index=index, mode="keyword").invoke("the of and what") == []


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword", "mmr"])
def test_filters_apply_to_every_mode(index: Any, mode: SearchMode) -> None:
    query = "Notes on the orchard committee"
    pdf_only = HybridRetriever(index=index, k=6, mode=mode, filter={"file_type": "pdf"}).invoke(query)
    assert pdf_only and all(d.metadata["file_type"] == "pdf" for d in pdf_only)
    one_file = HybridRetriever(index=index, k=6, mode=mode).invoke(query, filter={"source": "/docs/notes.md"})
    assert one_file and all(d.metadata["source"] == "/docs/notes.md" for d in one_file)
    assert HybridRetriever(index=index, mode=mode, filter={"source": "/nope"}).invoke(query) == []
    assert len(HybridRetriever(index=index, k=6, mode=mode, filter={}).invoke(query)) == 6  # {}: no filter


def test_rrf_merges_both_rankings_and_deduplicates(index: Any) -> None:
    retriever = HybridRetriever(index=index, k=10, fetch_k=10)
    query = "Notes 3 on the bakery committee"
    dense = [d.id for d in retriever.invoke(query, mode="dense")]
    keyword = [d.id for d in retriever.invoke(query, mode="keyword")]
    assert set(dense) & set(keyword)  # the test means something only if some chunks are in both

    def rrf(doc_id: str | None) -> float:
        return sum(1 / (60 + r.index(doc_id) + 1) for r in (dense, keyword) if doc_id in r)

    expected = sorted(set(dense) | set(keyword), key=rrf, reverse=True)
    fused = retriever.invoke(query)
    ids = [d.id for d in fused]
    assert len(ids) == len(set(ids)) == 10  # de-duplicated, cut to k
    assert [rrf(i) for i in ids] == pytest.approx([rrf(i) for i in expected[:10]])
    assert [d.metadata["score"] for d in fused] == pytest.approx([rrf(i) for i in ids])
    assert [d.metadata["rank"] for d in fused] == list(range(1, 11))
    both = [d for d in fused if d.id in dense and d.id in keyword]
    assert both and all(d.metadata["similarity"] is not None and d.metadata["bm25"] > 0 for d in both)


class TableEmbedding(Embeddings):
    """Fixed vectors per text: three copies of one chunk, two chunks near it, one far away."""

    size = 4
    VECTORS: ClassVar[dict[str, list[float]]] = {
        "alpha": [1.0, 0.0, 0.0, 0.0],
        "beta": [0.8, 0.6, 0.0, 0.0],
        "gamma": [0.8, 0.0, 0.6, 0.0],
        "far": [0.0, 0.0, 0.0, 1.0],
        "query": [1.0, 0.1, 0.1, 0.0],
    }

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.VECTORS.get(t, [0.0, 0.0, 0.0, 1.0]) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def test_mmr_returns_k_distinct_chunks(tmp_path: Path) -> None:
    docs = [
        chunk(t, f"/d/{i}.md", i) for i, t in enumerate(["alpha", "alpha", "alpha", "beta", "gamma", "far"])
    ]
    index = make_index(tmp_path, docs, TableEmbedding())
    dense = HybridRetriever(index=index, k=3, mode="dense").invoke("query")
    assert [d.page_content for d in dense] == ["alpha"] * 3  # nearest, but the same text three times
    mmr = HybridRetriever(index=index, k=3, mode="mmr").invoke("query")
    assert len(mmr) == 3 and len({d.id for d in mmr}) == 3
    assert sorted(d.page_content for d in mmr) == ["alpha", "beta", "gamma"]
    assert all(d.metadata["similarity"] > 0.7 and d.metadata["relevant"] for d in mmr)


def test_keyword_index_is_cached_per_version_and_rebuilt_after_add(index: Any, monkeypatch: Any) -> None:
    clear_keyword_cache()
    calls: list[int] = []
    original = index.get_documents

    def counting(*args: Any, **kwargs: Any) -> list[Document]:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(index, "get_documents", counting)
    retriever = HybridRetriever(index=index, mode="keyword")
    assert retriever.invoke("okapi") == []
    assert retriever.invoke("okapi") == []
    assert len(calls) == 1  # built once for this version
    before = index.version()
    index.add([chunk("An okapi was seen near the harbour.", "/docs/zoo.md", 0)], ["zoo-0"])
    assert index.version() != before
    [found] = retriever.invoke("okapi")
    assert found.id == "zoo-0"
    assert len(calls) == 2


@pytest.mark.parametrize("mode", ["hybrid", "dense", "keyword", "mmr"])
def test_empty_index_gives_no_documents(tmp_path: Path, mode: SearchMode) -> None:
    index = make_index(tmp_path, [])
    assert HybridRetriever(index=index, mode=mode).invoke("anything at all") == []


def test_relevance_flags_dense_hits_below_the_threshold(index: Any) -> None:
    text = corpus()[5].page_content
    found = HybridRetriever(index=index, k=4, mode="dense", min_relevance=0.99).invoke(text)
    assert found[0].page_content == text and found[0].metadata["similarity"] == pytest.approx(1.0)
    assert found[0].metadata["relevant"] is True
    assert [d.metadata["relevant"] for d in found[1:]] == [False] * 3  # random vectors: far below 0.99


async def test_async_search_takes_the_same_overrides(index: Any) -> None:
    retriever = HybridRetriever(index=index, k=5)
    found = await retriever.ainvoke("glacier", k=2, mode="keyword")
    assert [d.id for d in found] == [d.id for d in retriever.invoke("glacier", k=2, mode="keyword")]
    assert len(found) == 2


# LangChain's standard retriever suite, over a few dozen fake-embedded chunks.


@pytest.fixture(scope="module")
def standard_index(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_index(tmp_path_factory.mktemp("standard"))


class TestHybridRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, standard_index: Any) -> None:
        self.index = standard_index

    @property
    def retriever_constructor(self) -> type[HybridRetriever]:
        return HybridRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"index": self.index, "k": 4}

    @property
    def retriever_query_example(self) -> str:
        return "What did the railway committee review?"


# ---- RAG chain ------------------------------------------------------------------------------


def cite_first(text: str) -> str:
    return "The committee reviewed it [1]."


class QueryRecorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.queries: list[str] = []

    def on_retriever_start(self, serialized: Any, query: str, **kwargs: Any) -> None:
        self.queries.append(query)


def test_prompt_numbers_the_sources_and_asks_the_question(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    retriever = HybridRetriever(index=index, k=3, mode="keyword")
    out = rag_chain(llm, retriever, token_counter=words).invoke("What about part XJ-4410?")
    assert out["answer"] == "The committee reviewed it [1]."
    [prompt] = llm.prompts
    system, human = prompt[0], prompt[-1]
    assert "only" in str(system.content) and "[1]" in str(system.content)
    body = str(human.content)
    assert "[1] manual.md - Section 0\nReplace the worn valve with part XJ-4410 before winter." in body
    assert body.index("[1] manual.md") < body.index("Question: What about part XJ-4410?")
    assert "I don't know" in body  # the instruction is restated after the sources
    [source] = out["sources"]
    assert source == {
        "n": 1,
        "source": "/docs/manual.md",
        "name": "manual.md",
        "page": None,
        "section": "Section 0",
        "text": "Replace the worn valve with part XJ-4410 before winter.",
        "score": source["score"],
    }
    assert source["score"] is not None and source["score"] > 0


def test_sources_carry_pages_and_format_for_a_cli(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    retriever = HybridRetriever(index=index, k=2, mode="keyword", filter={"file_type": "pdf"})
    out = rag_chain(llm, retriever, token_counter=words).invoke("glacier")
    assert [s["n"] for s in out["sources"]] == [1, 2]
    assert all(s["name"] == "report.pdf" and isinstance(s["page"], int) for s in out["sources"])
    lines = format_sources(out["sources"]).splitlines()
    assert re.fullmatch(r"\[1\] report\.pdf, p\. \d+ - Section \d", lines[0])
    assert lines[1].startswith("[2] report.pdf, p. ")
    body = str(llm.prompts[0][-1].content)
    assert lines[0] in body and lines[1] in body  # the model sees the same labels the user does


def test_stream_yields_sources_first_then_answer_tokens(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    chain = rag_chain(llm, HybridRetriever(index=index, k=2), token_counter=words)
    chunks = list(chain.stream("glacier committee"))
    assert list(chunks[0]) == ["sources"] and len(chunks[0]["sources"]) == 2
    assert len(chunks) > 3 and all(list(c) == ["answer"] for c in chunks[1:])
    assert "".join(c["answer"] for c in chunks[1:]) == "The committee reviewed it [1]."


async def test_async_stream_and_invoke(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    chain = rag_chain(llm, HybridRetriever(index=index, k=2), token_counter=words)
    chunks = [c async for c in chain.astream("glacier committee")]
    assert list(chunks[0]) == ["sources"]
    assert "".join(c["answer"] for c in chunks[1:]) == "The committee reviewed it [1]."
    out = await chain.ainvoke({"question": "glacier committee"})
    assert out["answer"] == "The committee reviewed it [1]." and len(out["sources"]) == 2


def test_no_relevant_hit_answers_dont_know_without_the_model(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    retriever = HybridRetriever(index=index, k=3, min_relevance=1.01)  # dense hits alone never count
    rec = EventRecorder()
    chain = rag_chain(llm, retriever, token_counter=words)
    out = chain.invoke("How tall is the Eiffel tower?", config={"callbacks": [rec]})
    assert out == {"answer": DONT_KNOW, "sources": []}
    assert llm.prompts == []
    assert (RETRIEVED_EVENT, {"count": 3, "relevant": 0, "used": 0}) in rec.events
    assert list(chain.stream("How tall is the Eiffel tower?")) == [{"sources": []}, {"answer": DONT_KNOW}]


def test_empty_index_answers_dont_know(tmp_path: Path) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    out = rag_chain(llm, HybridRetriever(index=make_index(tmp_path, [])), token_counter=words).invoke("x?")
    assert out == {"answer": DONT_KNOW, "sources": []} and llm.prompts == []


def test_follow_up_retrieves_with_the_earlier_question(index: Any) -> None:
    llm = ScriptedChatModel(respond=lambda _: "12 million euros [1].")
    retriever = HybridRetriever(index=index, k=2, mode="keyword")
    chain = rag_chain(llm, retriever, token_counter=words)
    history = [HumanMessage("What was the Zorblax revenue in 2022?"), AIMessage("10 million euros [1].")]
    rec = QueryRecorder()
    out = chain.invoke({"question": "and in 2023?", "history": history}, config={"callbacks": [rec]})
    assert rec.queries == ["What was the Zorblax revenue in 2022?\nand in 2023?"]
    assert {s["name"] for s in out["sources"]} == {"zorblax.md"}
    assert "Zorblax revenue in 2023 was 12 million euros." in [s["text"] for s in out["sources"]]
    prompt = llm.prompts[0]
    assert prompt[3:5] == history  # the model sees the conversation too, after the worked example
    assert "Question: and in 2023?" in str(prompt[-1].content)
    # without the history the follow-up has no subject: the other company's 2023 chunk comes up
    alone = chain.invoke("and in 2023?")
    assert "quillon.md" in {s["name"] for s in alone["sources"]}


def long_corpus(n: int = 12, size: int = 60) -> list[Document]:
    return [
        chunk(f"Lighthouse log {i}: " + " ".join(f"lighthouse{i}w{j}" for j in range(size)), f"/l/{i}.md", i)
        for i in range(n)
    ]


def test_budget_drops_low_ranked_chunks_and_every_prompt_fits(tmp_path: Path) -> None:
    index = make_index(tmp_path, long_corpus())
    retriever = HybridRetriever(index=index, k=8, mode="keyword")
    results = {}
    for window in (4096, 400):
        llm = ScriptedChatModel(respond=cite_first)
        rec = EventRecorder()
        chain = rag_chain(llm, retriever, context_window=window, answer_tokens=100, token_counter=words)
        results[window] = chain.invoke("lighthouse log", config={"callbacks": [rec]})
        context = next(d for name, d in rec.events if name == CONTEXT_EVENT)
        budget = token_budget(llm, context_window=window, token_counter=words)
        [prompt] = llm.prompts
        assert budget.count_messages(prompt) == context["prompt_tokens"] <= window - 100
        assert context["included"] == len(results[window]["sources"])
        assert context["included"] + context["dropped"] == 8 and not context["truncated"]
        retrieved = next(d for name, d in rec.events if name == RETRIEVED_EVENT)
        assert retrieved == {"count": 8, "relevant": 8, "used": context["included"]}
    assert len(results[4096]["sources"]) == 8
    assert 1 <= len(results[400]["sources"]) < 8
    small = [s["text"] for s in results[400]["sources"]]
    assert small == [s["text"] for s in results[4096]["sources"]][: len(small)]  # best first kept
    assert all(not t.endswith("[...]") for t in small)  # whole chunks only


def test_budget_with_an_estimating_model_fits_its_window(tmp_path: Path) -> None:
    index = make_index(tmp_path, long_corpus())
    llm = ScriptedChatModel(respond=cite_first, context_window=900)
    chain = rag_chain(llm, HybridRetriever(index=index, k=8, mode="keyword"), answer_tokens=200)
    out = chain.invoke("lighthouse log")
    budget = token_budget(llm)
    assert not budget.exact
    assert 1 <= len(out["sources"]) < 8
    assert budget.count_messages(llm.prompts[0]) <= 900 - 200


def test_a_chunk_too_big_for_the_window_is_cut_and_reported(tmp_path: Path) -> None:
    index = make_index(tmp_path, long_corpus(n=3, size=400))
    llm = ScriptedChatModel(respond=cite_first)
    rec = EventRecorder()
    chain = rag_chain(
        llm,
        HybridRetriever(index=index, k=3, mode="keyword"),
        context_window=300,
        answer_tokens=50,
        token_counter=words,
    )
    out = chain.invoke("lighthouse log", config={"callbacks": [rec]})
    [source] = out["sources"]
    assert source["text"].endswith(" [...]") and len(source["text"].split()) < 300
    [full] = [d.page_content for d in index.get_documents() if d.metadata["source"] == source["source"]]
    assert full.startswith(source["text"][: -len(" [...]")] + " ")  # cut at a word, text unchanged
    context = next(d for name, d in rec.events if name == CONTEXT_EVENT)
    assert context["truncated"] is True and context["dropped"] == 2
    assert token_budget(llm, context_window=300, token_counter=words).count_messages(llm.prompts[0]) <= 250


def test_old_history_goes_before_a_chunk_is_cut(tmp_path: Path) -> None:
    index = make_index(tmp_path, long_corpus(n=2, size=60))
    llm = ScriptedChatModel(respond=cite_first)
    rec = EventRecorder()
    history = [
        HumanMessage("lighthouse " * 80),
        AIMessage("ok " * 80),
        HumanMessage("log?"),
        AIMessage("yes"),
    ]
    chain = rag_chain(
        llm,
        HybridRetriever(index=index, k=1, mode="keyword"),
        context_window=400,
        answer_tokens=50,
        token_counter=words,
    )
    out = chain.invoke({"question": "lighthouse log", "history": history}, config={"callbacks": [rec]})
    assert not out["sources"][0]["text"].endswith("[...]")
    context = next(d for name, d in rec.events if name == CONTEXT_EVENT)
    assert context["history_dropped"] == 2 and context["truncated"] is False
    assert llm.prompts[0][3:5] == history[2:]


def test_a_question_longer_than_the_window_raises(index: Any) -> None:
    llm = ScriptedChatModel(respond=cite_first)
    chain = rag_chain(
        llm, HybridRetriever(index=index, mode="keyword"), context_window=200, token_counter=words
    )
    with pytest.raises(ContextOverflowError, match="no room for any source"):
        chain.invoke("glacier " * 300)


def test_any_chat_model_is_accepted(index: Any) -> None:
    llm = FakeListChatModel(responses=["The glacier committee met [1][2]."])
    out = rag_chain(llm, HybridRetriever(index=index, k=2, mode="keyword")).invoke("glacier")
    assert out["answer"] == "The glacier committee met [1][2]."
    assert len(out["sources"]) == 2


@pytest.mark.parametrize("value", [{"history": []}, 42, "   "])
def test_bad_input_says_what_is_expected(index: Any, value: Any) -> None:
    chain = rag_chain(ScriptedChatModel(respond=cite_first), HybridRetriever(index=index))
    with pytest.raises(UnsupportedInputError):
        chain.invoke(value)


def test_bad_settings_fail_when_the_chain_is_built() -> None:
    with pytest.raises(ConfigurationError, match="answer_tokens must be at least 1"):
        rag_chain(ScriptedChatModel(respond=cite_first), answer_tokens=0)
    with pytest.raises(ConfigurationError, match="k must be between 1 and 1000, got 0"):
        rag_chain(ScriptedChatModel(respond=cite_first), k=0)


def test_input_and_output_schemas(index: Any) -> None:
    chain = rag_chain(ScriptedChatModel(respond=cite_first), HybridRetriever(index=index))
    output = chain.get_output_jsonschema()["$defs"]
    assert set(output["RagOutput"]["properties"]) == {"answer", "sources"}
    assert set(output["RagSource"]["properties"]) == {
        "n",
        "source",
        "name",
        "page",
        "section",
        "text",
        "score",
    }
    query = chain.get_input_jsonschema()["$defs"]["RagQuery"]
    assert query["required"] == ["question"] and "history" in query["properties"]
