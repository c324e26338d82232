"""The Ask page through AppTest: answers with numbered, openable sources; an empty collection.

The real app script with the embedded SmolLM2-135M model, the MiniLM embedder and a fresh
data folder per test (``tests/ui/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from toolkit.ui.pages.ask import PLACEHOLDER

BRIDGE = "The Kelvara bridge was finished in 1911. It crosses the Dunmere river north of the old mill."
SOUP = "# Soup\n\nTomato soup needs ripe tomatoes, salt, olive oil and fresh basil."


def _no_exception(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _answers(at: Any) -> list[Any]:
    return [m for m in at.chat_message if m.name == "assistant"]


def test_question_is_answered_with_numbered_sources_and_followups_keep_the_history(
    open_page: Callable[[str], Any], data_dir: Path, tmp_path: Path
) -> None:
    from retrievers import ingest, open_index

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "kelvara.txt").write_text(BRIDGE)
    (folder / "soup.md").write_text(SOUP)
    assert len(ingest([folder], open_index(data_dir=data_dir)).added) == 2

    at = open_page("ask")
    assert at.selectbox(key="ask_pick").value == "documents"
    assert at.chat_input[0].placeholder == PLACEHOLDER
    assert not at.chat_input[0].proto.disabled

    at.chat_input[0].set_value("When was the Kelvara bridge finished?").run()
    _no_exception(at)
    assert not at.error, [e.value for e in at.error]
    (answer,) = _answers(at)
    assert answer.markdown[0].value.strip()  # the streamed answer
    labels = [e.label for e in answer.expander]
    assert labels and labels[0].startswith("[1] ")
    bridge = next(e for e in answer.expander if "kelvara.txt" in e.label)
    assert BRIDGE in bridge.text[0].value
    assert bridge.caption[0].value.replace("\\", "").endswith("kelvara.txt")

    at.chat_input[0].set_value("Which river does it cross?").run()
    _no_exception(at)
    assert [m.markdown[0].value for m in at.chat_message if m.name == "user"] == [
        "When was the Kelvara bridge finished?",
        "Which river does it cross?",
    ]
    assert len(_answers(at)) == 2
    assert _answers(at)[0].expander[0].label == labels[0]  # earlier turns keep their sources


def test_empty_collection_says_how_to_add_documents(open_page: Callable[[str], Any]) -> None:
    at = open_page("ask")
    _no_exception(at)
    info = " ".join(str(e.value) for e in at.info)
    assert "The collection documents does not exist yet" in info and "Documents page" in info
    assert at.chat_input[0].proto.disabled
    (link,) = at.get("page_link")
    assert link.proto.label == "Go to the Documents page" and link.proto.page_script_hash
    assert not at.error


def test_citations_without_a_source_are_flagged() -> None:
    from toolkit.ui.citations import citation_check

    sources = [{"n": 1, "name": "kelvara-bridge.md"}]
    assert citation_check("Finished in 1911 [1].", sources) == ""
    assert citation_check("Finished in 1913 [2].", sources) == (
        "The answer cites [2], which is not among the sources below: check it against them."
    )
    assert citation_check("Finished in 1911 [1][3] and [4].", sources).startswith(
        "The answer cites [3], [4],"
    )
    assert citation_check("Finished in 1911.", sources) == (
        "The answer cites no source: check it against the sources below."
    )
    assert citation_check("Finished in 1911.", []) == ""  # no sources: the page says so already
    assert citation_check("", sources) == ""
