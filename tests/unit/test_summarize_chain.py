"""Map/collapse logic of the summarize chain, on a scripted model (one token = one word)."""

from __future__ import annotations

import asyncio

import pytest
from fakes import MARKER, EventRecorder, ScriptedChatModel, covered, echo_markers, range_markers, words
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.runnables import RunnableLambda

from toolkit.chains.summarize import PROGRESS_EVENT, STATS_EVENT, summarize_chain
from toolkit.errors import DocumentTooLongError, EmptyDocumentError, UnknownLanguageError
from toolkit.text.splitting import split_to_budget


def document(n: int, words_per_paragraph: int = 40) -> str:
    """``n`` paragraphs, each starting with its marker M<i>, under a heading every 10."""
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(f"## Section {i // 10}")
        out.append(f"M{i} " + " ".join(f"w{i}x{j}" for j in range(words_per_paragraph)))
    return "\n\n".join(out)


def run(chain, text, recorder=None):
    config = {"callbacks": [recorder]} if recorder else {}
    return chain.invoke(text, config=config)


def stats_of(recorder: EventRecorder) -> dict:
    return next(data for name, data in recorder.events if name == STATS_EVENT)


def test_short_text_is_one_pass() -> None:
    llm = ScriptedChatModel(respond=echo_markers())
    rec = EventRecorder()
    out = run(summarize_chain(llm, token_counter=words), document(3), rec)
    assert MARKER.findall(out) == ["M0", "M1", "M2"]
    assert len(llm.prompts) == 1
    assert stats_of(rec)["chunks"] == 0


def test_long_text_every_chunk_visited_once_in_order_within_budget() -> None:
    llm = ScriptedChatModel(respond=echo_markers(), context_window=1024)
    rec = EventRecorder()
    text = document(120)  # ~5,000 words: about six windows
    out = run(summarize_chain(llm, token_counter=words, part_max_tokens=128), text, rec)
    expected = [f"M{i}" for i in range(120)]
    assert MARKER.findall(out) == expected  # nothing lost, order kept
    stats = stats_of(rec)
    assert stats["chunks"] >= 5
    map_prompts = llm.prompts[: stats["chunks"]]
    seen = [m for p in map_prompts for m in MARKER.findall(str(p[-1].content))]
    assert seen == expected  # each paragraph in exactly one chunk, in order
    for prompt_tokens in stats["prompt_tokens"]:
        assert prompt_tokens + 128 <= 1024
    # chunks are packed close to the budget, not one paragraph each
    assert stats["chunks"] <= 1 + words(text) // (1024 - 128 - 200)


def test_collapse_recurses_and_keeps_order() -> None:
    # Each summary names its paragraphs as ranges plus 150 filler words, so 2,000 paragraphs
    # leave too many partial summaries for one final prompt even after a first collapse.
    llm = ScriptedChatModel(respond=range_markers(pad=150), context_window=1024)
    rec = EventRecorder()
    text = document(2000, words_per_paragraph=9)
    run(summarize_chain(llm, token_counter=words, part_max_tokens=200, length=30), text, rec)
    stats = stats_of(rec)
    assert stats["depth"] >= 2
    # every prompt within the window, and the final one still names every paragraph in order
    assert all(n + 200 <= 1024 for n in stats["prompt_tokens"][:-1])
    assert covered(str(llm.prompts[-1][-1].content)) == list(range(2000))
    collapse = [d for name, d in rec.events if name == PROGRESS_EVENT and d["stage"] == "collapse"]
    assert {d["depth"] for d in collapse} >= {1, 2}


def test_progress_events_count_every_chunk() -> None:
    llm = ScriptedChatModel(respond=echo_markers(), context_window=1024)
    rec = EventRecorder()
    run(summarize_chain(llm, token_counter=words, part_max_tokens=128), document(100), rec)
    progress = [d for name, d in rec.events if name == PROGRESS_EVENT]
    maps = [d for d in progress if d["stage"] == "map"]
    total = maps[0]["total"]
    assert [d["done"] for d in maps] == list(range(total + 1))
    assert progress[-1]["stage"] == "final"


def test_summaries_that_do_not_shrink_raise() -> None:
    # A model that copies its input never shortens anything: give up with a clear error.
    llm = ScriptedChatModel(respond=lambda text: text, context_window=1024, max_tokens=10_000)
    with pytest.raises(DocumentTooLongError, match="cannot be summarized in a 1024-token window"):
        run(summarize_chain(llm, token_counter=words, part_max_tokens=400), document(200))


def test_window_too_small_for_instructions_raises() -> None:
    llm = ScriptedChatModel(respond=echo_markers(), context_window=200)
    with pytest.raises(DocumentTooLongError, match="200-token context window leaves"):
        run(summarize_chain(llm, token_counter=words, part_max_tokens=128), document(50))


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_empty_input_is_refused(text: str) -> None:
    llm = ScriptedChatModel(respond=echo_markers())
    with pytest.raises(EmptyDocumentError):
        run(summarize_chain(llm, token_counter=words), text)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(UnknownLanguageError, match="frnch"):
        summarize_chain(ScriptedChatModel(respond=echo_markers()), language="frnch")


def test_options_reach_the_prompt() -> None:
    llm = ScriptedChatModel(respond=echo_markers())
    chain = summarize_chain(
        llm, token_counter=words, style="bullets", length="short", language="fr", focus="What failed?"
    )
    chain.invoke("M1 something happened.")
    system = str(llm.prompts[0][0].content)
    assert "3 bullet points" in system and "French" in system and "What failed?" in system


def test_pages_label_the_parts_for_key_points() -> None:
    llm = ScriptedChatModel(respond=echo_markers(), context_window=1024)
    pages = [Document(page_content=document(30), metadata={"source": "/r.pdf", "page": p}) for p in (1, 2, 3)]
    run(summarize_chain(llm, token_counter=words, style="key_points", part_max_tokens=128), pages)
    labels = [str(p[-1].content).split("\n", 1)[0] for p in llm.prompts[:-1]]
    assert labels[0].startswith("Part 1 of") and "(p. 1" in labels[0]
    assert "p. 3" in labels[-1]


def test_composes_batches_and_streams() -> None:
    llm = ScriptedChatModel(respond=echo_markers(pad=3))
    chain = summarize_chain(llm, token_counter=words)
    piped = RunnableLambda(lambda d: d["text"]) | chain | StrOutputParser()
    assert MARKER.findall(piped.invoke({"text": "M7 text here"})) == ["M7"]
    outs = chain.batch(["M1 a", "M2 b"])
    assert [MARKER.findall(o) for o in outs] == [["M1"], ["M2"]]
    chunks = list(chain.stream("M3 c"))
    assert len(chunks) > 1 and MARKER.findall("".join(chunks)) == ["M3"]

    async def collect() -> list[str]:
        return [c async for c in chain.astream("M4 d")]

    achunks = asyncio.run(collect())
    assert len(achunks) > 1 and MARKER.findall("".join(achunks)) == ["M4"]
    assert chain.input_schema.model_json_schema()
    assert chain.output_schema.model_json_schema()["type"] == "string"


def test_splitter_is_exact_and_prefers_paragraphs() -> None:
    text = document(40) + "\n\n```\ncode block that must not be split\n\n\nstill code\n```\n"
    chunks = split_to_budget(text, 150, words)
    assert "".join(c.text for c in chunks) == text
    assert all(c.tokens <= 150 for c in chunks)
    assert all(c.text.startswith(("M", "##", "```")) for c in chunks)
    assert any("```\ncode block" in c.text and "still code\n```" in c.text for c in chunks)
    # one sentence longer than the budget is cut at words, still exactly
    long = " ".join(f"x{i}" for i in range(500))
    assert "".join(c.text for c in split_to_budget(long, 64, words)) == long


def test_a_128k_window_takes_a_long_report_in_few_large_chunks() -> None:
    llm = ScriptedChatModel(respond=range_markers(), context_window=131072, max_tokens=4000)
    rec = EventRecorder()
    text = document(6000, words_per_paragraph=40)  # ~250K words
    run(summarize_chain(llm, token_counter=words), text, rec)
    stats = stats_of(rec)
    # ~250K words over a ~130K budget: two chunks, or three when one ends early at a heading
    assert stats["window"] == 131072 and stats["chunks"] in (2, 3)
    assert all(n + 1024 <= 131072 for n in stats["prompt_tokens"][:-1])
    assert covered(str(llm.prompts[-1][-1].content)) == list(range(6000))
