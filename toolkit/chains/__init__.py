"""LangChain chains over any chat model: long-context summarization and translation.

Each factory takes any LangChain ``BaseChatModel`` (default: the configured backend) and
returns a ``Runnable``; nothing is loaded at import time::

    from toolkit.chains import summarize_chain, translate_chain

    summary = summarize_chain(style="bullets").invoke(long_text)
    french = translate_chain(to="fr").invoke("I love programming.")
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.lazy import lazy_exports

__all__ = [
    "SummaryStats",
    "TokenBudget",
    "summarize_chain",
    "token_budget",
    "translate_chain",
]

_LAZY = {
    "SummaryStats": "toolkit.chains.summarize",
    "summarize_chain": "toolkit.chains.summarize",
    "translate_chain": "toolkit.chains.translate",
    "TokenBudget": "toolkit.text.budget",
    "token_budget": "toolkit.text.budget",
}

if TYPE_CHECKING:
    from toolkit.chains.summarize import SummaryStats, summarize_chain
    from toolkit.chains.translate import translate_chain
    from toolkit.text.budget import TokenBudget, token_budget


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
