"""Token budgets: measure text and prompts against a chat model's context window.

With our llama.cpp model every count is exact (its own tokenizer and chat template). Other
backends cannot tokenize locally (Ollama has no tokenize endpoint), so their counts are a
conservative estimate that over-counts on purpose, and :attr:`TokenBudget.exact` says so.

This is core code: it knows chat models only through LangChain's ``BaseChatModel`` and the
:class:`ExactTokenCounter` protocol, never a backend class.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from toolkit.errors import ConfigurationError

__all__ = [
    "DEFAULT_WINDOW",
    "ExactTokenCounter",
    "TokenBudget",
    "estimate_tokens",
    "token_budget",
    "with_max_tokens",
]

log = logging.getLogger(__name__)

DEFAULT_WINDOW = 4096
"""Window assumed for a chat model that does not say what its context is."""

_PER_MESSAGE = 8  # role header and end-of-turn tokens, over-counted
_PER_PROMPT = 40  # begin-of-text, system preamble such as Llama 3.2's date lines, generation header
# Llama 3's pre-tokenizer gives a word its one leading space, but not a number or a mark:
# a space before those, and a run of spaces before a word, cost tokens of their own.
_WORDISH = re.compile(r"[A-Za-z]+|\d{1,3}|[^\sA-Za-z\d]|\s+(?![A-Za-z])|\s{2,}")
_NON_ASCII_COST = {2: 1, 3: 2, 4: 4}  # by UTF-8 length: accents, CJK, emoji (byte fallback)


def estimate_tokens(text: str) -> int:
    """A conservative token count for text, for backends that cannot tokenize locally.

    BPE tokenizers such as Llama 3's spend one token or more on every word, every group of
    up to three digits, nearly every punctuation mark and most whitespace not followed by a
    word, and rarely pack more than three ASCII characters per token outside common words.
    Non-ASCII characters are charged by their UTF-8 length (1 for accents and Cyrillic, 2
    for CJK, 4 for emoji). The estimate stays above the real count for prose in several
    scripts, code, numbers and emoji (tested against Llama 3's tokenizer), at the cost of
    using up to about 2.5x fewer tokens of the window than exact counting would.
    """
    if not text:
        return 0
    ascii_text = "".join(c if c < "\x80" else " " for c in text)
    non_ascii = sum(_NON_ASCII_COST.get(len(c.encode("utf-8")), 4) for c in text if c >= "\x80")
    pieces = len(_WORDISH.findall(ascii_text))
    # 10% on top: number-heavy text comes within a token of the bound itself.
    return math.ceil(max(pieces, len(ascii_text) / 3) * 1.1) + non_ascii


@dataclass
class TokenBudget:
    """How a chain measures text against one chat model's context window.

    Attributes:
        llm: The chat model.
        window: Its context window in tokens.
        exact: Whether counts come from the model's own tokenizer (else a conservative estimate).
    """

    llm: BaseChatModel
    window: int
    exact: bool
    _count_text: Callable[[str], int]
    _count_messages: Callable[[Sequence[BaseMessage]], int]

    def count(self, text: str) -> int:
        """Tokens in ``text``."""
        return self._count_text(text) if text else 0

    def count_messages(self, messages: Sequence[BaseMessage]) -> int:
        """Tokens of the whole prompt ``messages`` render to, template included."""
        return self._count_messages(messages)


class ExactTokenCounter(Protocol):
    """A chat model that counts tokens exactly, with its own tokenizer and chat template.

    Our llama.cpp model (``ChatLlama``) is one. :func:`token_budget` recognises such a model
    by its ``tokenize_prompt`` method, without importing any backend.
    """

    @property
    def context_window(self) -> int:
        """The loaded context window in tokens."""
        ...

    def tokenize_prompt(self, prompt: str) -> list[int]:
        """Tokens of a rendered prompt."""
        ...

    def get_num_tokens(self, text: str) -> int:
        """Exact token count of plain text."""
        ...

    def get_num_tokens_from_messages(self, messages: list[BaseMessage]) -> int:
        """Exact token count of the prompt ``messages`` render to."""
        ...


def _counts_exactly(llm: object) -> bool:
    # Looked up on the class: reading ChatLlama's `context_window` would load the model.
    # Every chat model has get_num_tokens (an approximation): `tokenize_prompt` is the mark.
    kind = type(llm)
    return callable(getattr(kind, "tokenize_prompt", None)) and hasattr(kind, "context_window")


def _estimate_messages(messages: Sequence[BaseMessage]) -> int:
    return _PER_PROMPT + sum(_PER_MESSAGE + estimate_tokens(str(m.content)) for m in messages)


def token_budget(
    llm: BaseChatModel,
    *,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
) -> TokenBudget:
    """The token budget of ``llm``.

    Args:
        llm: Any LangChain chat model.
        context_window: The window in tokens; default: what the model says (our llama.cpp
            model's loaded context, Ollama's ``num_ctx``, a ``context_window`` attribute),
            else :data:`DEFAULT_WINDOW`.
        token_counter: Counts tokens of plain text, for models whose tokenizer you have;
            default: exact for our llama.cpp model, a conservative estimate otherwise.
    """
    if _counts_exactly(llm) and token_counter is None:
        exact = cast(ExactTokenCounter, llm)
        return TokenBudget(
            llm=llm,
            window=context_window or exact.context_window,
            exact=True,
            _count_text=exact.get_num_tokens,
            _count_messages=lambda ms: exact.get_num_tokens_from_messages(list(ms)),
        )
    declared = context_window or _declared_window(llm)
    if declared is None:
        declared = DEFAULT_WINDOW
        log.warning(
            "%s does not say what its context window is: assuming %d tokens "
            "(pass context_window= to use more)",
            type(llm).__name__,
            declared,
        )
    window = declared
    if token_counter is not None:
        counter = token_counter

        def count_messages(ms: Sequence[BaseMessage]) -> int:
            return _PER_PROMPT + sum(_PER_MESSAGE + counter(str(m.content)) for m in ms)

        return TokenBudget(llm, window, True, counter, count_messages)
    log.info("%s cannot count tokens locally: budgeting with a conservative estimate", type(llm).__name__)
    return TokenBudget(llm, window, False, estimate_tokens, _estimate_messages)


def _declared_window(llm: BaseChatModel) -> int | None:
    for attr in ("context_window", "num_ctx", "n_ctx"):
        value = getattr(llm, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def with_max_tokens(llm: BaseChatModel, n: int) -> tuple[Any, int | None]:
    """``llm`` limited to ``n`` answer tokens, and the limit in effect (None: unknown).

    Uses the model's own field (``max_tokens``, or ``num_predict`` for Ollama) through a
    copy, so the caller's model is not changed. A model with neither keeps its own limit.
    """
    if n < 1:
        raise ConfigurationError(f"max_tokens must be at least 1, got {n}")
    fields = type(llm).model_fields
    for name in ("max_tokens", "num_predict", "max_new_tokens"):
        if name in fields:
            return llm.model_copy(update={name: n}), n
    return llm, None
