"""``summarize`` and ``translate``: the toolkit's long-document chains as tools.

Both wrap :mod:`toolkit.chains` (:func:`~toolkit.chains.summarize_chain`,
:func:`~toolkit.chains.translate_chain`), so text of any length works: it is split to the
model's window, summarized or translated in parts, and put back together. They take the
text itself; to work on a file, read it first (``read_file``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langchain_core.callbacks import Callbacks
from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool
from pydantic import Field, field_validator

from tools._base import ToolArgs, ToolException, build_tool

__all__ = ["MAX_TEXT_CHARS", "make_summarize_tool", "make_translate_tool"]

MAX_TEXT_CHARS = 200_000
"""Longest text either tool takes in one call (about 50,000 tokens, many model calls already)."""


def _require_text(text: str) -> None:
    if not text.strip():
        raise ToolException("the text is empty - pass the text itself (read a file first with read_file)")
    if len(text) > MAX_TEXT_CHARS:
        raise ToolException(
            f"the text is {len(text):,} characters, over the {MAX_TEXT_CHARS:,} limit - pass it in parts, "
            "or ingest the file and use search_documents"
        )


class SummarizeArgs(ToolArgs):
    text: str = Field(description="The text to summarize.")
    length: Literal["short", "medium", "long"] = Field(default="medium", description="short, medium or long.")
    bullets: bool = Field(default=False, description="True for bullet points instead of a paragraph.")

    @field_validator("length", mode="before")
    @classmethod
    def _length(cls, value: Any) -> Any:
        # "Short", "brief", None: take what is meant rather than fail
        if value is None:
            return "medium"
        if isinstance(value, str):
            key = value.strip().lower()
            return {"brief": "short", "detailed": "long", "normal": "medium"}.get(key, key)
        return value


class TranslateArgs(ToolArgs):
    text: str = Field(description="The text to translate.")
    target_language: str = Field(description="Language to translate into, e.g. French or fr.")
    source_language: str | None = Field(
        default=None, description="Language of the text; leave empty to detect it."
    )


def make_summarize_tool(
    llm: BaseChatModel | None = None,
    *,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
) -> BaseTool:
    """The ``summarize(text, length="medium", bullets=False)`` tool.

    Args:
        llm: The chat model; default: the configured backend, built on first use.
        context_window: Tokens the model may take; default: the model's own window.
        token_counter: Token counter for models without a local tokenizer.

    Returns:
        A tool answering with the summary.
    """

    def summarize(
        text: str, length: str = "medium", bullets: bool = False, callbacks: Callbacks = None
    ) -> str:
        from toolkit.chains import summarize_chain

        _require_text(text)
        chain = summarize_chain(
            llm,
            length=length,  # type: ignore[arg-type]
            style="bullets" if bullets else "paragraph",
            context_window=context_window,
            token_counter=token_counter,
        )
        return chain.invoke(text, config={"callbacks": callbacks}).strip()

    return build_tool(
        summarize,
        name="summarize",
        description="Summarize a text (any length) in a short, medium or long summary, or as bullet points.",
        args_schema=SummarizeArgs,
        examples=[
            "Summarize this article for me",
            "Give me the key points of this text in bullets",
            "TL;DR of the following email",
            "Make a short summary of these meeting notes",
            "What is this document about, in a few sentences?",
        ],
        example_args={"text": "The text to summarize...", "length": "short"},
    )


def make_translate_tool(
    llm: BaseChatModel | None = None,
    *,
    context_window: int | None = None,
    token_counter: Callable[[str], int] | None = None,
) -> BaseTool:
    """The ``translate(text, target_language, source_language=None)`` tool.

    Args:
        llm: The chat model; default: the configured backend, built on first use.
        context_window: Tokens the model may take; default: the model's own window.
        token_counter: Token counter for models without a local tokenizer.

    Returns:
        A tool answering with the translation (Markdown structure kept). An unknown
        language comes back as a message that says how to name one.
    """

    def translate(
        text: str, target_language: str, source_language: str | None = None, callbacks: Callbacks = None
    ) -> str:
        from toolkit.chains import translate_chain

        _require_text(text)
        chain = translate_chain(
            llm,
            to=target_language,
            source=source_language or None,
            context_window=context_window,
            token_counter=token_counter,
        )
        return chain.invoke(text, config={"callbacks": callbacks})

    return build_tool(
        translate,
        name="translate",
        description="Translate a text into another language (e.g. French, Spanish, German, Japanese).",
        args_schema=TranslateArgs,
        examples=[
            "Translate 'I love programming' into French",
            "How do you say good morning in Spanish?",
            "Translate this paragraph to German",
            "Put this email into English",
            "What does 'merci beaucoup' mean in English?",
        ],
        example_args={"text": "I love programming.", "target_language": "French"},
        example_request="Translate 'I love programming.' into French",
    )
