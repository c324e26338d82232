"""Text against a token budget: count it, and split it into chunks that fit, losing nothing.

Core code shared by the chains and by RAG ingestion; it knows chat models only through
LangChain's ``BaseChatModel``::

    from toolkit.text import TokenBudgetSplitter, split_to_budget, token_budget

    budget = token_budget(llm)                     # exact on llama.cpp, an estimate elsewhere
    chunks = split_to_budget(text, 512, budget.count)
    docs = TokenBudgetSplitter(512, budget.count).split_documents(docs)
    found = extract_candidates("Convert 2,340 kg to pounds")   # values a tool call may take

Nothing heavy happens at import: names below are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "DEFAULT_WINDOW",
    "Candidate",
    "Candidates",
    "Chunk",
    "ExactTokenCounter",
    "TokenBudget",
    "TokenBudgetSplitter",
    "estimate_tokens",
    "extract_candidates",
    "span_counter",
    "split_to_budget",
    "token_budget",
    "with_max_tokens",
]

_LAZY = {
    "DEFAULT_WINDOW": "toolkit.text.budget",
    "ExactTokenCounter": "toolkit.text.budget",
    "TokenBudget": "toolkit.text.budget",
    "estimate_tokens": "toolkit.text.budget",
    "token_budget": "toolkit.text.budget",
    "with_max_tokens": "toolkit.text.budget",
    "Chunk": "toolkit.text.splitting",
    "span_counter": "toolkit.text.splitting",
    "split_to_budget": "toolkit.text.splitting",
    "TokenBudgetSplitter": "toolkit.text.splitter",
    "Candidate": "toolkit.text.candidates",
    "Candidates": "toolkit.text.candidates",
    "extract_candidates": "toolkit.text.candidates",
}

if TYPE_CHECKING:
    from toolkit.text.budget import (
        DEFAULT_WINDOW,
        ExactTokenCounter,
        TokenBudget,
        estimate_tokens,
        token_budget,
        with_max_tokens,
    )
    from toolkit.text.candidates import Candidate, Candidates, extract_candidates
    from toolkit.text.splitter import TokenBudgetSplitter
    from toolkit.text.splitting import Chunk, span_counter, split_to_budget


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
