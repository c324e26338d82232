"""Answer questions from the indexed documents, citing the chunks used as [1], [2], ...

The chain retrieves with the question (plus the user's previous turns, so a follow-up such
as "and in 2023?" keeps its subject), keeps only the hits the retriever marks ``relevant``,
and answers "I don't know" without calling the model when none is left. Otherwise it puts
as many chunks as the model's window allows into the prompt, best first, each numbered and
labelled with its file, page and section, and asks the model to answer from them only.

Every prompt is counted with the model's token budget before it is sent. Chunks that do
not fit are dropped (lowest ranked first); old history turns go before the best chunk
would have to be cut; a cut chunk is marked in the prompt and reported. Two custom events
say what happened: ``rag_retrieved`` (``count``, ``relevant``, ``used``) and
``rag_context`` (``window``, ``prompt_tokens``, ``answer_tokens``, ``included``, ``dropped``,
``truncated``, ``history_dropped`` (messages), ``exact``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Union, cast

from langchain_core.callbacks import adispatch_custom_event, dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, convert_to_messages
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langchain_core.runnables.utils import AddableDict
from typing_extensions import NotRequired, TypedDict  # pydantic needs it for schemas on Python < 3.12

from retrievers._quoting import one_line, quote_source_text
from retrievers.search import MAX_QUERY_CHARS, check_k
from toolkit.chains.inputs import lazy_token_budget
from toolkit.errors import ConfigurationError, ContextOverflowError, LimitExceededError, UnsupportedInputError
from toolkit.text.budget import TokenBudget, with_max_tokens

__all__ = [
    "CONTEXT_EVENT",
    "DONT_KNOW",
    "RETRIEVED_EVENT",
    "RagInput",
    "RagOutput",
    "RagQuery",
    "RagSource",
    "format_sources",
    "rag_chain",
    "rag_source",
]

log = logging.getLogger(__name__)

RETRIEVED_EVENT = "rag_retrieved"
CONTEXT_EVENT = "rag_context"
DONT_KNOW = "I don't know: the indexed documents do not mention this."
"""The answer when no retrieved chunk is relevant (the model is not called)."""


class RagQuery(TypedDict):
    """A question with the conversation so far (oldest message first)."""

    question: str
    history: NotRequired[list[BaseMessage]]


RagInput = Union[str, RagQuery]  # noqa: UP007 - a runtime type for schemas


class RagSource(TypedDict):
    """One numbered source of an answer."""

    n: int
    source: str
    name: str
    page: int | None
    section: str
    text: str
    score: float | None


class RagOutput(TypedDict):
    """The chain's result: the answer and the sources its [n] citations refer to."""

    answer: str
    sources: list[RagSource]


_MARGIN = 8  # seams between messages may tokenize a little differently from the parts
_MIN_CUT_TOKENS = 16
_HISTORY_TURNS = 2  # previous user turns added to the retrieval query
_CUT_MARK = " [...]"

_SYSTEM = (
    "You answer questions about the user's documents using only the numbered sources you are "
    "given. Cite the source of each fact with its number in brackets, like [1]. If the sources "
    "do not contain the answer, say that you don't know. Never use outside knowledge."
)
_TASK = (
    "Answer the question using only the sources above, and cite them like [1]. "
    "If they do not contain the answer, say: I don't know."
)


def _label(source: RagSource) -> str:
    text = source["name"] or source["source"] or "document"
    if source["page"] is not None:
        text += f", p. {source['page']}"
    if source["section"]:
        text += f" - {source['section']}"
    return one_line(text)  # whatever a file name or heading holds


def format_sources(sources: Sequence[RagSource]) -> str:
    """One line per source, as a CLI prints them: ``[1] report.pdf, p. 3 - Introduction``."""
    return "\n".join(f"[{s['n']}] {_label(s)}" for s in sources)


def rag_source(doc: Document, n: int, text: str | None = None) -> RagSource:
    """The numbered source ``[n]`` a retrieved chunk becomes, as the chain and tools cite it.

    Args:
        doc: A retrieved chunk (``source``, ``page``, ``section``, ``score`` metadata are used).
        n: Its number in the answer's citations.
        text: The text to show instead of the chunk's own (e.g. a cut version).
    """
    meta = doc.metadata
    path = str(meta.get("source") or "")
    page = meta.get("page")
    score = meta.get("score")
    return RagSource(
        n=n,
        source=path,
        name=PurePath(path).name if path else "",
        page=int(page) if isinstance(page, (int, float)) else None,
        section=str(meta.get("section") or ""),
        text=doc.page_content.strip() if text is None else text,
        score=float(score) if isinstance(score, (int, float)) else None,
    )


def _example(n: int, name: str, section: str, text: str) -> RagSource:
    return RagSource(n=n, source="", name=name, page=None, section=section, text=text, score=None)


# One worked exchange before the real question: small models copy the citation format from
# an example far more reliably than they follow a description of it (measured on SmolLM2:
# 11 of 14 answers cited a source with it, 2 of 14 without).
_EXAMPLE_SOURCES = [
    _example(1, "city.md", "Bridges", "The old bridge opened in 1932 and was rebuilt in 1990."),
    _example(2, "park.md", "Trees", "The park has 300 oak trees."),
    _example(3, "city.md", "Museums", "The city museum is closed on Mondays."),
]
_EXAMPLE_QUESTION = "When did the old bridge open?"
_EXAMPLE_ANSWER = "The old bridge opened in 1932 [1]."


def _request(question: str, sources: Sequence[RagSource]) -> HumanMessage:
    # Small models lose an instruction given only before a long text: restate it after.
    blocks = "\n\n".join(f"[{s['n']}] {_label(s)}\n{quote_source_text(s['text'])}" for s in sources)
    return HumanMessage(f"Sources:\n\n{blocks}\n\n---\nQuestion: {question}\n\n{_TASK}")


def _messages(
    question: str, history: Sequence[BaseMessage], sources: Sequence[RagSource]
) -> list[BaseMessage]:
    example = [_request(_EXAMPLE_QUESTION, _EXAMPLE_SOURCES), AIMessage(_EXAMPLE_ANSWER)]
    return [SystemMessage(_SYSTEM), *example, *history, _request(question, sources)]


def _parse(value: Any) -> tuple[str, list[BaseMessage]]:
    if isinstance(value, str):
        question, history = value, []
    elif isinstance(value, dict) and isinstance(value.get("question"), str):
        question, history = value["question"], convert_to_messages(value.get("history") or [])
    else:
        raise UnsupportedInputError(
            "rag_chain takes a question string or a dict {'question': str, 'history': [messages]}, "
            f"got {type(value).__name__}"
        )
    if not question.strip():
        raise UnsupportedInputError("the question is empty")
    if len(question) > MAX_QUERY_CHARS:
        raise LimitExceededError(
            f"the question is {len(question):,} characters, over the {MAX_QUERY_CHARS:,} limit - shorten it",
            limit="question_chars",
        )
    return question.strip(), list(history)


def _retrieval_query(question: str, history: Sequence[BaseMessage]) -> str:
    """The question preceded by the user's last turns, so a follow-up keeps its subject."""
    turns = [str(m.content) for m in history if isinstance(m, HumanMessage)][-_HISTORY_TURNS:]
    return "\n".join([*turns, question])


@dataclass
class _Plan:
    """What one question will send: the prompt, its sources, and the budget report.

    ``answer`` is set instead of ``messages`` when no chunk is relevant: the model is not called.
    """

    messages: list[BaseMessage] = field(default_factory=list)
    sources: list[RagSource] = field(default_factory=list)
    retrieved: dict[str, int] = field(default_factory=dict)
    context: dict[str, Any] | None = None
    answer: str | None = None

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """The custom events to dispatch, in order: ``rag_retrieved``, then ``rag_context``."""
        out: list[tuple[str, dict[str, Any]]] = [(RETRIEVED_EVENT, dict(self.retrieved))]
        if self.context is not None:
            out.append((CONTEXT_EVENT, self.context))
        return out


def _drop_oldest_turn(history: list[BaseMessage]) -> list[BaseMessage]:
    """History without its first turn (a user message and the replies up to the next one)."""
    rest = history[1:]
    while rest and not isinstance(rest[0], HumanMessage):
        rest = rest[1:]
    return rest


def _cut(doc: Document, fits: Callable[[str], bool]) -> str | None:
    """The longest prefix of ``doc`` ending at a word (marked as cut) for which ``fits`` holds."""
    text = doc.page_content.strip()
    ends = [m.end() for m in re.finditer(r"\S+", text)]
    lo, hi = 0, len(ends)  # invariant: a prefix of lo words fits (0 trivially)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(text[: ends[mid - 1]] + _CUT_MARK):
            lo = mid
        else:
            hi = mid - 1
    return text[: ends[lo - 1]] + _CUT_MARK if lo else None


_Size = Callable[[Sequence[RagSource], Sequence[BaseMessage]], int]


def _fit(
    relevant: Sequence[Document], history: list[BaseMessage], size: _Size, limit: int
) -> tuple[list[Document], list[BaseMessage], int]:
    """The chunks that fit (best first), the history turns kept, and how many chunks were dropped.

    A chunk that does not fit leaves room for smaller ones; old turns go before the best chunk
    would have to be cut.
    """
    turns = list(history)
    while True:
        chosen: list[Document] = []
        dropped = 0
        for doc in relevant:
            if size(_numbered([*chosen, doc]), turns) <= limit:
                chosen.append(doc)
            else:
                dropped += 1
        if chosen or not turns:
            return chosen, turns, dropped
        turns = _drop_oldest_turn(turns)


def _numbered(chosen: Sequence[Document]) -> list[RagSource]:
    return [rag_source(d, n) for n, d in enumerate(chosen, 1)]


def _cut_best(
    best: Document, turns: list[BaseMessage], size: _Size, limit: int, budget: TokenBudget, answer_tokens: int
) -> RagSource:
    """The best chunk alone, cut to fit, when not even it fits whole."""
    empty = size([], turns)
    cut = None
    if limit - empty >= _MIN_CUT_TOKENS:
        cut = _cut(best, lambda text: size([rag_source(best, 1, text)], turns) <= limit)
    if cut is None:
        raise ContextOverflowError(
            f"the question and instructions take {empty} tokens of a {budget.window}-token window "
            f"with {answer_tokens} reserved for the answer: no room for any source. Shorten the "
            "question, lower answer_tokens, or raise LLAMA_TOOLKIT_N_CTX",
            prompt_tokens=empty + answer_tokens,
            n_ctx=budget.window,
        )
    log.warning("the best source does not fit the %d-token window: sending a cut version", budget.window)
    return rag_source(best, 1, cut)


def _plan(
    question: str,
    history: list[BaseMessage],
    docs: Sequence[Document],
    budget: TokenBudget,
    answer_tokens: int,
) -> _Plan:
    relevant = [d for d in docs if d.metadata.get("relevant", True)]
    limit = budget.window - answer_tokens - _MARGIN

    def size(sources: Sequence[RagSource], turns: Sequence[BaseMessage]) -> int:
        return budget.count_messages(_messages(question, turns, sources))

    chosen, turns, dropped = _fit(relevant, history, size, limit)
    sources = _numbered(chosen)
    truncated = not sources
    if truncated:
        sources, dropped = (
            [_cut_best(relevant[0], turns, size, limit, budget, answer_tokens)],
            len(relevant) - 1,
        )
    messages = _messages(question, turns, sources)
    return _Plan(
        messages=messages,
        sources=sources,
        retrieved={"count": len(docs), "relevant": len(relevant), "used": len(sources)},
        context={
            "window": budget.window,
            "prompt_tokens": budget.count_messages(messages),
            "answer_tokens": answer_tokens,
            "included": len(sources),
            "dropped": dropped,
            "truncated": truncated,
            "history_dropped": len(history) - len(turns),
            "exact": budget.exact,
        },
    )


class _Rag:
    """One :func:`rag_chain`: its retriever and token budget (both made on first use) and its runs."""

    def __init__(
        self,
        get_budget: Callable[[], TokenBudget],
        retriever: BaseRetriever | None,
        k: int,
        answer_tokens: int,
    ) -> None:
        self.get_budget = get_budget
        self.search = retriever
        self.k = k
        self.answer_tokens = answer_tokens

    def retriever(self) -> BaseRetriever:
        if self.search is None:
            from retrievers.search import HybridRetriever
            from retrievers.store import open_index

            self.search = HybridRetriever(index=open_index(create=False), k=self.k)
        return self.search

    def plan(self, question: str, history: list[BaseMessage], docs: Sequence[Document]) -> _Plan:
        if not any(d.metadata.get("relevant", True) for d in docs):  # the model is not even built
            return _Plan(retrieved={"count": len(docs), "relevant": 0, "used": 0}, answer=DONT_KNOW)
        return _plan(question, history, docs, self.get_budget(), self.answer_tokens)

    def model(self) -> Any:
        return with_max_tokens(self.get_budget().llm, self.answer_tokens)[0]

    def stream(self, value: RagInput, config: RunnableConfig) -> Iterator[AddableDict]:
        question, history = _parse(value)
        docs = self.retriever().invoke(_retrieval_query(question, history), config=config)
        plan = self.plan(question, history, docs)
        for name, data in plan.events():
            dispatch_custom_event(name, data, config=config)
        yield AddableDict(sources=plan.sources)
        if plan.answer is not None:
            yield AddableDict(answer=plan.answer)
            return
        said = False
        for chunk in self.model().stream(plan.messages, config=config):
            if chunk.content:
                said = True
                yield AddableDict(answer=chunk.text)
        if not said:  # the key exists even if the model says nothing
            yield AddableDict(answer="")

    async def astream(self, value: RagInput, config: RunnableConfig) -> AsyncIterator[AddableDict]:
        question, history = _parse(value)
        docs = await self.retriever().ainvoke(_retrieval_query(question, history), config=config)
        plan = self.plan(question, history, docs)
        for name, data in plan.events():
            await adispatch_custom_event(name, data, config=config)
        yield AddableDict(sources=plan.sources)
        if plan.answer is not None:
            yield AddableDict(answer=plan.answer)
            return
        said = False
        async for chunk in self.model().astream(plan.messages, config=config):
            if chunk.content:
                said = True
                yield AddableDict(answer=chunk.text)
        if not said:
            yield AddableDict(answer="")


def rag_chain(
    llm: BaseChatModel | None = None,
    retriever: BaseRetriever | None = None,
    *,
    k: int = 5,
    context_window: int | None = None,
    answer_tokens: int = 384,
    token_counter: Callable[[str], int] | None = None,
) -> Runnable[RagInput, RagOutput]:
    """A chain that answers questions from the indexed documents, with numbered citations.

    Example:
        .. code-block:: python

            from retrievers.rag import format_sources, rag_chain

            chain = rag_chain()
            result = chain.invoke("What did the 2023 audit find?")
            print(result["answer"])
            print(format_sources(result["sources"]))

            for chunk in chain.stream({"question": "and in 2024?", "history": messages}):
                print(chunk.get("answer", ""), end="")   # the first chunk holds the sources

    Args:
        llm: Any LangChain chat model; default: the configured backend (``get_chat_model()``).
        retriever: Any retriever; default: a hybrid retriever over the default index.
            Documents whose metadata says ``relevant: False`` are never cited.
        k: Chunks the default retriever returns.
        context_window: Tokens the model may take; default: the model's own window.
        answer_tokens: Tokens reserved for (and allowed to) the answer.
        token_counter: Token counter for models without a local tokenizer.

    Returns:
        A ``Runnable`` taking a question string or ``{"question": str, "history": [messages]}``
        and returning ``{"answer": str, "sources": [RagSource, ...]}``. ``stream`` yields
        ``{"sources": [...]}`` first, then ``{"answer": token}`` chunks.

    Raises:
        ConfigurationError: ``k`` or ``answer_tokens`` below 1 (``LimitExceededError``: ``k`` over ``MAX_K``).

    The returned chain raises ``UnsupportedInputError`` for any other input or an empty question,
    ``LimitExceededError`` for one over ``MAX_QUERY_CHARS`` characters, ``IndexNotFoundError``
    if the default collection is missing (never created), ``ContextOverflowError`` when the
    question and history leave no room for a single source.
    """
    check_k(k)
    if answer_tokens < 1:
        raise ConfigurationError(f"answer_tokens must be at least 1, got {answer_tokens}")
    get_budget = lazy_token_budget(llm, context_window=context_window, token_counter=token_counter)
    run = _Rag(get_budget, retriever, k, answer_tokens)
    chain: Runnable[Any, Any] = RunnableLambda(run.stream, afunc=cast(Any, run.astream), name="rag")
    return chain.with_types(input_type=RagInput, output_type=RagOutput)  # type: ignore[arg-type]
