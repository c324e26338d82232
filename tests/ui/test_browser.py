"""The app in a real browser: ``streamlit run`` on loopback, Debian's Chromium driven by Playwright.

Flows: a chat reply streams; a document is uploaded and listed; a question gets an answer with
a citation; the agent shows a tool step; two browser sessions at once keep their own
histories; an image link in the model's answer is not fetched and the server-path boxes are
hidden (issue 13). Screenshots are saved for each flow, and the chat flow measures the time from
pressing send to the first token on screen against the model's own time to first token
(written to ``test-artifacts/browser/first_token.json``; a figure, not an assertion).
"""

from __future__ import annotations

import json
import os
import re
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ui.browser import ARTIFACTS, CHROMIUM, FIRST_TOKEN_PROBE, chromium, streamlit_server

pytestmark = pytest.mark.integration

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)

TIMEOUT_MS = 180_000  # one answer of the 135M model on 2 busy cores, with room
_TTFT = re.compile(r"first token (\d+) ms")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("app-data")
    with streamlit_server(data, ARTIFACTS / "streamlit.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Any, app_url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(app_url)
    page.locator('[data-testid="stChatInputTextArea"]').wait_for()
    yield page
    context.close()


def shot(page: Any, name: str, focus: Any = None) -> Path:
    """Save a screenshot, scrolled to ``focus`` (Streamlit scrolls its main area, not the page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if focus is not None:
        focus.scroll_into_view_if_needed()
    page.screenshot(path=str(path), animations="disabled")
    return path


def assistant_messages(page: Any) -> Any:
    return page.locator('[data-testid="stChatMessage"]').filter(
        has=page.locator('[data-testid="stChatMessageAvatarAssistant"]')
    )


def send(page: Any, text: str) -> None:
    box = page.locator('[data-testid="stChatInputTextArea"]')
    box.fill(text)
    box.press("Enter")


def wait_for_answer(page: Any, count: int) -> Any:
    """The ``count``-th assistant message, once its caption (written after the stream) is there."""
    message = assistant_messages(page).nth(count - 1)
    message.get_by_text("first token").wait_for()  # the stats caption, drawn after the stream
    return message


def go(page: Any, title: str) -> None:
    page.get_by_role("link", name=title, exact=True).click()


def test_chat_reply_streams_and_first_token_overhead(page: Any) -> None:
    send(page, "Hello! Who are you?")  # warm-up: the first run of a session loads the page's modules
    wait_for_answer(page, 1)
    rows = []
    questions = [
        "Tell me a joke about cats.",
        "What is the capital of France?",
        "Name three colours.",
        "Give me a tip for learning Python.",
        "What is a llama?",
    ]
    for n, question in enumerate(questions, start=2):
        page.evaluate(FIRST_TOKEN_PROBE)
        send(page, question)
        message = wait_for_answer(page, n)
        probe = page.evaluate("window.__probe")
        caption = message.locator('[data-testid="stCaptionContainer"]').last.inner_text()
        model_ms = _TTFT.search(caption)
        assert model_ms, caption
        assert probe["sent"] is not None and probe["first"] is not None, probe
        screen_ms = probe["first"] - probe["sent"]
        rows.append(
            {
                "question": question,
                "screen_first_token_ms": round(screen_ms, 1),
                "model_first_token_ms": int(model_ms.group(1)),
                "text_updates": len(probe["lengths"]),
                "answer": message.locator('[data-testid="stMarkdownContainer"]').first.inner_text(),
            }
        )
    shot(page, "chat")
    # Streamed: the answer grew on screen in several steps, not in one piece at the end.
    assert max(r["text_updates"] for r in rows) >= 3, rows
    assert all(r["answer"].strip() for r in rows), rows
    assert len(assistant_messages(page).all()) == len(questions) + 1  # the history stays on screen
    ratios = [r["screen_first_token_ms"] / max(r["model_first_token_ms"], 1) for r in rows]
    summary = {
        "rows": rows,
        "median_screen_ms": statistics.median(r["screen_first_token_ms"] for r in rows),
        "median_model_ms": statistics.median(r["model_first_token_ms"] for r in rows),
        "median_ratio": round(statistics.median(ratios), 3),
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "first_token.json").write_text(json.dumps(summary, indent=2))
    print(
        f"\nsend -> first token on screen: median {summary['median_screen_ms']:.0f} ms; model's own "
        f"time to first token: median {summary['median_model_ms']:.0f} ms; ratio {summary['median_ratio']}"
    )


def test_two_sessions_keep_their_own_histories(browser: Any, app_url: str) -> None:
    pages = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        p = context.new_page()
        p.set_default_timeout(TIMEOUT_MS)
        p.goto(app_url)
        p.locator('[data-testid="stChatInputTextArea"]').wait_for()
        pages.append(p)
    a, b = pages
    send(a, "My favourite fruit is mango. Say something about mangoes.")
    send(b, "My favourite animal is the otter. Say something about otters.")  # both run at once
    answers = [wait_for_answer(p, 1) for p in pages]
    for p, mine, other in ((a, "mango", "otter"), (b, "otter", "mango")):
        users = p.locator('[data-testid="stChatMessage"]').filter(
            has=p.locator('[data-testid="stChatMessageAvatarUser"]')
        )
        assert users.count() == 1  # only this session's message, not the other's
        assert mine in users.first.inner_text()
        assert other not in users.first.inner_text()
    for answer in answers:
        assert answer.locator('[data-testid="stMarkdownContainer"]').first.inner_text().strip()
        assert "first token" in answer.locator('[data-testid="stCaptionContainer"]').last.inner_text()
    shot(a, "two-sessions-a")
    shot(b, "two-sessions-b")
    for p in pages:
        p.context.close()


KELVARA = (
    "# The Kelvara bridge\n\nThe Kelvara bridge was finished in 1911. It crosses the Sendal river "
    "and was built by the engineer Mara Holt with 2,400 tonnes of granite.\n"
)


def test_upload_a_document_then_ask_and_see_a_citation(page: Any, tmp_path: Path) -> None:
    doc = tmp_path / "kelvara-bridge.md"
    doc.write_text(KELVARA, encoding="utf-8")
    go(page, "Documents")
    uploader = page.locator('[data-testid="stFileUploader"]', has_text="Upload files")
    uploader.locator('input[type="file"]').set_input_files(str(doc))
    uploader.get_by_text("kelvara-bridge.md").wait_for()  # the upload is done
    page.get_by_role("button", name="Ingest", exact=True).click()
    listed = page.locator('[data-testid="stTable"]', has_text="kelvara-bridge.md")
    listed.wait_for()
    page.get_by_text("Ingested: 1 added").wait_for()  # the report
    shot(page, "documents", focus=listed)

    go(page, "Ask your documents")
    page.get_by_placeholder("Ask a question about your documents").wait_for()
    send(page, "When was the Kelvara bridge finished?")
    source = page.locator('[data-testid="stExpander"]', has_text="[1] kelvara-bridge.md")
    source.wait_for()  # the sources are drawn once the answer is complete
    source.locator("summary").click()  # open the citation: the chunk the answer came from
    source.get_by_text("finished in 1911").wait_for()
    assert assistant_messages(page).last.inner_text().strip()
    shot(page, "ask", focus=source)


def test_agent_shows_its_tool_step(page: Any) -> None:
    go(page, "Agent")
    page.get_by_placeholder("Ask the agent").wait_for()
    send(page, "Convert 2,340 kg to pounds.")
    step = page.locator('[data-testid="stExpander"]', has_text="Tool: convert_units")
    step.wait_for()
    assistant_messages(page).last.get_by_text("Done in").wait_for()  # the turn is over
    answer = assistant_messages(page).last.inner_text()
    step.locator("summary").click()  # open the step: its arguments and result
    step.get_by_text("Result").or_(step.get_by_text("Error", exact=True)).first.wait_for()
    body = step.inner_text()
    # The call and what came back (the 135M model's arguments are often wrong: then the tool's
    # own message says so, shown as an error step).
    assert '"from_unit"' in body and ("Result" in body or "Error" in body), body
    assert answer.strip()
    shot(page, "agent", focus=step)


def test_an_image_in_the_answer_is_not_fetched_and_server_paths_are_hidden(
    browser: Any, tmp_path: Path, httpserver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake Ollama (loopback) answers with image Markdown pointing back at itself; it counts fetches."""
    from unit import test_ollama_wire
    from unit.test_ollama_wire import FakeOllama
    from werkzeug import Response

    fake = FakeOllama(httpserver)
    exfil = f"{fake.url}/exfil?q=SECRET"
    monkeypatch.setattr(
        test_ollama_wire,
        "ANSWER_PARTS",
        ["Here is the chart: ", f"![chart]({exfil}) and ", f'<img src="{exfil}"> ', f"[more]({exfil})."],
    )
    httpserver.expect_request("/exfil").respond_with_handler(lambda request: Response(b"", status=204))
    env = {"LLAMA_TOOLKIT_BACKEND": "ollama", "LLAMA_TOOLKIT_MODEL": "llama3.2", "OLLAMA_HOST": fake.url}
    with streamlit_server(tmp_path / "data", ARTIFACTS / "streamlit-exfil.log", env) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        send(page, "Show me the chart.")
        answer = wait_for_answer(page, 1)
        text = answer.locator('[data-testid="stMarkdownContainer"]').first
        page.wait_for_timeout(1000)  # time for any fetch the page would make
        shown = text.inner_text()
        fetched = [entry for entry in httpserver.log if entry[0].path == "/exfil"]
        images = text.locator("img").count()
        links = text.locator("a").count()
        shot(page, "no-image-fetch", focus=answer)
        go(page, "Documents")
        page.get_by_text("Upload files").first.wait_for()
        path_boxes = page.get_by_label("Or a folder on this machine").count()
        context.close()
    summary = {
        "exfil_requests": len(fetched),
        "img_elements": images,
        "a_elements": links,
        "path_boxes": path_boxes,
    }
    (ARTIFACTS / "no_image_fetch.json").write_text(json.dumps(summary))
    print(f"\nimage link in the answer: {summary}")
    assert fetched == [] and images == 0 and links == 0, summary
    assert "image: chart" in shown and "/exfil?q=SECRET" in shown, shown  # shown as text instead
    assert path_boxes == 0, summary
