"""Summarize documents of any length, accounting for every token of the input.

If the whole document fits the model's window with the instructions and the answer, one
pass summarizes it. Otherwise the text is split at structure boundaries into chunks packed
close to the budget (exact slices: nothing falls between two chunks); each chunk is
summarized in order (map); consecutive partial summaries are combined, in order, until
they fit one final prompt (collapse); the final pass streams. Every prompt is counted
before it is sent and never exceeds the window.

Progress is reported as LangChain custom events named ``summarize_progress`` (``stage``:
``map`` | ``collapse`` | ``final``, ``done``, ``total``, ``depth``), visible to any callback
handler's ``on_custom_event`` and in ``astream_events``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Union, cast

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from toolkit.chains.inputs import combined_text, lazy_token_budget
from toolkit.errors import ConfigurationError, DocumentTooLongError
from toolkit.text.budget import TokenBudget, with_max_tokens
from toolkit.text.splitting import Chunk, split_to_budget

__all__ = ["PROGRESS_EVENT", "STATS_EVENT", "SummarizeInput", "SummaryStats", "summarize_chain"]

PROGRESS_EVENT = "summarize_progress"
STATS_EVENT = "summarize_stats"

SummarizeInput = Union[str, Document, Sequence[Document]]  # noqa: UP007 - a runtime type for schemas
Length = Union[Literal["short", "medium", "long"], int]  # noqa: UP007
Style = Literal["paragraph", "bullets", "key_points"]

_LENGTH_WORDS = {"short": 40, "medium": 120, "long": 300}
_BULLETS = {"short": 3, "medium": 5, "long": 10}
_MIN_CHUNK_TOKENS = 64
_MARGIN = 8  # seams between the instructions and the text may tokenize a little differently


@dataclass
class SummaryStats:
    """What one summarization did, sent as the ``summarize_stats`` custom event.

    Attributes:
        document_tokens: Tokens in the input text.
        chunks: Chunks the map step visited (0: the text fit in one pass).
        depth: Collapse levels needed after the map step.
        calls: Model calls made, the final pass included.
        prompt_tokens: Tokens of every prompt, in the order sent, as counted before sending.
        window: The context window budgeted against.
        exact: Whether counts are the model's own (else a conservative estimate).
    """

    document_tokens: int = 0
    chunks: int = 0
    depth: int = 0
    calls: int = 0
    prompt_tokens: list[int] = field(default_factory=list)
    window: int = 0
    exact: bool = True


@dataclass(frozen=True)
class _Part:
    text: str
    label: str
    tokens: int


@dataclass
class _Options:
    length: Length
    style: Style
    language: str | None
    focus: str | None

    def words(self) -> int:
        return self.length if isinstance(self.length, int) else _LENGTH_WORDS[self.length]

    def answer_tokens(self) -> int:
        """Tokens to reserve for the final answer (about 1.6 tokens per word, plus slack)."""
        words = self.words()
        if self.style != "paragraph" and not isinstance(self.length, int):
            words = _BULLETS[self.length] * 30
        return int(words * 1.6) + 64

    def shape(self) -> str:
        if self.style == "paragraph":
            if self.length == "short":
                return "in one or two sentences"
            return f"in one paragraph of about {self.words()} words"
        if isinstance(self.length, int):
            count = f"bullet points, about {self.length} words in total"
        else:
            count = f"{_BULLETS[self.length]} bullet points"
        if self.style == "bullets":
            return f"as {count}, each starting with '- '"
        return (
            f"as {count} of key points, each starting with '- ' and ending with the section or "
            "page it comes from in brackets, like [Introduction] or [p. 3]"
        )

    def extras(self) -> str:
        out = ""
        if self.focus:
            out += f" Focus on this question: {self.focus}"
        if self.language:
            out += f" Write in {self.language}."
        return out


# Small models lose an instruction given only before a long text: each prompt states the
# task in the system message and restates it after the text.


def _final_messages(opts: _Options, text: str, from_parts: bool) -> list[BaseMessage]:
    what = "summaries of a document's parts, in order" if from_parts else "a document"
    task = f"Summarize the whole document {opts.shape()}. Use only facts from the text.{opts.extras()}"
    system = f"You write faithful summaries. You are given {what}. {task} Answer with the summary only."
    return [SystemMessage(system), HumanMessage(f"{text}\n\n---\n{task}")]


def _map_messages(opts: _Options, part_words: int, label: str, text: str) -> list[BaseMessage]:
    task = (
        f"Summarize this part in {part_words} words or fewer. Keep names, numbers, dates and "
        f"conclusions. Use only facts from the text.{opts.extras()}"
    )
    system = f"You summarize one part of a longer document. {task}"
    body = f"{label}\n\n{text}" if label else text
    return [SystemMessage(system), HumanMessage(f"{body}\n\n---\n{task}")]


def _collapse_messages(opts: _Options, part_words: int, text: str) -> list[BaseMessage]:
    task = (
        f"Combine these summaries into one summary of {part_words} words or fewer. Keep the "
        f"order and every key fact, name and number.{opts.extras()}"
    )
    system = f"You combine summaries of consecutive parts of one document. {task}"
    return [SystemMessage(system), HumanMessage(f"{text}\n\n---\n{task}")]


def _join_parts(parts: Sequence[_Part], labels: bool = False) -> str:
    """Partial summaries in order; labelled with their section/pages only for ``key_points``
    (elsewhere small models copy the labels into the summary)."""
    return "\n\n".join(f"[{p.label}]\n{p.text}" if labels and p.label else p.text for p in parts)


class _Run:
    """One summarization: the budgets, the calls and their accounting."""

    def __init__(
        self, budget: TokenBudget, opts: _Options, part_tokens: int, max_depth: int, config: RunnableConfig
    ) -> None:
        self.budget = budget
        self.opts = opts
        self.part_tokens = part_tokens
        self.part_words = max(20, int(part_tokens / 1.6))
        self.max_depth = max_depth
        self.config = config
        self.stats = SummaryStats(window=budget.window, exact=budget.exact)
        self.part_llm, _ = with_max_tokens(budget.llm, part_tokens)
        self.labels = opts.style == "key_points"

    def progress(self, stage: str, done: int, total: int, depth: int = 0) -> None:
        data = {"stage": stage, "done": done, "total": total, "depth": depth}
        dispatch_custom_event(PROGRESS_EVENT, data, config=self.config)

    def room(self, reserve: int) -> int:
        return self.budget.window - reserve - _MARGIN

    def call(self, messages: list[BaseMessage], reserve: int) -> str:
        n = self.budget.count_messages(messages)
        if n > self.room(reserve):  # the splitter's budget makes this unreachable; guard anyway
            raise DocumentTooLongError(
                f"internal budget error: a {n}-token prompt would leave less than {reserve} tokens "
                f"to answer in a {self.budget.window}-token window",
                prompt_tokens=n,
                n_ctx=self.budget.window,
            )
        self.stats.prompt_tokens.append(n)
        self.stats.calls += 1
        out = self.part_llm.invoke(messages, config=self.config)
        return str(out.content).strip()

    def text_budget(self, build: Callable[[str], list[BaseMessage]], reserve: int) -> int:
        overhead = self.budget.count_messages(build(""))
        available = self.room(reserve) - overhead
        if available < _MIN_CHUNK_TOKENS:
            raise DocumentTooLongError(
                f"a {self.budget.window}-token context window leaves {max(available, 0)} tokens for text "
                f"after the instructions ({overhead} tokens) and the answer ({reserve}): raise "
                "LLAMA_TOOLKIT_N_CTX or ask for a shorter summary",
                prompt_tokens=overhead + reserve,
                n_ctx=self.budget.window,
            )
        return available

    def map(self, text: str, label_of: Callable[[int, int], str]) -> list[_Part]:
        def build(t: str) -> list[BaseMessage]:
            return _map_messages(self.opts, self.part_words, "Part 999 of 999 (pages 999 - 999):", t)

        chunks: list[Chunk] = split_to_budget(
            text, self.text_budget(build, self.part_tokens), self.budget.count
        )
        chunks = [c for c in chunks if c.text.strip()]
        self.stats.chunks = len(chunks)
        parts = []
        self.progress("map", 0, len(chunks))
        for i, chunk in enumerate(chunks, 1):
            where = label_of(chunk.start, chunk.end) or chunk.section
            label = f"Part {i} of {len(chunks)}" + (f" ({where})" if where else "") + ":"
            summary = self.call(
                _map_messages(self.opts, self.part_words, label, chunk.text.strip()), self.part_tokens
            )
            parts.append(_Part(summary, where or f"part {i}", self.budget.count(summary)))
            self.progress("map", i, len(chunks))
        return parts

    def fits_final(self, parts: Sequence[_Part], reserve: int) -> bool:
        messages = _final_messages(self.opts, _join_parts(parts, self.labels), from_parts=True)
        return self.budget.count_messages(messages) <= self.room(reserve)

    def collapse(self, parts: list[_Part], reserve: int) -> list[_Part]:
        depth = 0
        while not self.fits_final(parts, reserve):
            depth += 1
            total_before = sum(p.tokens for p in parts)
            if depth > self.max_depth:
                raise self._too_long(parts, f"after {self.max_depth} collapse levels")
            budget = self.text_budget(
                lambda t: _collapse_messages(self.opts, self.part_words, t), self.part_tokens
            )
            groups: list[list[_Part]] = [[]]
            for part in parts:
                candidate = [*groups[-1], part]
                if groups[-1] and self.budget.count(_join_parts(candidate, self.labels)) > budget:
                    groups.append([part])
                else:
                    groups[-1] = candidate
            self.progress("collapse", 0, len(groups), depth)
            merged = []
            for i, group in enumerate(groups, 1):
                text = _join_parts(group, self.labels)
                if self.budget.count(text) > budget:  # one summary alone over the budget
                    text = split_to_budget(text, budget, self.budget.count)[0].text
                summary = self.call(_collapse_messages(self.opts, self.part_words, text), self.part_tokens)
                label = group[0].label if len(group) == 1 else f"{group[0].label} - {group[-1].label}"
                merged.append(_Part(summary, label, self.budget.count(summary)))
                self.progress("collapse", i, len(groups), depth)
            if sum(p.tokens for p in merged) >= total_before:
                raise self._too_long(merged, "the summaries stopped getting shorter")
            parts = merged
        self.stats.depth = depth
        return parts

    def final_prompt(self, text: str, label_of: Callable[[int, int], str]) -> list[BaseMessage]:
        """The final pass's prompt: the whole text when it fits, else the partial summaries.

        Runs the map and collapse steps when needed, and sends the ``summarize_stats`` event.
        """
        reserve = self.opts.answer_tokens()
        self.stats.document_tokens = self.budget.count(text)
        final = _final_messages(self.opts, text.strip(), from_parts=False)
        if self.budget.count_messages(final) > self.room(reserve):
            parts = self.collapse(self.map(text, label_of), reserve)
            final = _final_messages(self.opts, _join_parts(parts, self.labels), from_parts=True)
        self.stats.prompt_tokens.append(self.budget.count_messages(final))
        self.stats.calls += 1
        self.progress("final", 0, 1)
        dispatch_custom_event(STATS_EVENT, asdict(self.stats), config=self.config)
        return final

    def _too_long(self, parts: Sequence[_Part], why: str) -> DocumentTooLongError:
        n = self.budget.count_messages(
            _final_messages(self.opts, _join_parts(parts, self.labels), from_parts=True)
        )
        return DocumentTooLongError(
            f"the document cannot be summarized in a {self.budget.window}-token window: {why}, the "
            f"partial summaries still need {n} tokens. Raise LLAMA_TOOLKIT_N_CTX, or ask for a "
            "shorter summary (length='short')",
            prompt_tokens=n,
            n_ctx=self.budget.window,
        )


def _options(length: Length, style: Style, language: str | None, focus: str | None) -> _Options:
    if style not in ("paragraph", "bullets", "key_points"):
        raise ConfigurationError(f"style must be 'paragraph', 'bullets' or 'key_points', got {style!r}")
    if not (isinstance(length, int) and length > 0) and length not in _LENGTH_WORDS:
        raise ConfigurationError(
            f"length must be 'short', 'medium', 'long' or a number of words, got {length!r}"
        )
    language_name = None
    if language:
        from toolkit.chains.languages import resolve_language

        language_name = resolve_language(language).name
    return _Options(length=length, style=style, language=language_name, focus=focus)


def summarize_chain(
    llm: BaseChatModel | None = None,
    *,
    length: Length = "medium",
    style: Style = "paragraph",
    language: str | None = None,
    focus: str | None = None,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
    part_max_tokens: int | None = None,
    max_depth: int = 8,
) -> Runnable[SummarizeInput, str]:
    """A chain that summarizes text or documents of any length.

    Example:
        .. code-block:: python

            from toolkit.chains import summarize_chain
            from toolkit.documents import load_document

            chain = summarize_chain(style="bullets", length="short")
            print(chain.invoke(load_document("report.pdf")))
            for token in chain.stream(long_text):   # the final pass streams
                print(token, end="")

    Args:
        llm: Any LangChain chat model; default: the configured backend (``get_chat_model()``).
        length: ``short``, ``medium``, ``long``, or a number of words.
        style: ``paragraph``, ``bullets``, or ``key_points`` (each point cites its section or page).
        language: Language of the summary, by name or ISO code (default: the model's choice,
            usually the document's language).
        focus: A question the summary should answer.
        context_window: Tokens the model may take; default: the model's own window.
        token_counter: Token counter for models without a local tokenizer.
        part_max_tokens: Most tokens per partial summary; default: 1/16 of the window,
            between 128 and 1024.
        max_depth: Most collapse levels before giving up with ``DocumentTooLongError``.

    Returns:
        A ``Runnable`` taking a string, a ``Document`` or a list of them (pages in order) and
        returning the summary as a string.
    """
    opts = _options(length, style, language, focus)
    get_budget = lazy_token_budget(llm, context_window=context_window, token_counter=token_counter)

    def summarize(value: SummarizeInput, config: RunnableConfig) -> Runnable[Any, str]:
        from toolkit.documents import as_documents

        text, label_of = combined_text(as_documents(value))
        budget = get_budget()
        part_tokens = part_max_tokens or min(1024, max(128, budget.window // 16))
        final = _Run(budget, opts, part_tokens, max_depth, config).final_prompt(text, label_of)
        final_llm, _ = with_max_tokens(budget.llm, opts.answer_tokens())
        return RunnableLambda(lambda _: final, name="final_prompt") | final_llm | StrOutputParser()

    chain: Runnable[Any, str] = RunnableLambda(cast(Any, summarize), name="summarize")
    return chain.with_types(input_type=SummarizeInput, output_type=str)  # type: ignore[arg-type]
