"""LangChain chat model over an in-process ``llama_cpp.Llama``.

Unlike langchain-community's ``ChatLlamaCpp`` it keeps the model's own context length,
RoPE and chat template (all read from the GGUF), evaluates prompts in batches of 512,
shares one loaded model per process behind a lock, reuses the KV cache across turns,
refuses prompts that do not fit instead of truncating them, and reports token usage
and speed on every response.
"""

from __future__ import annotations

import codecs
import functools
import json
import random
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import llama_cpp
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    ChatMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from toolkit.backends._lazy_grammar import LazyGrammarSampler
from toolkit.backends._llama_runtime import LoadedModel, LoadKey, get_loaded_model, resolve_n_ctx
from toolkit.backends._structured import structured_output_runnable
from toolkit.backends.tool_calling import (
    TEXT_FIRST_GBNF,
    call_chunks,
    normalize_tool_choice,
    parse_tool_calls,
    schema_gbnf,
    template_supports_tools,
    tool_call_gbnf,
    tool_schemas,
    tools_as_text,
    tools_system_prompt,
    with_system_note,
)
from toolkit.backends.tool_router import default_router, tool_examples
from toolkit.errors import ConfigurationError, ContextOverflowError, UnsupportedInputError
from toolkit.gguf import read_gguf_info, validate_gguf_path
from toolkit.hardware import gpu_offload_supported, physical_cores

__all__ = ["ChatLlama"]

_ROLES: dict[type[BaseMessage], str] = {
    SystemMessage: "system",
    HumanMessage: "user",
    AIMessage: "assistant",
    ToolMessage: "tool",
}


class ChatLlama(BaseChatModel):
    """Chat with a GGUF model through llama.cpp, in process.

    Example:
        .. code-block:: python

            from toolkit import ChatLlama

            llm = ChatLlama(model_path="Llama-3.2-3B-Instruct-Q4_K_M.gguf")
            for chunk in llm.stream("Tell me a joke"):
                print(chunk.content, end="", flush=True)

    Load settings (``model_path``, ``n_ctx``, ``n_gpu_layers``, ``n_threads``, ``n_batch``)
    pick the shared loaded model; sampling settings apply per call and can be bound with
    ``.bind(temperature=0, max_tokens=64, seed=1)``.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    model_path: str = Field(description="Path of the GGUF file.")
    n_ctx: int | None = Field(
        default=None, ge=256, description="Context window. None: the model's, capped by the KV budget."
    )
    kv_cache_budget_mb: int = Field(
        default=2048, ge=64, description="KV-cache budget for the automatic n_ctx."
    )
    n_gpu_layers: int | None = Field(
        default=None,
        ge=-1,
        description="Layers on the GPU (-1 all). None: all if llama.cpp has a GPU backend.",
    )
    n_threads: int | None = Field(default=None, ge=1, description="CPU threads. None: physical cores.")
    n_batch: int = Field(default=512, ge=32, description="Prompt tokens evaluated per batch.")
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    top_p: float = Field(default=0.95, gt=0.0, le=1.0)
    top_k: int = Field(default=40, ge=0)
    min_p: float = Field(default=0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(default=1.0, gt=0.0)
    max_tokens: int | None = Field(
        default=512, ge=1, description="Most tokens per answer. None: up to the window."
    )
    seed: int | None = Field(default=None, ge=0, description="Sampling seed. None: random per call.")
    stop: list[str] | None = Field(default=None, description="Stop sequences applied to every call.")
    chat_template: str | None = Field(
        default=None, description="Jinja chat template (text or file path) instead of the GGUF's."
    )
    verbose_load: bool = Field(default=False, description="Show llama.cpp's load log.")
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Seconds one generation may take; it then stops with finish_reason 'timeout'.",
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

    _loaded: LoadedModel | None = PrivateAttr(default=None)

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
        template = self.chat_template or loaded.info.chat_template
        if not template:
            raise ConfigurationError(
                f"{Path(self.model_path).name} has no chat template in its GGUF - set "
                "LLAMA_TOOLKIT_CHAT_TEMPLATE to a Jinja template file (llama.cpp ships them "
                "under models/templates/)"
            )
        path = Path(template).expanduser()
        if "{" not in template and path.is_file():
            template = _read_template(str(path), path.stat().st_mtime_ns)
        return template

    def render_prompt(
        self,
        messages: Sequence[BaseMessage],
        *,
        tools: list[dict[str, Any]] | None = None,
        tool_choice: str = "auto",
    ) -> str:
        """Render messages to the model's prompt text with its chat template.

        ``tools`` (OpenAI-style schemas) go to the template when it renders tools itself
        (Llama 3.x's does: it asks for ``{"name": ..., "parameters": ...}`` calls); otherwise
        they are listed in the system message with the same call format. Earlier tool calls
        and results are rendered the way the template expects, or as text.
        """
        loaded = self.loaded
        template = self._template(loaded)
        formatter = loaded.formatter(template)
        extra: dict[str, Any] = {}
        if template_supports_tools(template):
            if tools:
                extra["tools"] = tools
        else:
            messages = tools_as_text(messages)
            if tools:
                messages = with_system_note(messages, tools_system_prompt(tools, tool_choice))
        template_messages: Any = [m for message in messages for m in _to_template_messages(message)]
        return formatter(messages=template_messages, **extra).prompt

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
        loaded = self.loaded
        tools: list[dict[str, Any]] | None = params.pop("tools")
        names = [t["function"]["name"] for t in tools or []]
        choice = normalize_tool_choice(params.pop("tool_choice"), names) if tools else "none"
        parallel = params.pop("parallel_tool_calls")
        examples = params.pop("tool_examples")
        grammar = params.pop("grammar")
        text_first = False
        if tools and choice == "auto" and self._router_enabled():
            choice = self._route(messages, tools, examples)
            if choice == "none":
                tools = None  # a small model answers better without a tool list it will not use
                # ...but it may copy an earlier call from the history: the answer must be text.
                text_first = grammar is None
        calling = choice != "none"
        if calling and grammar is not None:
            raise ConfigurationError("response_format and tools cannot be used in the same call")
        prompt = self.render_prompt(messages, tools=tools, tool_choice=choice)
        if calling:
            grammar = _compiled_grammar(tool_call_gbnf(tools or [], choice, parallel=parallel))
        elif text_first:
            grammar = _compiled_grammar(TEXT_FIRST_GBNF)
        # The template's end-of-turn token is an end-of-generation token: llama.cpp reports it
        # as such, so only the caller's stop sequences are matched as text.
        stops = [s for s in dict.fromkeys(params.pop("stop")) if s]
        with loaded.lock:
            llama = loaded.llama
            tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True)
            n_ctx = loaded.n_ctx
            if len(tokens) >= n_ctx:
                raise ContextOverflowError(
                    f"the prompt is {len(tokens)} tokens but the context window is {n_ctx}: it is "
                    f"{len(tokens) - n_ctx + 1} tokens too long. Shorten the input, drop old turns, "
                    "or raise LLAMA_TOOLKIT_N_CTX (up to the model's trained context)",
                    prompt_tokens=len(tokens),
                    n_ctx=n_ctx,
                )
            room = n_ctx - len(tokens)
            max_tokens = params.pop("max_tokens") or room
            max_tokens = min(max_tokens, room)
            cached = _common_prefix(llama, tokens)
            deadline = time.perf_counter() + self.timeout if self.timeout else None
            t0 = time.perf_counter()
            t_first: float | None = None
            generated = 0
            finish_reason = "length"
            llama.set_seed(params.pop("seed"))
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            stop_text = _StopMatcher(stops)
            model = llama._model  # per-token detokenize, as llama-cpp-python does
            vocab = model.vocab
            tokens_out = _generate_tokens(
                llama, tokens, params, grammar, switch_to_text=choice == "auto" or text_first
            )
            call_text: list[str] | None = None  # the answer is buffered once it is a tool call
            try:
                for token in tokens_out:
                    if llama_cpp.llama_vocab_is_eog(vocab, token):
                        finish_reason = "stop"
                        break
                    generated += 1
                    piece = decoder.decode(model.detokenize([token]))
                    if calling and generated == 1 and (choice != "auto" or piece.startswith("{")):
                        call_text = []
                    if call_text is not None:
                        call_text.append(piece)
                        t_first = t_first or time.perf_counter()
                        text, stopped = "", False
                    else:
                        text, stopped = stop_text.feed(piece)
                    if text:
                        if t_first is None:
                            t_first = time.perf_counter()
                        yield ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if stopped:
                        finish_reason = "stop"
                        break
                    if generated >= max_tokens:
                        break
                    if deadline is not None and time.perf_counter() > deadline:
                        finish_reason = "timeout"
                        break
            finally:
                # Runs under the lock even when the caller stops reading early.
                tokens_out.close()
            if call_text is not None:
                call_text.append(decoder.decode(b"", final=True))
            elif finish_reason != "stop":
                tail = stop_text.flush(decoder.decode(b"", final=True))
                if tail:
                    t_first = t_first or time.perf_counter()
                    yield ChatGenerationChunk(message=AIMessageChunk(content=tail))
            t_end = time.perf_counter()
        if call_text is not None:
            raw = "".join(call_text)
            content, calls = parse_tool_calls(raw, names)
            if calls and finish_reason == "stop":
                finish_reason = "tool_calls"
            # A call cut short by max_tokens is not valid JSON: it comes back as text.
            yield ChatGenerationChunk(
                message=AIMessageChunk(content=content, tool_call_chunks=call_chunks(calls))
            )  # type: ignore[arg-type]
        if finish_reason == "length" and max_tokens == room:
            finish_reason = "context_window"
        t_first = t_first or t_end
        gen_seconds = t_end - t_first
        meta: dict[str, Any] = {
            "model_name": Path(self.model_path).name,
            "model_provider": "llamacpp",
            "finish_reason": finish_reason or "stop",
            "n_ctx": n_ctx,
            "time_to_first_token": round(t_first - t0, 6),
            "generation_seconds": round(gen_seconds, 6),
            # The first token's time belongs to prompt processing; speed counts the rest.
            "tokens_per_second": round((generated - 1) / gen_seconds, 3)
            if generated > 1 and gen_seconds > 0
            else None,
            "prompt_tokens_cached": cached,
        }
        usage = UsageMetadata(
            input_tokens=len(tokens),
            output_tokens=generated,
            total_tokens=len(tokens) + generated,
            input_token_details={"cache_read": cached},
        )
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="", usage_metadata=usage, response_metadata=meta, chunk_position="last"
            ),
            generation_info=meta,
        )

    def _call_params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        allowed = {
            "temperature",
            "top_p",
            "top_k",
            "min_p",
            "repeat_penalty",
            "max_tokens",
            "seed",
            "response_format",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "tool_examples",
        }
        unknown = set(kwargs) - allowed
        if unknown:
            raise ConfigurationError(
                f"unknown generation option(s) {sorted(unknown)} for ChatLlama; known: {sorted(allowed)}"
            )
        seed = kwargs.get("seed", self.seed)
        return {
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
            "top_k": kwargs.get("top_k", self.top_k),
            "min_p": kwargs.get("min_p", self.min_p),
            "repeat_penalty": kwargs.get("repeat_penalty", self.repeat_penalty),
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "seed": seed if seed is not None else random.randrange(2**31),
            "stop": [*(self.stop or []), *(stop or [])],
            "grammar": _grammar_for(kwargs.get("response_format")),
            "tools": kwargs.get("tools") or None,
            "tool_choice": kwargs.get("tool_choice"),
            "parallel_tool_calls": bool(kwargs.get("parallel_tool_calls")),
            "tool_examples": kwargs.get("tool_examples") or {},
        }

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
        schemas = tool_schemas(tools)
        names = [s["function"]["name"] for s in schemas]
        choice = normalize_tool_choice(tool_choice, names)  # fail at bind time, not at invoke
        return self.bind(
            tools=schemas,
            tool_choice=choice,
            parallel_tool_calls=parallel_tool_calls,
            tool_examples=tool_examples(tools),
            **kwargs,
        )

    def _route(
        self, messages: Sequence[BaseMessage], tools: list[dict[str, Any]], examples: dict[str, list[str]]
    ) -> str:
        """The tool_choice for an ``auto`` turn under the similarity router."""
        last = messages[-1] if messages else None
        if not isinstance(last, HumanMessage):
            return "none"  # after a tool result: answer from it
        return default_router().choose(_text_content(last), tools, examples) or "none"

    def _router_enabled(self) -> bool:
        if self.tool_router == "auto":
            return not template_supports_tools(self._template(self.loaded))
        return self.tool_router == "similarity"

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


class _StopMatcher:
    """Cuts streamed text at the first stop sequence, holding back what may start one."""

    def __init__(self, stops: list[str]) -> None:
        self.stops = [x for x in stops if x]
        self.pending = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Add decoded text; return (text safe to emit, whether a stop sequence was hit)."""
        if not self.stops:
            return text, False
        self.pending += text
        hits = [i for i in (self.pending.find(x) for x in self.stops) if i >= 0]
        if hits:
            out, self.pending = self.pending[: min(hits)], ""
            return out, True
        keep = 0
        for stop in self.stops:
            for n in range(min(len(stop) - 1, len(self.pending)), keep, -1):
                if self.pending.endswith(stop[:n]):
                    keep = n
                    break
        cut = len(self.pending) - keep
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out, False

    def flush(self, text: str) -> str:
        out, self.pending = self.pending + text, ""
        return out


_GRAMMARS: dict[str, Any] = {}


def _grammar_for(response_format: dict[str, Any] | None) -> Any:
    if not response_format:
        return None
    from llama_cpp.llama_grammar import JSON_GBNF

    kind = response_format.get("type")
    if kind == "json_object":
        return _compiled_grammar(JSON_GBNF)
    if kind == "json_schema":
        # Key order in the schema is the order the grammar enforces.
        return _compiled_grammar(schema_gbnf(json.dumps(response_format["schema"])))
    raise ConfigurationError(f"response_format type must be json_schema or json_object, got {kind!r}")


@functools.lru_cache(maxsize=8)
def _read_template(path: str, mtime_ns: int) -> str:
    """A template file's text, read again only when the file changes (every turn renders it)."""
    return Path(path).read_text(encoding="utf-8")


def _compiled_grammar(gbnf: str) -> Any:
    from llama_cpp import LlamaGrammar

    grammar = _GRAMMARS.get(gbnf)
    if grammar is None:
        grammar = _GRAMMARS[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
    return grammar


def _generate_tokens(
    llama: Any, tokens: list[int], params: dict[str, Any], grammar: Any, *, switch_to_text: bool
) -> Generator[int, None, None]:
    """``llama.generate`` under ``grammar``, checked token by token (see ``_lazy_grammar``).

    With ``switch_to_text``, the grammar (tool calls or text) only decides the first token:
    an answer that does not open a call continues unconstrained, as fast as plain chat.
    """

    def run(prompt: list[int]) -> Any:
        return llama.generate(
            prompt,
            top_k=params["top_k"],
            top_p=params["top_p"],
            min_p=params["min_p"],
            temp=params["temperature"],
            repeat_penalty=params["repeat_penalty"],
        )

    # The grammar is applied by a LazyGrammarSampler standing in for llama.sample.
    gen = run(tokens)
    lazy = LazyGrammarSampler(llama, grammar) if grammar is not None else None
    try:
        if lazy is not None:
            llama.sample = lazy
        if not (switch_to_text and lazy is not None):
            yield from gen
            return
        first = next(gen, None)
        if first is None:
            return
        yield first
        if not llama.detokenize([first]).startswith(b"{"):
            gen.close()
            del llama.sample  # text: unconstrained from here on
            gen = run([*tokens, first])  # the prompt's KV cache is reused
        yield from gen
    finally:
        gen.close()
        if "sample" in vars(llama):
            del llama.sample
        if lazy is not None:
            lazy.close()


def _common_prefix(llama: Any, tokens: list[int]) -> int:
    n = 0
    for a, b in zip(
        llama._input_ids[: llama.n_tokens], tokens, strict=False
    ):  # read-only look at the KV state
        if a != b:
            break
        n += 1
    return n


def _to_template_messages(message: BaseMessage) -> list[dict[str, Any]]:
    """One message for the chat template (tool calls and results in the OpenAI form that
    tool-aware templates such as Llama 3.x's read)."""
    if isinstance(message, ChatMessage):
        role = message.role
    else:
        role = next((r for cls, r in _ROLES.items() if isinstance(message, cls)), None) or ""
        if not role:
            raise UnsupportedInputError(
                f"message type {type(message).__name__} is not supported by ChatLlama"
            )
    content = _text_content(message)
    if isinstance(message, AIMessage) and message.tool_calls:
        # Llama 3.x templates take one call per assistant message.
        out: list[dict[str, Any]] = [{"role": "assistant", "content": content}] if content.strip() else []
        for call in message.tool_calls:
            function = {"name": call["name"], "arguments": call["args"]}
            out.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"type": "function", "id": call.get("id"), "function": function}],
                }
            )
        return out
    if isinstance(message, ToolMessage):
        return [{"role": "tool", "content": content, "tool_call_id": message.tool_call_id}]
    return [{"role": role, "content": content}]


def _text_content(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif block.get("type") == "text":
            parts.append(str(block.get("text", "")))
        elif block.get("type") in ("tool_use", "tool_call", "tool_call_chunk"):
            continue  # the same calls are in AIMessage.tool_calls, rendered from there
        elif block.get("type") in ("image", "image_url", "audio", "file", "video"):
            raise UnsupportedInputError(
                f"ChatLlama serves text-only GGUF models and got a {block['type']} block - use "
                "Ollama with a vision model (LLAMA_TOOLKIT_BACKEND=ollama LLAMA_TOOLKIT_MODEL=llama3.2-vision)"
            )
        else:
            raise UnsupportedInputError(f"unsupported content block type {block.get('type')!r}")
    return "".join(parts)
