"""Former home of the token budgets, now :mod:`toolkit.text.budget` (the chains' lazy budget is
in :mod:`toolkit.chains.inputs`): kept so that existing imports keep working."""

from __future__ import annotations

from toolkit.chains.inputs import lazy_token_budget
from toolkit.text.budget import (
    DEFAULT_WINDOW,
    ExactTokenCounter,
    TokenBudget,
    estimate_tokens,
    token_budget,
    with_max_tokens,
)

__all__ = [
    "DEFAULT_WINDOW",
    "ExactTokenCounter",
    "TokenBudget",
    "estimate_tokens",
    "lazy_token_budget",
    "token_budget",
    "with_max_tokens",
]
