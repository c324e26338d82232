"""LangChain chat model over an in-process ``llama_cpp.Llama``.

Unlike langchain-community's ``ChatLlamaCpp`` it keeps the model's own context length,
RoPE and chat template (all read from the GGUF), evaluates prompts in batches of 512,
shares one loaded model per process behind a gate that cannot deadlock, reuses the KV cache across turns,
refuses prompts that do not fit instead of truncating them, and reports token usage
and speed on every response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from toolkit.backends._structured import structured_output_runnable
from toolkit.backends.context import resolve_n_ctx
from toolkit.backends.grounding import mark_grounded
from toolkit.backends.llamacpp.decoding import DecodeRequest, Generation, decode
from toolkit.backends.llamacpp.messages import chat_template, render_prompt
from toolkit.backends.llamacpp.options import SAMPLING_OPTIONS, SETTINGS_FIELDS, call_params, setting_default
from toolkit.backends.llamacpp.planning import plan_tools
from toolkit.backends.llamacpp.runtime import LoadedModel, LoadKey, get_loaded_model
from toolkit.backends.llamacpp.threads import OneThreadStreams
from toolkit.backends.tool_calling import (
    call_chunks,
    call_examples,
    normalize_tool_choice,
    parse_tool_calls,
    tool_schemas,
)
from toolkit.backends.tool_router import tool_examples
from toolkit.errors import ConfigurationError
from toolkit.gguf import read_gguf_info, validate_gguf_path
from toolkit.hardware import gpu_offload_supported, physical_cores
from toolkit.settings import Settings

__all__ = ["ChatLlama"]


class ChatLlama(OneThreadStreams, BaseChatModel):
    """Chat with a GGUF model through llama.cpp, in process.

    Example:
        .. code-block:: python

            from toolkit import ChatLlama

            llm = ChatLlama(model_path="Llama-3.2-3B-Instruct-Q4_K_M.gguf")
            for chunk in llm.stream("Tell me a joke"):
                print(chunk.content, end="", flush=True)

    Load settings (``model_path``, ``n_ctx``, ``n_gpu_layers``, ``n_threads``, ``n_batch``)
    pick the shared loaded model; sampling settings apply per call and can be bound with
    ``.bind(temperature=0, max_tokens=64, seed=1)``. Defaults shared with
    :class:`~toolkit.settings.Settings` are the settings' defaults; :meth:`from_settings`
    builds one from a ``Settings``.

    Repeatability (``seed``): with a seed (the field or a call option), or at temperature 0,
    the same messages, tools and options on the same file and load settings give the same
    text, whatever the shared model ran before and whether or not the KV cache was reused,
    on one machine and llama.cpp build running on the CPU (a ``timeout`` that cuts an answer
    short aside). It holds because the sampler is seeded afresh for every call, and because
    such a call reuses the KV cache only where an earlier prompt evaluation computed it in a
    batch of two or more tokens: llama.cpp computes a token alone with slightly different
    numbers than inside a batch, so an earlier answer (decoded one token at a time) is
    evaluated again with the prompt, and a fully cached prompt has its last two tokens
    evaluated again. Not guaranteed: the same text on another machine or CPU instruction
    set, another llama.cpp build, other load settings (``n_threads``, ``n_batch``,
    ``n_gpu_layers``) or a GPU. Without a seed, each call draws a random one and reuses all
    of the cached prefix.

    Sharing: one generation at a time uses the loaded model. Another thread waits up to
    ``model_wait_timeout`` s (then ``ModelBusyError``); the thread with an open stream asking
    again gets ``ModelReentryError``; a stream paused over ``model_idle_timeout`` s while
    another caller waits loses the model (``GenerationLimitError`` with ``.partial``).
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model_path: str = Field(description="Path of the GGUF file.")
    n_ctx: int | None = Field(
        default=setting_default("n_ctx"),
        ge=256,
        description="Context window. None: the model's, capped by the KV budget.",
    )
    kv_cache_budget_mb: int = Field(
        default=setting_default("kv_cache_budget_mb"),
        ge=64,
        description="KV-cache budget for the automatic n_ctx.",
    )
    n_gpu_layers: int | None = Field(
        default=setting_default("n_gpu_layers"),
        ge=-1,
        description="Layers on the GPU (-1 all). None: all if llama.cpp has a GPU backend.",
    )
    n_threads: int | None = Field(
        default=setting_default("n_threads"), ge=1, description="CPU threads. None: physical cores."
    )
    n_batch: int = Field(
        default=setting_default("n_batch"), ge=32, description="Prompt tokens evaluated per batch."
    )
    temperature: float = Field(default=setting_default("temperature"), ge=0.0, le=2.0)
    top_p: float = Field(default=setting_default("top_p"), gt=0.0, le=1.0)
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(default=setting_default("repeat_penalty"), gt=0.0)
    max_tokens: int | None = Field(
        default=setting_default("max_tokens"),
        ge=1,
        description="Most tokens per answer. None: up to the window.",
    )
    seed: int | None = Field(
        default=setting_default("seed"),
        ge=0,
        description="Sampling seed: the same request gives the same answer (see Repeatability). None: random.",
    )
    stop: list[str] | None = Field(default=None, description="Stop sequences applied to every call.")
    chat_template: str | None = Field(
        default=setting_default("chat_template"),
        description="Jinja chat template (text or file) instead of the GGUF's.",
    )
    verbose_load: bool = Field(default=False, description="Show llama.cpp's load log.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Seconds one generation may take; it then stops with finish_reason 'timeout'.",
    )
    model_wait_timeout: float = Field(
        default=setting_default("model_wait_timeout"),
        ge=0,
        description="Seconds to wait for the shared model while another caller uses it; then ModelBusyError.",
    )
    model_idle_timeout: float = Field(
        default=setting_default("model_idle_timeout"),
        gt=0,
        description="Seconds a paused stream keeps the shared model while others wait; then it ends.",
    )
    max_retries: int = Field(
        default=0, ge=0, description="LangChain standard parameter; in-process generation is never retried."
    )
    streaming: bool = Field(default=False, description="Stream tokens to callbacks during invoke().")
    vocab_only: bool = Field(
        default=False,
        description="Load only the tokenizer and template: count tokens and render prompts, no generation.",
    )

    tool_router: Literal["auto", "model", "similarity"] = Field(
        default="auto",
        description=(
            "Who picks the tool when tool_choice is auto: 'model' (the model, under a grammar), "
            "'similarity' (embedding similarity to each tool's example requests, then the model "
            "fills the arguments; for small models), 'auto' (similarity when the chat template "
            "has no tool support, as with the embedded SmolLM2, else the model)."
        ),
    )

    ground_arguments: bool = Field(
        default=True,
        description=(
            "Decode tool-call values from the request: number parameters, and string parameters a "
            "tool marks x-grounded (units, time zones, files, the calculator's expression), can "
            "only take values the request or recent turns contain (toolkit.backends.grounding)."
        ),
    )

    tool_call_temperature: float | None = Field(
        default=0.0, ge=0.0, le=2.0, description="A call's arguments' temperature (None: temperature)."
    )

    _loaded: LoadedModel | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ChatLlama:
        """The chat model ``settings`` describe: its model file and every shared setting.

        Args:
            settings: The configuration (``model``: the GGUF path; empty: the embedded model).
            **overrides: Field values that win over the settings (``top_k=20``, ``stop=[...]``).
        """
        values: dict[str, Any] = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
        values["model_path"] = settings.resolved_model("llamacpp")
        return cls(**{**values, **overrides})

    # -- loading -----------------------------------------------------------------------

    def load_key(self) -> LoadKey:
        """The (file, load settings) this instance shares a loaded model under."""
        path = validate_gguf_path(self.model_path).resolve()
        info = read_gguf_info(path)
        n_gpu = self.n_gpu_layers
        if n_gpu is None:
            n_gpu = -1 if gpu_offload_supported() else 0
        return LoadKey(
            path=str(path),
            n_ctx=resolve_n_ctx(info, self.n_ctx, self.kv_cache_budget_mb),
            n_gpu_layers=n_gpu,
            n_threads=self.n_threads or physical_cores(),
            n_batch=self.n_batch,
            vocab_only=self.vocab_only,
        )

    @property
    def loaded(self) -> LoadedModel:
        """The shared loaded model (loads it on first use)."""
        if self._loaded is None or self._loaded.closed:
            self._loaded = get_loaded_model(self.load_key(), verbose=self.verbose_load)
        return self._loaded

    @property
    def context_window(self) -> int:
        """The context window in tokens."""
        return self.loaded.n_ctx

    @property
    def _llm_type(self) -> str:
        return "llama-toolkit-llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx, "temperature": self.temperature}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> Any:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "llamacpp"
        params["ls_model_name"] = kwargs.get("model") or Path(self.model_path).name
        params["ls_temperature"] = kwargs.get("temperature", self.temperature)
        if (max_tokens := kwargs.get("max_tokens", self.max_tokens)) is not None:
            params["ls_max_tokens"] = max_tokens
        return params

    # -- prompt --------------------------------------------------------------------------

    def _template(self, loaded: LoadedModel) -> str:
        return chat_template(loaded, self.chat_template, model_name=Path(self.model_path).name)

    def render_prompt(
        self,
        messages: Sequence[BaseMessage],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str = "auto",
        call_examples: dict[str, dict[str, Any]] | None = None,
    ) -> str:
        """Render messages to the model's prompt text with its chat template.

        ``tools`` (OpenAI-style schemas) go to the template when it renders tools itself
        (Llama 3.x's does: it asks for ``{"name": ..., "parameters": ...}`` calls); otherwise
        they are listed in the system message with the same call format. Earlier tool calls
        and results are rendered the way the template expects, or as text.
        """
        loaded = self.loaded
        return render_prompt(
            loaded,
            self._template(loaded),
            messages,
            tools=tools,
            tool_choice=tool_choice,
            call_examples=call_examples,
        )

    def tokenize_prompt(self, prompt: str) -> list[int]:
        """Tokens of a rendered prompt (special tokens parsed, as llama.cpp's chat path does)."""
        return self.loaded.llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Exact prompt length in tokens, with the model's own tokenizer and template."""
        schemas = [convert_to_openai_tool(t) for t in tools] if tools else None
        return len(self.tokenize_prompt(self.render_prompt(messages, tools=schemas)))

    def get_num_tokens(self, text: str) -> int:
        """Exact token count of plain text with the model's tokenizer."""
        return len(self.loaded.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    # -- generation ----------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text_parts: list[str] = []
        calls: list[Any] = []
        last: AIMessageChunk | None = None
        for chunk in self._stream(messages, stop=stop, **kwargs):
            text_parts.append(str(chunk.message.content))
            last = chunk.message  # type: ignore[assignment]
            calls.extend(chunk.message.tool_calls)  # type: ignore[attr-defined]
        meta = dict(last.response_metadata) if last is not None else {}
        usage = last.usage_metadata if last is not None else None
        message = AIMessage(
            content="".join(text_parts), tool_calls=calls, response_metadata=meta, usage_metadata=usage
        )
        return ChatResult(generations=[ChatGeneration(message=message, generation_info=meta)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        params = self._call_params(stop, kwargs)
        if self.vocab_only:
            raise ConfigurationError(
                "this ChatLlama was loaded with vocab_only=True: it can count tokens, not generate"
            )
        prompt, request, names = self._plan(messages, params)
        out = Generation()
        for text in decode(self.loaded, prompt, request, out):
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        if out.call_text is not None:
            content, calls = parse_tool_calls("".join(out.call_text), names)
            if calls and out.finish_reason == "stop":
                out.finish_reason = "tool_calls"
            # A call cut short by max_tokens is not valid JSON: it comes back as text.
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=content, tool_call_chunks=call_chunks(calls))  # type: ignore[arg-type]
            )
        yield self._last_chunk(out)

    def _plan(
        self, messages: list[BaseMessage], params: dict[str, Any]
    ) -> tuple[str, DecodeRequest, list[str]]:
        """The prompt, the decoding settings and the offered tool names of one turn.

        Raises:
            ConfigurationError: ``response_format`` and tools in the same call.
        """
        names = [t["function"]["name"] for t in params["tools"] or []]
        plan = plan_tools(
            messages,
            params,
            router=self.tool_router,
            template=lambda: self._template(self.loaded),
            ground=self.ground_arguments,
        )
        examples = params.pop("tool_call_examples")
        prompt = self.render_prompt(
            messages, tools=plan.tools, tool_choice=plan.choice, call_examples=examples
        )
        call_temperature = self.tool_call_temperature if plan.calling else None
        request = DecodeRequest(
            sampling={k: params[k] for k in ("temperature", "top_p", "top_k", "min_p", "repeat_penalty")},
            seed=params["seed"],
            # A forced call at temperature 0 is greedy from its first token: as repeatable.
            repeatable=params["repeatable"] or (plan.forced and call_temperature == 0),
            max_tokens=params["max_tokens"],
            stops=[s for s in dict.fromkeys(params["stop"]) if s],
            grammar=plan.grammar,
            calling=plan.calling,
            forced=plan.forced,
            switch_to_text=plan.choice == "auto" or plan.text_first,
            call_temperature=call_temperature,
            timeout=self.timeout,
            wait_timeout=self.model_wait_timeout,
            idle_timeout=self.model_idle_timeout,
        )
        return prompt, request, names

    def _last_chunk(self, out: Generation) -> ChatGenerationChunk:
        """The closing chunk: usage and response metadata of the generation."""
        meta = out.response_metadata(Path(self.model_path).name)
        return ChatGenerationChunk(
            message=AIMessageChunk(
                content="", usage_metadata=out.usage(), response_metadata=meta, chunk_position="last"
            ),
            generation_info=meta,
        )

    def _call_params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        fields = {name: getattr(self, name) for name in SAMPLING_OPTIONS}
        return call_params({**fields, "stop": self.stop}, stop, kwargs)

    # -- tool calling ----------------------------------------------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Offer tools to the model; calls come back as ``AIMessage.tool_calls``.

        A llama.cpp grammar makes every call valid JSON matching one tool's schema.

        Args:
            tools: LangChain tools, pydantic models, functions or OpenAI-style schemas.
            tool_choice: ``"auto"`` (default: the model answers in text or calls tools),
                ``"required"`` / ``"any"`` (it must call a tool), a tool name (it must call
                that tool), or ``"none"`` (text only, tools still described).
            parallel_tool_calls: Allow up to 4 calls in one answer (default: one call per
                answer, which small models handle better; an agent loops for more).
            kwargs: Other generation options bound with the tools.
        """
        schemas = mark_grounded(tool_schemas(tools), tools)
        names = [s["function"]["name"] for s in schemas]
        choice = normalize_tool_choice(tool_choice, names)  # fail at bind time, not at invoke
        return self.bind(
            tools=schemas,
            tool_choice=choice,
            parallel_tool_calls=parallel_tool_calls,
            tool_examples=tool_examples(tools),
            tool_call_examples=call_examples(tools),
            **kwargs,
        )

    # -- structured output ---------------------------------------------------------------

    def with_structured_output(  # type: ignore[override]
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: Literal["json_schema", "function_calling", "json_mode"] = "json_schema",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Answer as JSON matching ``schema``, enforced while decoding by a llama.cpp grammar.

        Args:
            schema: A pydantic model class, a TypedDict class, or a JSON schema dict.
            include_raw: Return ``{"raw", "parsed", "parsing_error"}`` instead of the parsed value.
            method: ``json_schema`` (grammar from the schema), ``function_calling`` (the same
                grammar: the answer is the call's arguments), or ``json_mode`` (any JSON object).
            strict: Accepted for API compatibility: the grammar always enforces the schema.
        """
        if kwargs:
            raise ConfigurationError(f"unsupported with_structured_output options: {sorted(kwargs)}")
        return structured_output_runnable(self, schema, include_raw=include_raw, method=method)
