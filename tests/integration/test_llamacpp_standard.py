"""LangChain's standard integration suite, run on the real embedded model through llama.cpp."""

from __future__ import annotations

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_tests.integration_tests import ChatModelIntegrationTests

from toolkit import ChatLlama
from toolkit.embedded import embedded_model_path

pytestmark = pytest.mark.integration


class TestChatLlamaIntegration(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[ChatLlama]:
        return ChatLlama

    @property
    def chat_model_params(self) -> dict:
        # A 135M model loops under greedy decoding; a mild repeat penalty keeps JSON answers short.
        return {
            "model_path": str(embedded_model_path()),
            "temperature": 0.0,
            "seed": 7,
            "repeat_penalty": 1.1,
        }

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
    def supports_json_mode(self) -> bool:
        # json_mode itself works (tests/integration/test_llamacpp_chat.py checks it returns a JSON
        # object); the suite's test also needs the model to pick the keys from the prose alone,
        # which the embedded 135M model does not do reliably.
        return False

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict:
        return {"invoke": ["cache_read_input"], "stream": ["cache_read_input"]}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        """Second turn of a conversation: its prefix is read from the KV cache."""
        llm = ChatLlama(**self.chat_model_params)
        history = [HumanMessage("Name a fruit that is red."), AIMessage("An apple.")]
        llm.invoke(history[:1])
        msg = _run(llm, [*history, HumanMessage("And one that is yellow?")], stream)
        assert msg.usage_metadata is not None
        assert msg.usage_metadata["input_token_details"]["cache_read"] > 0
        return msg


def _run(llm: ChatLlama, messages: list[BaseMessage], stream: bool) -> AIMessage:
    if not stream:
        return llm.invoke(messages)  # type: ignore[return-value]
    full: AIMessageChunk | None = None
    for chunk in llm.stream(messages):
        full = chunk if full is None else full + chunk  # type: ignore[assignment]
    assert full is not None
    return AIMessage(content=full.content, usage_metadata=full.usage_metadata)
