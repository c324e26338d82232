"""LangChain's standard integration suite on the ``openai`` backend, against two real servers
running the embedded SmolLM2: llama-cpp-python's own OpenAI-compatible server and
``llama-toolkit serve`` (each started once for its class)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests
from openai_servers import llama_cpp_server, toolkit_server

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
    server_limits = getattr(request.cls, "server_limits", {})
    if name in server_limits:
        request.node.add_marker(pytest.mark.xfail(reason=server_limits[name], strict=True))
    elif name in getattr(request.cls, "model_limits", {}):
        request.node.add_marker(pytest.mark.xfail(reason=MODEL_LIMITS[name], strict=False))


class TestToolkitChatOpenAIIntegration(ChatModelIntegrationTests):
    """On llama-cpp-python's server (``python -m llama_cpp.server``)."""

    base_url = ""
    served_model = ""
    server_limits: ClassVar[dict[str, str]] = SERVER_LIMITS
    model_limits: ClassVar[dict[str, str]] = MODEL_LIMITS

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


class TestToolkitChatOpenAIOnServe(TestToolkitChatOpenAIIntegration):
    """On ``llama-toolkit serve``: streamed usage, ``tool_choice="required"`` and
    ``response_format`` json_schema all work there, so none of the server limits apply; and its
    grammar-backed tool calls fill the arguments the 135M model gets wrong elsewhere, so none
    of the model limits either (measured: all four pass)."""

    server_limits: ClassVar[dict[str, str]] = {}
    model_limits: ClassVar[dict[str, str]] = {}

    @pytest.fixture(scope="class", autouse=True)
    def _server(self) -> Iterator[None]:
        with toolkit_server() as url:
            type(self).base_url, type(self).served_model = url, list_openai_models(url, None, timeout=10.0)[0]
            yield

    @property
    def chat_model_params(self) -> dict[str, Any]:
        params = super().chat_model_params
        params.pop("extra_body")  # serve's model already has the toolkit's repeat penalty
        return params

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_schema"}
