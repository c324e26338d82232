"""Translate documents of any length, keeping their Markdown structure.

The text is cut into its Markdown skeleton (headings' ``#``, list markers, table pipes,
blank lines, code blocks: never sent to the model, so they come back byte-identical) and
its prose units (a paragraph, a heading's text, a list item, a table cell). Each unit is
translated in order, in one call, or in sentence-bounded pieces when it is longer than the
budget. URLs, inline code, link targets and glossary terms are masked before the model
sees them and restored after; if the model loses a mask or a number, the unit is
translated again around them, so they are never lost or changed. The answer is cleaned of
what chat models add around a translation (preambles, notes, word-by-word breakdowns).

Progress is reported as ``translate_progress`` custom events (``done``, ``total`` units).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, cast

from langchain_core.callbacks import dispatch_custom_event
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from toolkit.chains.inputs import combined_text, lazy_token_budget
from toolkit.chains.summarize import SummarizeInput
from toolkit.errors import DocumentTooLongError
from toolkit.text.budget import TokenBudget, with_max_tokens
from toolkit.text.splitting import split_to_budget

__all__ = ["PROGRESS_EVENT", "TranslateInput", "translate_chain"]

PROGRESS_EVENT = "translate_progress"
TranslateInput = SummarizeInput
_MARGIN = 8
_GROWTH = 2  # a translation may take up to twice the source's tokens (e.g. into CJK scripts)


def _messages(source: str | None, target: str, text: str) -> list[BaseMessage]:
    origin = f" from {source}" if source else ""
    system = (
        f"You are a professional translator. Translate the user's text{origin} into {target}. "
        f"Reply with the {target} translation only: no notes, no explanations, no word lists. "
        "Keep every marker like ⟦1⟧ exactly as it is."
    )
    return [SystemMessage(system), HumanMessage(text)]


def _split_ws(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    return lead, core, trail


class _Translator:
    def __init__(
        self,
        budget: TokenBudget,
        source: str | None,
        target: str,
        glossary: Mapping[str, str] | None,
        config: RunnableConfig,
    ) -> None:
        self.budget = budget
        self.source = source
        self.target = target
        self.glossary = dict(glossary or {})
        self.config = config
        self._models: dict[int, Any] = {}
        overhead = budget.count_messages(_messages(source, target, ""))
        self.piece_budget = (budget.window - overhead - _MARGIN) // (1 + _GROWTH)
        if self.piece_budget < 16:
            raise DocumentTooLongError(
                f"a {budget.window}-token context window is too small to translate with "
                f"{overhead} tokens of instructions: raise LLAMA_TOOLKIT_N_CTX",
                prompt_tokens=overhead,
                n_ctx=budget.window,
            )

    def _model(self, source_tokens: int) -> Any:
        n = min(self.budget.window, ((_GROWTH * source_tokens + 32) // 64 + 1) * 64)
        if n not in self._models:
            self._models[n] = with_max_tokens(self.budget.llm, n)[0]
        return self._models[n]

    def _ask(self, text: str) -> str:
        from toolkit.chains.cleaning import clean_translation

        tokens = self.budget.count(text)
        out = self._model(tokens).invoke(_messages(self.source, self.target, text), config=self.config)
        return clean_translation(str(out.content), text)

    def unit(self, text: str) -> str:
        """Translate one prose unit, keeping its surrounding whitespace."""
        lead, core, trail = _split_ws(text)
        if not core:
            return text
        if self.budget.count(core) <= self.piece_budget:
            return lead + self._masked(core) + trail
        pieces = split_to_budget(core, self.piece_budget, self.budget.count)
        out = []
        for piece in pieces:
            p_lead, p_core, p_trail = _split_ws(piece.text)
            out.append(p_lead + (self._masked(p_core) if p_core else "") + p_trail)
        return lead + "".join(out) + trail

    def _masked(self, core: str) -> str:
        from toolkit.chains.markdown import numbers_in, protect

        masked = protect(core, self.glossary)
        if masked.masked.strip() and not _only_markers(masked.masked):
            restored = masked.restore(self._ask(masked.masked))
        else:
            restored = masked.restore(masked.masked)
        if restored is not None and not Counter(numbers_in(core)) - Counter(numbers_in(restored)):
            return restored
        return self._around_protected(core)

    def _around_protected(self, core: str) -> str:
        from toolkit.chains.markdown import protected_spans

        out = []
        for seg in protected_spans(core, self.glossary):
            if not seg.translatable:
                out.append(seg.text)
                continue
            lead, text, trail = _split_ws(seg.text)
            out.append(lead + (self._ask(text) if text else "") + trail)
        return "".join(out)


_MARKERS_AND_PUNCTUATION = re.compile(r"⟦\d+⟧|\W")


def _only_markers(text: str) -> bool:
    return not _MARKERS_AND_PUNCTUATION.sub("", text)


def _translated_pieces(text: str, translator: _Translator, config: RunnableConfig) -> Iterator[str]:
    """The translation of ``text``, unit by unit, the Markdown skeleton kept in between."""
    from toolkit.chains.markdown import split_markdown

    segments = split_markdown(text)
    total = sum(1 for s in segments if s.translatable)
    dispatch_custom_event(PROGRESS_EVENT, {"done": 0, "total": total}, config=config)
    done = 0
    pending = ""  # skeleton text is sent together with the next translated unit
    for seg in segments:
        if not seg.translatable:
            pending += seg.text
            continue
        translated = translator.unit(seg.text)
        done += 1
        dispatch_custom_event(PROGRESS_EVENT, {"done": done, "total": total}, config=config)
        yield pending + translated
        pending = ""
    if pending or not total:
        yield pending


async def _in_thread(pieces: Callable[[], Iterator[str]]) -> AsyncIterator[str]:
    """Run the blocking generator ``pieces()`` in a thread and hand its pieces over as they come."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    def produce() -> None:
        try:
            for piece in pieces():
                loop.call_soon_threadsafe(queue.put_nowait, ("piece", piece))
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))
        except BaseException as exc:
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))

    threading.Thread(target=produce, name="translate", daemon=True).start()
    while True:
        kind, item = await queue.get()
        if kind == "end":
            return
        if kind == "error":
            raise item
        yield item


def translate_chain(
    llm: BaseChatModel | None = None,
    *,
    to: str,
    source: str | None = None,
    glossary: Mapping[str, str] | None = None,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
) -> Runnable[TranslateInput, str]:
    """A chain that translates text or documents of any length into ``to``.

    Example:
        .. code-block:: python

            from toolkit.chains import translate_chain

            chain = translate_chain(to="fr", glossary={"LangChain": "LangChain"})
            print(chain.invoke("I love programming."))          # J'adore programmer.
            for piece in chain.stream(markdown_text):           # unit by unit, in order
                print(piece, end="")

    Args:
        llm: Any LangChain chat model; default: the configured backend.
        to: Target language, by name (``French``) or ISO code (``fr``, ``pt-BR``).
        source: Source language; default: detected offline from the text.
        glossary: Terms translated a fixed way (``{"cloud": "nuage"}``), or kept
            (``{"LangChain": "LangChain"}``).
        context_window: Tokens the model may take; default: the model's own window.
        token_counter: Token counter for models without a local tokenizer.

    Returns:
        A ``Runnable`` taking a string, a ``Document`` or a list of them and returning the
        translation; ``stream`` yields it in order, unit by unit.

    Raises:
        UnknownLanguageError: ``to`` or ``source`` is not a language.
    """
    from toolkit.chains.languages import resolve_language

    target = resolve_language(to)
    given_source = resolve_language(source) if source else None
    get_budget = lazy_token_budget(llm, context_window=context_window, token_counter=token_counter)

    def translate(value: TranslateInput, config: RunnableConfig) -> Iterator[str]:
        from toolkit.chains.languages import detect_language
        from toolkit.documents import as_documents

        text, _ = combined_text(as_documents(value))
        src = given_source or detect_language(text)
        translator = _Translator(get_budget(), src.name if src else None, target.name, glossary, config)
        yield from _translated_pieces(text, translator, config)

    async def atranslate(value: TranslateInput, config: RunnableConfig) -> AsyncIterator[str]:
        async for piece in _in_thread(lambda: translate(value, config)):
            yield piece

    chain: Runnable[Any, str] = RunnableLambda(
        cast(Any, translate), afunc=cast(Any, atranslate), name="translate"
    )
    return chain.with_types(input_type=TranslateInput, output_type=str)  # type: ignore[arg-type]
