"""The summarize and translate chains on the real embedded model (8K window)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from corpus import report
from langchain_core.callbacks import BaseCallbackHandler

from toolkit import ChatLlama
from toolkit.chains import summarize_chain, translate_chain
from toolkit.chains.markdown import split_markdown
from toolkit.chains.summarize import STATS_EVENT

pytestmark = pytest.mark.integration


class Recorder(BaseCallbackHandler):
    """Every prompt sent, the model's own token counts for it, and the chain's events."""

    def __init__(self) -> None:
        self.prompts: list[Any] = []
        self.usage: list[dict[str, Any]] = []
        self.events: list[tuple[str, Any]] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.prompts.append(messages[0])

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        message = response.generations[0][0].message
        self.usage.append({**(message.usage_metadata or {}), **message.response_metadata})

    def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
        self.events.append((name, data))


@pytest.fixture(scope="module")
def llm(embedded_model: str) -> ChatLlama:
    return ChatLlama(model_path=embedded_model, temperature=0.0, seed=1, repeat_penalty=1.1)


def test_summarize_document_three_windows_long(llm: ChatLlama) -> None:
    text = report(360)
    doc_tokens = llm.get_num_tokens(text)
    window = llm.context_window
    assert window == 8192 and doc_tokens > 3 * window
    rec = Recorder()
    summary = summarize_chain(llm, length="short", part_max_tokens=128).invoke(
        text, config={"callbacks": [rec]}
    )
    assert summary.strip()

    stats = next(data for name, data in rec.events if name == STATS_EVENT)
    # every prompt fit: the model's own count, plus the answer it was allowed, within the window
    assert len(rec.usage) == stats["calls"]
    for usage in rec.usage:
        assert usage["input_tokens"] + usage["output_tokens"] <= window
        assert usage["finish_reason"] != "context_window"
    assert [u["input_tokens"] for u in rec.usage] == stats["prompt_tokens"]  # our count is exact
    # every chunk visited once, in order: the map prompts hold the document, all of it, in order
    n = stats["chunks"]
    assert n >= 4
    bodies = [str(p[-1].content).split("\n\n", 1)[1].rsplit("\n\n---\n", 1)[0] for p in rec.prompts[:n]]
    assert [int(re.match(r"Part (\d+) of", str(p[-1].content)).group(1)) for p in rec.prompts[:n]] == list(
        range(1, n + 1)
    )
    assert re.sub(r"\s+", " ", " ".join(bodies)).strip() == re.sub(r"\s+", " ", text).strip()
    total_prompt = sum(stats["prompt_tokens"])
    assert total_prompt / doc_tokens < 1.25  # the bench tracks the 1.15 target


def test_translate_markdown_keeps_code_and_structure(llm: ChatLlama) -> None:
    doc = (
        "# Weekly update\n\n"
        "The team fixed 12 bugs this week. See https://example.com/notes for details.\n\n"
        "- The build is faster.\n- Tests are green.\n\n"
        "```bash\npip install llama-toolkit  # keep me\n```\n"
    )
    rec = Recorder()
    out = translate_chain(llm, to="fr").invoke(doc, config={"callbacks": [rec]})
    assert "```bash\npip install llama-toolkit  # keep me\n```\n" in out
    assert [s.text for s in split_markdown(out) if not s.translatable] == [
        s.text for s in split_markdown(doc) if not s.translatable
    ]
    assert "https://example.com/notes" in out and "12" in out
    assert out != doc
    # heading, paragraph, two list items (more if a mask was lost and the unit retried): the
    # code block and the URL are never sent to the model
    assert len(rec.prompts) >= 4
    sent = "\n".join(str(p[-1].content) for p in rec.prompts)
    assert "pip install" not in sent and "example.com" not in sent
