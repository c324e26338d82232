"""LangChain's standard unit suite for our llama.cpp chat model (no model is loaded)."""

from __future__ import annotations

from langchain_tests.unit_tests import ChatModelUnitTests

from toolkit import ChatLlama
from toolkit.embedded import embedded_model_path


class TestChatLlamaUnit(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[ChatLlama]:
        return ChatLlama

    @property
    def chat_model_params(self) -> dict:
        return {"model_path": str(embedded_model_path()), "temperature": 0.0}

    @property
    def standard_chat_model_params(self) -> dict:
        # A local in-process model has no API key; every other standard parameter applies.
        params = dict(super().standard_chat_model_params)
        params.pop("api_key")
        return params

    # Text-only GGUFs: no image, audio or PDF input.
    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict:
        return {"method": "json_schema"}

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True
