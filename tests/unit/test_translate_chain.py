"""The translate chain's orchestration on scripted models: structure, masks, fallbacks, order."""

from __future__ import annotations

import asyncio
import re

import pytest
from fakes import EventRecorder, ScriptedChatModel, words

from toolkit.chains.markdown import split_markdown
from toolkit.chains.translate import PROGRESS_EVENT, translate_chain
from toolkit.errors import EmptyDocumentError, UnknownLanguageError

DOC = """# Getting started with the cloud

Read the [guide](https://example.com/docs/start?x=1) before you begin. It takes 15 minutes.

- install the `toolkit` package
- open the cloud console at https://console.example.com
- run 3 checks

| Step | What happens |
|------|:-------------|
| one  | we connect   |
| 2    | we deploy    |

```python
def hello():
    return "do not translate me"  # not even this
```

> LangChain keeps everything in order.
"""


def upper(text: str) -> str:
    """A 'translator' whose work is easy to see: prose upper-cased, masks kept."""
    return text.upper()


def skeleton(text: str) -> list[str]:
    return [s.text for s in split_markdown(text) if not s.translatable]


def translate(respond, text=DOC, recorder=None, **kwargs):
    llm = ScriptedChatModel(respond=respond, context_window=kwargs.pop("window", 1024), max_tokens=4000)
    chain = translate_chain(llm, to=kwargs.pop("to", "fr"), token_counter=words, **kwargs)
    config = {"callbacks": [recorder]} if recorder else {}
    return chain.invoke(text, config=config), llm


def test_structure_code_urls_and_numbers_survive() -> None:
    out, llm = translate(upper)
    assert skeleton(out) == skeleton(DOC)  # headings, markers, pipes, blank lines, code: identical
    fence = DOC[DOC.index("```python") : DOC.index("```\n", DOC.index("```python") + 3) + 4]
    assert fence in out  # byte-identical code block
    assert "https://example.com/docs/start?x=1" in out and "https://console.example.com" in out
    assert "`toolkit`" in out  # inline code untouched
    assert "READ THE [GUIDE]" in out and "15 MINUTES" in out
    sent = "\n".join(str(p[-1].content) for p in llm.prompts)
    assert "do not translate me" not in sent and "https://" not in sent  # never shown to the model
    system = str(llm.prompts[0][0].content)
    assert "into French" in system and "from English" in system  # source detected offline


def test_glossary_is_applied_exactly() -> None:
    out, _ = translate(upper, glossary={"cloud": "nuage", "LangChain": "LangChain"})
    assert "nuage" in out and "LangChain KEEPS" in out
    assert "CLOUD" not in out


def test_lost_masks_and_changed_numbers_fall_back_without_losing_them() -> None:
    def sloppy(text: str) -> str:  # drops every mask and spells digits out
        return re.sub(r"⟦\d+⟧", "", text).upper().replace("15", "FIFTEEN").replace("3", "THREE")

    out, _ = translate(sloppy)
    assert "https://example.com/docs/start?x=1" in out and "https://console.example.com" in out
    assert "15 MINUTES" in out and "RUN 3 CHECKS" in out
    assert skeleton(out) == skeleton(DOC)


def test_commentary_is_removed() -> None:
    def chatty(text: str) -> str:
        return f"Here is the translation:\n\n{text.upper()}\n\nBreakdown:\n- word = mot\n- other = autre"

    out, _ = translate(chatty, text="I love programming.\n")
    assert out == "I LOVE PROGRAMMING.\n"


def test_long_paragraph_is_split_at_sentences_and_kept_in_order() -> None:
    sentences = [f"Sentence S{i} says " + " ".join(["something"] * 20) + "." for i in range(60)]
    text = " ".join(sentences)  # ~1,400 words in one paragraph, window of 512
    rec = EventRecorder()
    out, llm = translate(upper, text=text, recorder=rec, window=512)
    assert len(llm.prompts) > 2
    assert re.findall(r"S\d+", out) == [f"S{i}" for i in range(60)]
    for prompt in llm.prompts:
        assert 16 + sum(8 + words(str(m.content)) for m in prompt) <= 512


def test_progress_stream_and_async() -> None:
    rec = EventRecorder()
    llm = ScriptedChatModel(respond=upper, max_tokens=4000)
    chain = translate_chain(llm, to="German", source="en", token_counter=words)
    pieces = list(chain.stream(DOC, config={"callbacks": [rec]}))
    progress = [d for name, d in rec.events if name == PROGRESS_EVENT]
    assert progress[0]["done"] == 0 and progress[-1]["done"] == progress[-1]["total"] > 5
    assert len(pieces) >= progress[-1]["total"]
    assert "".join(pieces) == chain.invoke(DOC)
    assert "into German" in str(llm.prompts[0][0].content)

    async def collect() -> str:
        return "".join([p async for p in chain.astream(DOC)])

    assert asyncio.run(collect()) == "".join(pieces)


def test_batch_and_text_without_prose() -> None:
    llm = ScriptedChatModel(respond=upper, max_tokens=4000)
    chain = translate_chain(llm, to="es", token_counter=words)
    assert chain.batch(["Hello there.", "Good night."]) == ["HELLO THERE.", "GOOD NIGHT."]
    code_only = "```\nx = 1\n```\n"
    assert chain.invoke(code_only) == code_only
    assert llm.prompts == [llm.prompts[0], llm.prompts[1]]  # the code-only text needed no call


@pytest.mark.parametrize("to", ["xx", "Klingonese", ""])
def test_unknown_target_language(to: str) -> None:
    with pytest.raises(UnknownLanguageError):
        translate_chain(ScriptedChatModel(respond=upper), to=to)


@pytest.mark.parametrize("text", ["", " \n "])
def test_empty_input(text: str) -> None:
    with pytest.raises(EmptyDocumentError):
        translate(upper, text=text)
