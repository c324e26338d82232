"""What every chain factory resolves the same way: the model's budget and the input text."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel

from toolkit.text.budget import TokenBudget, token_budget

__all__ = ["combined_text", "lazy_token_budget"]


def lazy_token_budget(
    llm: BaseChatModel | None,
    *,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
) -> Callable[[], TokenBudget]:
    """A function returning ``llm``'s budget, built on first call (and shared after).

    Chain factories return at once: with no ``llm`` the configured backend
    (``get_chat_model()``) is only built, and a GGUF only loaded, when the chain first runs.

    Args:
        llm: Any LangChain chat model; None: the configured backend.
        context_window: Passed to :func:`~toolkit.text.budget.token_budget`.
        token_counter: Passed to :func:`~toolkit.text.budget.token_budget`.
    """
    built: list[TokenBudget] = []
    lock = threading.Lock()

    def get() -> TokenBudget:
        with lock:
            if not built:
                model = llm
                if model is None:
                    from toolkit.backends.factory import get_chat_model

                    model = get_chat_model()
                built.append(token_budget(model, context_window=context_window, token_counter=token_counter))
            return built[0]

    return get


def combined_text(docs: Sequence[Document]) -> tuple[str, Callable[[int, int], str]]:
    """The documents' text in order, and a function naming the pages/sources of a span.

    Args:
        docs: The documents, in order (e.g. a PDF's pages).

    Returns:
        The texts joined by blank lines, and ``label(start, end)`` naming where the span
        ``text[start:end]`` comes from: ``"p. 3"``, ``"p. 3 - p. 4"``, or file names and
        pages when the documents come from several sources ("" when nothing is known).
    """
    texts, starts, labels = [], [], []
    pos = 0
    sources = {str(d.metadata.get("source", "")) for d in docs}
    for d in docs:
        page = d.metadata.get("page")
        source = str(d.metadata.get("source", ""))
        name = source.rsplit("/", 1)[-1] if len(sources) > 1 and source else ""
        labels.append(" ".join(x for x in (name, f"p. {page}" if page is not None else "") if x))
        starts.append(pos)
        texts.append(d.page_content)
        pos += len(d.page_content) + 2
    text = "\n\n".join(texts)

    def label(start: int, end: int) -> str:
        first = bisect.bisect_right(starts, start) - 1
        last = bisect.bisect_right(starts, max(start, end - 1)) - 1
        a, b = labels[first], labels[last]
        return a if a == b else f"{a} - {b}".strip(" -")

    return text, label
