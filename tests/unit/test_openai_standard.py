"""LangChain's standard unit suite for our OpenAI-compatible chat model (no server is contacted)."""

from __future__ import annotations

from typing import Any

from langchain_tests.unit_tests import ChatModelUnitTests

from toolkit.backends.openai import ToolkitChatOpenAI


class TestToolkitChatOpenAIUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ToolkitChatOpenAI]:
        return ToolkitChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # Constructing the model builds its openai clients but sends nothing.
        return {"model": "llama-3.2-3b-instruct", "base_url": "http://127.0.0.1:8000/v1"}

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True  # sent to the server as OpenAI's tool_choice

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}  # llama-cpp-python's server refuses json_schema

    @property
    def supports_image_inputs(self) -> bool:
        return False  # the servers it targets run text-only Llama 3.2 models

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"OPENAI_API_KEY": "sk-env", "OPENAI_API_BASE": "http://127.0.0.1:9000/v1"},
            {"model": "llama-3.2-3b-instruct"},
            {"openai_api_key": "sk-env", "openai_api_base": "http://127.0.0.1:9000/v1"},
        )
