"""``llama-toolkit agent`` with a scripted tool-calling model: printed steps, options,
interactive mode and errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from fakes import ScriptedToolModel, calling
from langchain_core.messages import SystemMessage
from langchain_core.tools import BaseTool, tool

from toolkit import cli
from toolkit.errors import ContextOverflowError


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression."""
    return {"0.17 * 2340": "397.8"}.get(expression, "Error: unknown expression")


@tool
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    """Convert a quantity between units."""
    return f"{value} {from_unit} = {value * 2.20462:.1f} {to_unit}"


@tool
def read_notes(name: str) -> str:
    """Read a long note."""
    return "word " * 200


class Setup:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.overrides: dict[str, Any] = {}
        self.default_tools_kwargs: dict[str, Any] = {}
        self.model = ScriptedToolModel(script=[])

    def script(self, *items: Any, repeat_last: bool = False) -> ScriptedToolModel:
        self.model = ScriptedToolModel(script=list(items), repeat_last=repeat_last)

        def factory(**overrides: Any) -> ScriptedToolModel:
            self.overrides = overrides
            return self.model

        def default_tools(llm: Any = None, **kwargs: Any) -> list[BaseTool]:
            self.default_tools_kwargs = kwargs
            return [calculator, convert_units, read_notes]

        self.monkeypatch.setattr("toolkit.backends.factory.get_chat_model", factory)
        self.monkeypatch.setattr("tools.default_tools", default_tools, raising=False)
        return self.model


@pytest.fixture
def setup(monkeypatch: pytest.MonkeyPatch) -> Setup:
    return Setup(monkeypatch)


def test_prints_each_step_then_the_streamed_answer(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.script(
        calling(("calculator", {"expression": "0.17 * 2340"})),
        calling(("convert_units", {"value": 397.8, "from_unit": "kg", "to_unit": "lb"})),
        "17% of 2,340 kg is 397.8 kg, about 877 pounds.",
    )
    code = cli.main(["agent", "What is 17% of 2,340 kg in pounds?", "--temperature", "0"])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == (
        '-> calculator(expression="0.17 * 2340")\n'
        "   <- 397.8\n"
        '-> convert_units(value=397.8, from_unit="kg", to_unit="lb")\n'
        "   <- 397.8 kg = 877.0 lb\n"
        "17% of 2,340 kg is 397.8 kg, about 877 pounds.\n"
    )
    assert err == ""
    assert setup.overrides == {"temperature": 0.0}
    assert setup.default_tools_kwargs == {"workspace": None}


def test_long_tool_results_are_shortened_and_say_by_how_much(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.script(calling(("read_notes", {"name": "n"})), "It repeats one word.")
    assert cli.main(["agent", "read my note"]) == 0
    result_line = capsys.readouterr().out.splitlines()[1]
    assert result_line.startswith("   <- word word")
    assert result_line.endswith("... [699 more characters]")
    # the model itself got the whole result
    assert setup.model.prompts[1][-1].text == "word " * 200


def test_step_limit_prints_the_message_and_exits_1(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.script(calling(("calculator", {"expression": "1+1"})), repeat_last=True)
    assert cli.main(["agent", "loop", "--max-steps", "2"]) == 1
    out, err = capsys.readouterr()
    assert out.count("-> calculator") == 2
    assert out.rstrip().endswith("Try a simpler question, or allow more steps.")
    assert err == "error: the step limit was reached - raise --max-steps or ask something simpler\n"
    assert setup.model.calls == 2


def test_interactive_mode_reads_lines_in_one_conversation(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = setup.script("Hello Ada.", "Your name is Ada.")
    monkeypatch.setattr("sys.stdin", io.StringIO("My name is Ada.\n\nWhat is my name?\nexit\nnot asked\n"))
    assert cli.main(["agent"]) == 0

    out, err = capsys.readouterr()
    assert out == "Hello Ada.\nYour name is Ada.\n"
    assert "exit or Ctrl-D quits" in err
    assert model.calls == 2
    second = [m.text for m in model.prompts[1] if not isinstance(m, SystemMessage)]
    assert second == ["My name is Ada.", "Hello Ada.", "What is my name?"]


def test_interactive_mode_ends_at_end_of_input(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = setup.script(calling(("calculator", {"expression": "0.17 * 2340"})), "397.8")
    monkeypatch.setattr("sys.stdin", io.StringIO("17% of 2340?"))
    assert cli.main(["agent"]) == 0
    assert capsys.readouterr().out.endswith("   <- 397.8\n397.8\n")
    assert model.calls == 2


def test_dash_reads_one_question_from_stdin(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = setup.script("Yes.")
    monkeypatch.setattr("sys.stdin", io.StringIO("Is this\na question?\n"))
    assert cli.main(["agent", "-"]) == 0
    assert model.prompts[0][-1].text == "Is this\na question?"
    assert capsys.readouterr().out == "Yes.\n"


def test_workspace_goes_to_the_default_tools(
    setup: Setup, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.script("ok")
    assert cli.main(["agent", "list my files", "--workspace", str(tmp_path)]) == 0
    assert setup.default_tools_kwargs == {"workspace": tmp_path}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workspace", "no-such-dir"], "error: the workspace no-such-dir is not a folder"),
        (["--research", "--workspace", "."], "error: --workspace does not apply to --research"),
    ],
)
def test_bad_option_combinations_are_usage_errors(
    setup: Setup, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.script()
    assert cli.main(["agent", "hi", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1


def test_max_steps_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["agent", "hi", "--max-steps", "0"])
    assert exit_info.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_missing_model_is_one_line_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["agent", "--model", str(tmp_path / "missing.gguf"), "hi"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: GGUF model file not found:") and err.count("\n") == 1


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["agent", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--max-steps", "--research", "--collection", "--workspace", "--model", "--max-tokens"):
        assert option in out


class FakeIndex:
    def __init__(self, name: str, count: int) -> None:
        self.name = name
        self._count = count

    def count(self) -> int:
        return self._count


def _fake_index(
    monkeypatch: pytest.MonkeyPatch, count: int, names: tuple[str, ...] = ("handbook",)
) -> dict[str, Any]:
    opened: dict[str, Any] = {}

    def open_index(name: str | None = None) -> FakeIndex:
        opened["name"] = name
        return FakeIndex(name or "documents", count)

    monkeypatch.setattr("retrievers.store.open_index", open_index)
    monkeypatch.setattr("retrievers.store.list_indexes", lambda: sorted(names))
    return opened


def test_research_without_the_collection_says_to_ingest_and_creates_nothing(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.script()
    opened = _fake_index(monkeypatch, 0, names=("other",))
    assert cli.main(["agent", "--research", "leave?"]) == 1
    assert opened == {}
    assert capsys.readouterr().err == (
        "error: there is no collection `documents` - run `llama-toolkit ingest PATH...` first\n"
    )


def test_research_on_an_empty_collection_says_to_ingest(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.script()
    opened = _fake_index(monkeypatch, 0)
    assert cli.main(["agent", "--research", "--collection", "handbook", "leave?"]) == 1
    assert opened == {"name": "handbook"}
    assert capsys.readouterr().err == (
        "error: the collection `handbook` is empty - run `llama-toolkit ingest PATH...` first\n"
    )


def test_research_searches_the_collection_and_prints_the_passages(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever

    class Shelf(BaseRetriever):
        k: int = 4

        def _get_relevant_documents(self, query: str, *, run_manager: Any = None) -> list[Document]:
            return [Document("Staff get 25 days of leave.", metadata={"source": "handbook.md"})]

    built: dict[str, Any] = {}

    def hybrid(index: Any, k: int) -> Shelf:
        built.update(index=index.name, k=k)
        return Shelf(k=k)

    _fake_index(monkeypatch, 3)
    monkeypatch.setattr("retrievers.search.HybridRetriever", hybrid)
    model = setup.script(calling(("search_documents", {"query": "leave"})), "25 days [1].")
    assert cli.main(["agent", "--research", "--collection", "handbook", "-k", "2", "How much leave?"]) == 0

    out = capsys.readouterr().out
    assert built == {"index": "handbook", "k": 2}
    assert out.startswith('-> search_documents(query="leave")\n   <- ')
    assert "25 days of leave" in out
    assert out.endswith("25 days [1].\n")
    assert [names for names, _ in model.bindings] == [["search_documents"]] * 2


def _overflow(messages: Any) -> Any:
    raise ContextOverflowError(
        "the prompt takes 9000 tokens of an 8192-token window", prompt_tokens=9000, n_ctx=8192
    )


def test_a_model_error_is_one_line_and_exit_1(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    setup.script(_overflow)
    assert cli.main(["agent", "hi"]) == 1
    assert capsys.readouterr().err == "error: the prompt takes 9000 tokens of an 8192-token window\n"


def test_interactive_mode_starts_a_new_conversation_after_an_overflow(
    setup: Setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    model = setup.script("First.", _overflow, "Fresh start.")
    monkeypatch.setattr("sys.stdin", io.StringIO("one\ntwo\nthree\n"))
    assert cli.main(["agent"]) == 0
    out, err = capsys.readouterr()
    assert out == "First.\nFresh start.\n"
    assert "8192-token window. Starting a new conversation." in err
    assert [m.text for m in model.prompts[2] if not isinstance(m, SystemMessage)] == ["three"]
