"""AppTests of the Summarize and Translate pages, with the real embedded model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ARTICLE = """The city council met on Tuesday to discuss the new public library. The building
will open in March 2025 and will cost 12 million euros, paid by the city and the region.

Residents asked for longer opening hours. After a long debate, the council agreed to keep
the library open until 9 pm on weekdays and from 10 am to 6 pm on Saturdays.

The library will also host a makerspace with 3D printers, and a small recording studio that
local musicians can book for free. The first workshops start in April.
"""


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, str | None]]:
    """(data, file name) of every file the app hands to a download button."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: list[tuple[bytes, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def record(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        seen.append((path_or_data, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", record)
    return seen


@pytest.fixture
def progress_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """(name, data) of every custom event ChainProgress draws."""
    from toolkit.ui.components import ChainProgress

    seen: list[tuple[str, Any]] = []
    original = ChainProgress.on_custom_event

    def record(self: Any, name: str, data: Any, **kwargs: Any) -> None:
        seen.append((name, data))
        original(self, name, data, **kwargs)

    monkeypatch.setattr(ChainProgress, "on_custom_event", record)
    return seen


def _no_exception(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def _assert_result_shown(at: Any, key: str, file_name: str, downloads: list[tuple[bytes, str | None]]) -> Any:
    result = at.session_state[key]
    assert result.text.strip()
    assert result.file_name == file_name
    assert result.text in _texts(at.markdown)
    button = at.get("download_button")
    assert [b.label for b in button] == ["Download"]
    assert (result.text.encode(), file_name) in downloads
    return result


# --- Summarize -------------------------------------------------------------------------------------


def test_summarize_pasted_text(
    open_page: Callable[[str], Any], downloads: list[Any], progress_events: list[Any]
) -> None:
    at = open_page("summarize")
    at.text_area(key="summarize_text").input(ARTICLE)
    at.selectbox(key="summarize_length").set_value("short")
    at.button(key="summarize_run").click().run()
    _no_exception(at)

    result = _assert_result_shown(at, "summarize_result", "summary.md", downloads)
    stages = [data["stage"] for name, data in progress_events if name == "summarize_progress"]
    assert stages == ["final"]  # the article fits one pass
    assert result.caption.startswith("pasted text · ")
    assert "one pass" in result.caption and "1 model call" in result.caption
    assert result.caption in _texts(at.caption)

    # another click (here: changing an option) keeps the summary on screen without running again
    events = len(progress_events)
    at.text_input(key="summarize_focus").input("When does it open?").run()
    _no_exception(at)
    assert result.text in _texts(at.markdown)
    assert [b.label for b in at.get("download_button")] == ["Download"]
    assert len(progress_events) == events, "nothing ran again"


def test_summarize_uploaded_markdown_file(open_page: Callable[[str], Any], downloads: list[Any]) -> None:
    at = open_page("summarize")
    at.text_area(key="summarize_text").input("a draft kept for later")
    at.radio(key="summarize_source").set_value("Upload a file").run()
    _no_exception(at)
    assert not at.text_area, "the text area gives way to the file uploader"
    uploader = at.file_uploader[0]
    assert {".txt", ".md", ".pdf", ".docx", ".html"} <= set(uploader.allowed_type)
    uploader.upload("library.md", ("# Library news\n\n" + ARTICLE).encode(), "text/markdown")
    at.selectbox(key="summarize_style").set_value("bullets")
    at.selectbox(key="summarize_length").set_value("short")
    at.button(key="summarize_run").click().run()
    _no_exception(at)

    result = _assert_result_shown(at, "summarize_result", "summary.md", downloads)
    assert result.caption.startswith("library.md · ")

    # back to pasting: the draft typed before is still there, and so is the summary
    at.radio(key="summarize_source").set_value("Paste text").run()
    _no_exception(at)
    assert at.text_area(key="summarize_text").value == "a draft kept for later"
    assert result.text in _texts(at.markdown)


def test_summarize_empty_input_warns_and_runs_nothing(open_page: Callable[[str], Any]) -> None:
    at = open_page("summarize")
    at.text_area(key="summarize_text").input("   \n  ")
    at.button(key="summarize_run").click().run()
    _no_exception(at)
    assert any("nothing to summarize" in w for w in _texts(at.warning))
    assert "summarize_result" not in at.session_state
    assert not at.get("download_button")

    at.radio(key="summarize_source").set_value("Upload a file").run()
    at.button(key="summarize_run").click().run()
    _no_exception(at)
    assert any("upload a file first" in w for w in _texts(at.warning))


def test_summarize_rejects_binary_file(open_page: Callable[[str], Any]) -> None:
    at = open_page("summarize")
    at.radio(key="summarize_source").set_value("Upload a file").run()
    at.file_uploader[0].upload("notes.txt", bytes(range(256)) * 64, "text/plain")
    at.button(key="summarize_run").click().run()
    _no_exception(at)
    errors = _texts(at.error)
    assert len(errors) == 1 and errors[0].startswith("notes.txt was rejected:"), errors
    assert "summarize_result" not in at.session_state


# --- Translate -------------------------------------------------------------------------------------


def test_translate_to_french(
    open_page: Callable[[str], Any], downloads: list[Any], progress_events: list[Any]
) -> None:
    at = open_page("translate")
    at.text_area(key="translate_text").input("The library opens in March. It has a recording studio.")
    at.selectbox(key="translate_to").set_value("French")
    at.button(key="translate_run").click().run()
    _no_exception(at)

    result = _assert_result_shown(at, "translate_result", "translation.txt", downloads)
    assert result.text.strip() != "The library opens in March. It has a recording studio."
    assert "into French" in result.caption and "from English (detected)" in result.caption
    totals = [data["total"] for name, data in progress_events if name == "translate_progress"]
    assert totals and totals[-1] >= 1


def test_translate_unknown_language_is_a_readable_error(open_page: Callable[[str], Any]) -> None:
    at = open_page("translate")
    at.text_area(key="translate_text").input("Good morning, everyone.")
    at.selectbox(key="translate_to").set_value("Other…").run()
    at.text_input(key="translate_to_other").input("Klingonese")
    at.button(key="translate_run").click().run()
    _no_exception(at)
    errors = _texts(at.error)
    assert len(errors) == 1, errors
    assert errors[0].startswith("Could not translate: unknown language 'Klingonese'")
    assert "translate_result" not in at.session_state


def test_translate_malformed_glossary_line_warns(open_page: Callable[[str], Any]) -> None:
    at = open_page("translate")
    at.text_area(key="translate_text").input("The cloud is ready.")
    at.text_area(key="translate_glossary").input("cloud = nuage\nserver -> serveur\n")
    at.button(key="translate_run").click().run()
    _no_exception(at)
    warnings = _texts(at.warning)
    assert any("line 2 ('server -> serveur')" in w and "term = translation" in w for w in warnings), warnings
    assert "translate_result" not in at.session_state


def test_parse_glossary() -> None:
    from toolkit.ui.pages.translate import parse_glossary

    text = "# terms\ncloud = nuage\n\nLangChain=LangChain\n = x\nbroken\n"
    assert parse_glossary(text) == (
        {"cloud": "nuage", "LangChain": "LangChain"},
        ["line 5 ('= x')", "line 6 ('broken')"],
    )
