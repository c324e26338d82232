"""The Ollama backend against a real Ollama server (skipped when none answers).

Run them with a server up::

    ollama serve &            # or point OLLAMA_HOST at a running one
    ollama pull llama3.2      # or set LIVE_OLLAMA_MODEL to a model you have
    pytest tests/integration/test_ollama_live.py -ra

The host is read here, at import: the autouse fixture in tests/conftest.py removes
OLLAMA_HOST from the environment of every test, so the tests put it back themselves.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.tools import tool
from langchain_tests.integration_tests import ChatModelIntegrationTests

from toolkit import cli
from toolkit.backends.factory import get_chat_model
from toolkit.backends.ollama import ToolkitChatOllama
from toolkit.settings import normalize_ollama_host

LIVE_MODEL = os.environ.get("LIVE_OLLAMA_MODEL", "llama3.2")
LIVE_OVERRIDE_MODEL = os.environ.get("LIVE_OLLAMA_OVERRIDE_MODEL") or None
LIVE_NUM_CTX = 4096


def _host() -> str:
    try:
        return normalize_ollama_host(os.environ.get("OLLAMA_HOST", ""))
    except ValueError:
        return os.environ.get("OLLAMA_HOST", "")


def _probe(host: str) -> tuple[bool, list[str]]:
    """Whether an Ollama answers /api/tags at ``host``, and the live model's capabilities."""
    try:
        tags = httpx.get(f"{host}/api/tags", timeout=2.0)
        if tags.status_code != 200 or "models" not in tags.json():
            return False, []
    except (httpx.HTTPError, OSError, ValueError):
        return False, []
    try:
        show = httpx.post(f"{host}/api/show", json={"model": LIVE_MODEL}, timeout=10.0)
        caps = show.json().get("capabilities") if show.status_code == 200 else None
        return True, list(caps or [])
    except (httpx.HTTPError, OSError, ValueError):
        return True, []


HOST = _host()
REACHABLE, CAPABILITIES = _probe(HOST)

pytestmark = [
    pytest.mark.live_ollama,
    pytest.mark.skipif(
        not REACHABLE,
        reason=(
            f"no Ollama server answers at {HOST} "
            "(start `ollama serve` and `ollama pull llama3.2` to run these)"
        ),
    ),
]


@pytest.fixture(autouse=True)
def _live_host(_clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put back the OLLAMA_HOST that tests/conftest.py's ``_clean_env`` removed."""
    monkeypatch.setenv("OLLAMA_HOST", HOST)


class TestToolkitChatOllamaLive(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ToolkitChatOllama]:
        return ToolkitChatOllama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {
            "model": LIVE_MODEL,
            "base_url": HOST,
            "num_ctx": LIVE_NUM_CTX,  # always explicit: Ollama's default truncates silently
            "temperature": 0,
            "seed": 7,
            "capabilities": CAPABILITIES or None,
        }

    # Declared from the server's own /api/show capabilities for the model under test.
    @property
    def has_tool_calling(self) -> bool:
        return "tools" in CAPABILITIES

    @property
    def has_tool_choice(self) -> bool:
        # Ollama has no tool_choice: ours asks for the call in the system message, which a
        # model may ignore, so the suite's forced-call tests would test the model, not us.
        return False

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_schema"}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return "vision" in CAPABILITIES

    @property
    def supports_image_urls(self) -> bool:
        return False  # images must be inline base64; Ollama does not fetch URLs

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str | None:
        return LIVE_OVERRIDE_MODEL  # None skips the override tests: set LIVE_OLLAMA_OVERRIDE_MODEL


def test_get_chat_model_streams_an_answer() -> None:
    llm = get_chat_model(backend="ollama", model=LIVE_MODEL, n_ctx=2048, temperature=0, max_tokens=32)
    assert isinstance(llm, ToolkitChatOllama)
    assert llm.base_url == HOST
    assert llm.num_ctx == 2048
    chunks = list(llm.stream("Reply with one short word: are you there?"))
    text = "".join(str(c.content) for c in chunks)
    assert text.strip(), "the model streamed an empty answer"
    (counted,) = [c for c in chunks if c.usage_metadata]
    assert counted.usage_metadata is not None
    assert counted.usage_metadata["input_tokens"] > 0
    assert 0 < counted.usage_metadata["output_tokens"] <= 32


def test_doctor_reports_ready(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor", "--backend", "ollama", "--model", LIVE_MODEL])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "reachable" in out


@tool
def get_weather(city: str) -> str:
    """Current weather in a city."""
    return f"18°C and sunny in {city}"


WEATHER_QUESTION = "What is the weather in Paris right now? Use the get_weather tool."


def _tool_model() -> Any:
    llm = get_chat_model(backend="ollama", model=LIVE_MODEL, n_ctx=LIVE_NUM_CTX, temperature=0, seed=7)
    return llm.bind_tools([get_weather])


def test_tool_call_round_trip() -> None:
    # Native tools when the model has the capability, the system-prompt fallback otherwise.
    llm = _tool_model()
    question = HumanMessage(WEATHER_QUESTION)
    first = llm.invoke([question])
    assert first.tool_calls, f"no tool call (tools capability: {'tools' in CAPABILITIES}): {first.content!r}"
    call = first.tool_calls[0]
    assert call["name"] == "get_weather"
    assert call["id"]
    assert "paris" in str(call["args"].get("city", "")).lower()
    second = llm.invoke([question, first, get_weather.invoke(call)])
    assert "18" in str(second.content), second


def test_streamed_tool_call() -> None:
    chunks = list(_tool_model().stream(WEATHER_QUESTION))
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    assert isinstance(full, AIMessageChunk)
    assert [c["name"] for c in full.tool_calls] == ["get_weather"], full
    assert full.tool_calls[0]["id"]
    assert not str(full.content).lstrip().startswith(("{", "<|python_tag|>")), "a call leaked out as text"
