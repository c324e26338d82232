"""LangChain's standard unit suite for our Ollama chat model (no server is contacted)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from toolkit.backends.ollama import ToolkitChatOllama


class TestToolkitChatOllamaUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ToolkitChatOllama]:
        return ToolkitChatOllama

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Constructing ChatOllama builds its httpx clients but sends nothing.
        return {"model": "llama3.2", "num_ctx": 8192}

    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # A local server takes no API key.
        params = dict(super().standard_chat_model_params)
        params.pop("api_key")
        return params

    # Declared honestly. Tool calling and structured output come from ChatOllama.
    @property
    def has_tool_calling(self) -> bool:
        return True  # ChatOllama.bind_tools (the model itself needs the "tools" capability)

    @property
    def has_tool_choice(self) -> bool:
        return False  # bind_tools accepts tool_choice but ignores it: Ollama has no such option

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_schema"}  # ChatOllama's default: Ollama's `format` schema

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True  # inline base64, for models whose /api/show capabilities include "vision"

    @property
    def supports_image_urls(self) -> bool:
        return False  # Ollama does not fetch http(s) image URLs

    @property
    def returns_usage_metadata(self) -> bool:
        return True


def test_suite_model_is_the_toolkit_class_with_explicit_num_ctx() -> None:
    suite = TestToolkitChatOllamaUnit()
    model = suite.chat_model_class(**{**suite.standard_chat_model_params, **suite.chat_model_params})
    assert isinstance(model, ToolkitChatOllama)
    assert model.num_ctx == 8192
    assert model._get_ls_params()["ls_provider"] == "ollama"
