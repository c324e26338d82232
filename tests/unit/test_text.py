"""toolkit.text: the LangChain TextSplitter over the token-budget splitter, and exact budgets
recognised by duck typing (core code never imports a backend)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import ScriptedChatModel, words
from langchain_core.documents import Document
from langchain_core.language_models import FakeListChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from langchain_text_splitters import TextSplitter
from pydantic import Field

from toolkit.text import TokenBudgetSplitter, estimate_tokens, split_to_budget, token_budget

TEXT = (
    "# Intro\n\nThe garden club meets every Tuesday at 6 pm in the old greenhouse. "
    "Seeds are shared for free, and new members are welcome.\n\n"
    + "## Plants\n\n"
    + "Tomatoes, beans and squash grow along the south wall. " * 6
    + "\n\n## Tools\n\nSpades and rakes are kept in the shed; return them clean.\n"
)


def test_splitter_is_a_text_splitter_within_the_budget() -> None:
    splitter = TokenBudgetSplitter(25, words)
    assert isinstance(splitter, TextSplitter)
    chunks = splitter.split_text(TEXT)
    assert len(chunks) > 3
    assert all(words(chunk) <= 25 for chunk in chunks)
    assert all(chunk == chunk.strip() and chunk for chunk in chunks)
    assert " ".join(chunks).split() == TEXT.split()  # every word, in order, once
    assert chunks == [c.text.strip() for c in split_to_budget(TEXT, 25, words) if c.text.strip()]


def test_splitter_without_stripping_gives_back_exact_slices() -> None:
    chunks = TokenBudgetSplitter(25, words, strip_whitespace=False).split_text(TEXT)
    assert "".join(chunks) == TEXT
    assert all(words(chunk) <= 25 for chunk in chunks)


def test_splitter_default_counts_with_the_conservative_estimate() -> None:
    chunks = TokenBudgetSplitter(30).split_text(TEXT)
    assert len(chunks) > 1 and all(estimate_tokens(chunk) <= 30 for chunk in chunks)


def test_split_documents_and_create_documents_keep_metadata() -> None:
    splitter = TokenBudgetSplitter(25, words, add_start_index=True)
    docs = [
        Document(TEXT, metadata={"source": "/notes/garden.md", "page": 1}),
        Document("Short note.", metadata={"source": "/notes/other.md"}),
    ]
    chunks = splitter.split_documents(docs)
    first = [c for c in chunks if c.metadata["source"] == "/notes/garden.md"]
    assert len(first) > 3 and chunks[-1].page_content == "Short note."
    assert all(c.metadata["page"] == 1 for c in first)
    assert chunks[-1].metadata == {"source": "/notes/other.md", "start_index": 0}
    for chunk in first:  # start_index points at the chunk in its document
        start = chunk.metadata["start_index"]
        assert TEXT[start : start + len(chunk.page_content)] == chunk.page_content
    assert all(words(c.page_content) <= 25 for c in chunks)
    assert docs[0].metadata == {"source": "/notes/garden.md", "page": 1}  # inputs unchanged

    created = splitter.create_documents([TEXT], metadatas=[{"source": "pasted"}])
    assert [c.page_content for c in created] == [c.page_content for c in first]
    assert all(c.metadata["source"] == "pasted" for c in created)
    assert splitter.transform_documents(docs) == chunks


def test_splitter_from_chat_model_uses_its_budget() -> None:
    llm = ScriptedChatModel(respond=lambda text: text)
    splitter = TokenBudgetSplitter.from_chat_model(llm, 50)
    budget = token_budget(llm)
    chunks = splitter.split_text(TEXT)
    assert len(chunks) > 1 and all(budget.count(chunk) <= 50 for chunk in chunks)


def test_splitter_refuses_an_empty_budget() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        TokenBudgetSplitter(0)


class ExactFake(FakeListChatModel):
    """A chat model with its own tokenizer (one token per word), like ChatLlama."""

    reads: list[int] = Field(default_factory=list)

    @property
    def context_window(self) -> int:
        self.reads.append(1)
        return 777

    def tokenize_prompt(self, prompt: str) -> list[int]:
        return list(range(len(prompt.split())))

    def get_num_tokens(self, text: str) -> int:
        return len(text.split())

    def get_num_tokens_from_messages(self, messages: list[BaseMessage], tools: object = None) -> int:
        return 100 + sum(len(str(m.content).split()) for m in messages)


def test_a_model_with_its_own_tokenizer_gets_an_exact_budget() -> None:
    llm = ExactFake(responses=["x"])
    budget = token_budget(llm, context_window=500)
    assert budget.exact and budget.window == 500 and llm.reads == []  # given: not read
    assert budget.count("one two three") == 3
    assert budget.count_messages([HumanMessage("a b")]) == 102
    assert token_budget(llm).window == 777 and llm.reads == [1]
    estimated = token_budget(llm, token_counter=len)  # a counter of your own wins
    assert estimated.count("one two") == len("one two")


def test_a_model_without_a_tokenizer_is_estimated() -> None:
    budget = token_budget(FakeListChatModel(responses=["x"]), context_window=2048)
    assert not budget.exact and budget.count("one two three") == estimate_tokens("one two three")


def test_import_is_light() -> None:
    code = (
        "import sys, json, toolkit.text; toolkit.text.split_to_budget; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'langchain_core', 'langchain_text_splitters', 'llama_cpp'})))"
    )
    repo = Path(__file__).parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_former_import_paths_still_work() -> None:
    import toolkit.chains.budget as old_budget
    import toolkit.chains.splitting as old_splitting
    import toolkit.text.budget as budget
    import toolkit.text.splitting as splitting
    from toolkit.chains.inputs import lazy_token_budget

    for name in old_budget.__all__:
        expected = lazy_token_budget if name == "lazy_token_budget" else getattr(budget, name)
        assert getattr(old_budget, name) is expected
    for name in old_splitting.__all__:
        assert getattr(old_splitting, name) is getattr(splitting, name)
