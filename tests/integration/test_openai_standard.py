"""LangChain's standard integration suite on the ``openai`` backend, against llama-cpp-python's
own OpenAI-compatible server running the embedded SmolLM2 (started once for the module)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from openai_servers import llama_cpp_server

from toolkit.backends.openai import ToolkitChatOpenAI, list_openai_models

pytestmark = pytest.mark.integration

# What this server and the embedded 135M model do not pass, measured. Strict where the cause
# is the server (a fix there turns the test into an XPASS failure, to be removed here).
SERVER_LIMITS = {
    "test_usage_metadata_streaming": "llama-cpp-python's server sends no usage in a stream "
    "(stream_options.include_usage is ignored)",
    "test_tool_choice": "llama-cpp-python's server answers HTTP 500 to tool_choice='required' with "
    "several tools (the backend sends a single tool by name, so one tool works)",
}
MODEL_LIMITS = {
    "test_tool_calling": "the 135M model fills the adder's argument wrongly (10 for 3); the call "
    "itself is native and well formed",
    "test_tool_calling_async": "as test_tool_calling",
    "test_unicode_tool_call_integration": "the 135M model does not copy the Japanese text into the call",
}


@pytest.fixture(autouse=True)
def _known_limits(request: pytest.FixtureRequest) -> None:
    name = getattr(request.node, "originalname", request.node.name)
    if name in SERVER_LIMITS:
        request.node.add_marker(pytest.mark.xfail(reason=SERVER_LIMITS[name], strict=True))
    elif name in MODEL_LIMITS:
        request.node.add_marker(pytest.mark.xfail(reason=MODEL_LIMITS[name], strict=False))


class TestToolkitChatOpenAIIntegration(ChatModelIntegrationTests):
    base_url = ""
    served_model = ""

    @pytest.fixture(scope="class", autouse=True)
    def _server(self) -> Iterator[None]:
        with llama_cpp_server() as url:
            type(self).base_url, type(self).served_model = url, list_openai_models(url, None, timeout=10.0)[0]
            yield

    @property
    def chat_model_class(self) -> type[ToolkitChatOpenAI]:
        return ToolkitChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # A 135M model loops under greedy decoding; llama.cpp's server takes a repeat penalty.
        return {
            "model": self.served_model,
            "base_url": self.base_url,
            "temperature": 0.0,
            "seed": 7,
            "stream_usage": True,
            "extra_body": {"repeat_penalty": 1.1},
        }

    @property
    def has_tool_calling(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "function_calling"}  # the server refuses response_format json_schema

    @property
    def supports_image_inputs(self) -> bool:
        return False

    @property
    def returns_usage_metadata(self) -> bool:
        return True
