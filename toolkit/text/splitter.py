"""A LangChain ``TextSplitter`` over the token-budget splitter, for any LangChain pipeline.

langchain-text-splitters is imported with this module only: ``toolkit.text`` exports
:class:`TokenBudgetSplitter` lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_text_splitters import TextSplitter

from toolkit.text.budget import estimate_tokens, token_budget
from toolkit.text.splitting import split_to_budget

__all__ = ["TokenBudgetSplitter"]


class TokenBudgetSplitter(TextSplitter):
    """Split text into chunks of at most ``chunk_tokens`` tokens, at structure boundaries.

    The LangChain face of :func:`~toolkit.text.splitting.split_to_budget`: Markdown headings
    and paragraphs first, then lines, sentences and words, chunks packed close to the budget.
    ``split_text``, ``split_documents``, ``create_documents`` and ``transform_documents``
    work as on any ``TextSplitter``; documents keep their metadata.

    Example:
        .. code-block:: python

            from toolkit.text import TokenBudgetSplitter

            splitter = TokenBudgetSplitter.from_chat_model(llm, chunk_tokens=512)
            chunks = splitter.split_documents(load_document("report.pdf"))

    Args:
        chunk_tokens: Most tokens per chunk.
        count: Token counter; default: the conservative estimate of
            :func:`~toolkit.text.budget.estimate_tokens`.
        strip_whitespace: Strip each chunk and drop whitespace-only ones (LangChain's default).
            With ``False`` chunks are the exact slices: joined, they give back the text.
        add_start_index: Add each chunk's offset in its text as ``start_index`` metadata.

    Raises:
        ValueError: ``chunk_tokens`` is smaller than 1.
    """

    def __init__(
        self,
        chunk_tokens: int,
        count: Callable[[str], int] = estimate_tokens,
        *,
        strip_whitespace: bool = True,
        add_start_index: bool = False,
    ) -> None:
        super().__init__(
            chunk_size=chunk_tokens,
            chunk_overlap=0,  # chunks never overlap: each character is in exactly one chunk
            length_function=count,
            add_start_index=add_start_index,
            strip_whitespace=strip_whitespace,
        )

    @classmethod
    def from_chat_model(cls, llm: BaseChatModel, chunk_tokens: int, **kwargs: Any) -> TokenBudgetSplitter:
        """A splitter counting with ``llm``'s token budget (exact on our llama.cpp model).

        Args:
            llm: Any LangChain chat model.
            chunk_tokens: Most tokens per chunk.
            **kwargs: ``strip_whitespace`` and ``add_start_index``, as in the constructor.
        """
        return cls(chunk_tokens, token_budget(llm).count, **kwargs)

    def split_text(self, text: str) -> list[str]:
        """Split ``text`` into chunks of at most ``chunk_tokens`` tokens each, in order."""
        chunks = [c.text for c in split_to_budget(text, self._chunk_size, self._length_function)]
        if self._strip_whitespace:
            return [s for c in chunks if (s := c.strip())]
        return chunks
