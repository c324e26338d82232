"""llama.cpp grammars: compiled once per text, and applied by checking one token at a time.

:func:`grammar_for` turns a ``response_format`` into a grammar and :func:`compiled_grammar`
caches compiled grammars by their GBNF text. :class:`LazyGrammarSampler` applies one:

llama-cpp-python puts a grammar first in its sampler chain, so every token is checked against
the whole vocabulary (49K tokens for SmolLM2, 128K for Llama 3): decoding a tool call ran at
0.55-0.62x plain speed. llama.cpp's own sampler does better, and so does this: sample with the
ordinary chain, check only the chosen token against the grammar, and only when it is refused,
mask the vocabulary with the grammar and sample again. Greedy decoding picks exactly what
the full check picks; about a fifth of a tool call's tokens need the second pass.

Under greedy decoding (:attr:`LazyGrammarSampler.greedy`) the second pass first checks only
the :data:`TOP_TOKENS` likeliest tokens: the best of them the grammar allows is the token the
full check would pick whenever its (penalised) logit is at least the best logit outside them,
since penalties only lower a logit. Otherwise the whole vocabulary is checked, as before. A
grounded grammar refuses the model's first choice often, and the full check costs ~8 ms a
token on SmolLM2's 49K vocabulary (more on Llama 3's 128K); this one costs well under 1 ms.
"""

from __future__ import annotations

import ctypes
import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import llama_cpp
import numpy as np
from langchain_core.messages import BaseMessage, ToolMessage
from llama_cpp._internals import LlamaTokenDataArray

from toolkit.backends.grounding import ground_schemas, grounded_text_gbnf
from toolkit.backends.tool_calling import TEXT_FIRST_GBNF, schema_gbnf, tool_call_gbnf
from toolkit.errors import ConfigurationError
from toolkit.text.candidates import Candidates

__all__ = ["LazyGrammarSampler", "call_grammar", "compiled_grammar", "grammar_for", "text_grammar"]

TOP_TOKENS = 512
"""Tokens the greedy second pass checks before it checks the whole vocabulary."""

_GRAMMARS: OrderedDict[str, Any] = OrderedDict()
_GRAMMAR_CACHE_SIZE = 64  # schemas come from requests too (serve): the cache must not grow without end


def compiled_grammar(gbnf: str) -> Any:
    """The ``LlamaGrammar`` for ``gbnf``, compiled on first use; the 64 most recent are kept."""
    from llama_cpp import LlamaGrammar

    grammar = _GRAMMARS.get(gbnf)
    if grammar is None:
        grammar = _GRAMMARS[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
        while len(_GRAMMARS) > _GRAMMAR_CACHE_SIZE:
            _GRAMMARS.popitem(last=False)
    else:
        _GRAMMARS.move_to_end(gbnf)
    return grammar


def call_grammar(tools: list[dict[str, Any]], choice: str, parallel: bool, found: Candidates | None) -> Any:
    """The compiled grammar of a tool-calling turn; its values are grounded in the request's
    candidates ``found``, when given (:mod:`toolkit.backends.grounding`)."""
    if found is not None:
        tools = ground_schemas(tools, found)
    return compiled_grammar(tool_call_gbnf(tools, choice, parallel=parallel))


def text_grammar(messages: Sequence[BaseMessage], found: Candidates | None) -> tuple[Any, bool]:
    """The grammar of a text-only answer, and whether it holds for the whole answer.

    Right after a tool result, when grounded (the conversation's candidates ``found`` given),
    every number of the answer must be one of the request or the results
    (:func:`~toolkit.backends.grounding.grounded_text_gbnf`). Otherwise only the first token is
    held: it must not open a call.
    """
    if found is not None and messages and isinstance(messages[-1], ToolMessage):
        gbnf = grounded_text_gbnf(found)
        if gbnf is not None:
            return compiled_grammar(gbnf), True
    return compiled_grammar(TEXT_FIRST_GBNF), False


def grammar_for(response_format: dict[str, Any] | None) -> Any:
    """The grammar an OpenAI-style ``response_format`` asks for, or None for free text.

    Raises:
        ConfigurationError: The format's type is neither ``json_schema`` nor ``json_object``.
    """
    if not response_format:
        return None
    from llama_cpp.llama_grammar import JSON_GBNF

    kind = response_format.get("type")
    if kind == "json_object":
        return compiled_grammar(JSON_GBNF)
    if kind == "json_schema":
        # Key order in the schema is the order the grammar enforces.
        return compiled_grammar(schema_gbnf(json.dumps(response_format["schema"])))
    raise ConfigurationError(f"response_format type must be json_schema or json_object, got {kind!r}")


class LazyGrammarSampler:
    """Stands in for ``Llama.sample`` while ``Llama.generate`` runs without a grammar.

    Install with ``llama.sample = LazyGrammarSampler(llama, grammar)`` after creating the
    generator (``generate`` builds ``llama._sampler``, the ordinary chain, on first use), and
    remove it and :meth:`close` afterwards.
    """

    def __init__(self, llama: Any, grammar: Any) -> None:
        self.llama = llama
        self.n_vocab = int(llama.n_vocab())
        self.grammar = llama_cpp.llama_sampler_init_grammar(
            llama._model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self.grammar:
            raise ConfigurationError(
                "llama.cpp could not parse the grammar built from this schema - simplify the schema "
                "(a pattern, or an unusual keyword), or ask for json_object"
            )
        self.candidates = LlamaTokenDataArray(n_vocab=self.n_vocab)
        self.one = np.recarray((1,), dtype=self.candidates.candidates_data.dtype)
        self.one_array = llama_cpp.llama_token_data_array(
            data=self.one.ctypes.data_as(llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False
        )
        self.top = np.recarray((TOP_TOKENS,), dtype=self.candidates.candidates_data.dtype)
        self.top_array = llama_cpp.llama_token_data_array(
            data=self.top.ctypes.data_as(llama_cpp.llama_token_data_p),
            size=TOP_TOKENS,
            selected=-1,
            sorted=False,
        )
        self.greedy = False  # set by the caller: temperature 0 and penalties that only lower logits
        self.tokens = self.resampled = self.full_checks = 0

    def __call__(self, *args: Any, idx: int | None = None, **kwargs: Any) -> int:
        llama = self.llama
        chain = llama._sampler.sampler
        ridx = idx - llama.n_tokens if idx is not None else -1
        pointer = llama_cpp.llama_get_logits_ith(llama._ctx.ctx, ridx)
        logits = np.ctypeslib.as_array(pointer, shape=(self.n_vocab,))
        token = self._pick(chain, logits, constrained=False)
        self.tokens += 1
        if not self._allowed(token):
            self.resampled += 1
            best = self._pick_greedy(chain, logits) if self.greedy else None
            if best is None:
                self.full_checks += 1
                best = self._pick(chain, logits, constrained=True)
            token = best
        llama_cpp.llama_sampler_accept(chain, token)
        llama_cpp.llama_sampler_accept(self.grammar, token)
        return token

    def _pick(self, chain: Any, logits: np.ndarray, *, constrained: bool) -> int:
        self.candidates.copy_logits(logits)
        self.candidates.candidates.selected = -1
        if constrained:
            llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.candidates.candidates))
        llama_cpp.llama_sampler_apply(chain, ctypes.byref(self.candidates.candidates))
        return int(self.candidates.candidates_data.id[self.candidates.candidates.selected])

    def _pick_greedy(self, chain: Any, logits: np.ndarray) -> int | None:
        """The greedy pick among the grammar's tokens, found among the likeliest only; None
        when it cannot be sure (then the whole vocabulary is checked)."""
        if self.n_vocab <= TOP_TOKENS:
            return None
        ranked = np.argpartition(logits, -(TOP_TOKENS + 1))[-(TOP_TOKENS + 1) :]
        outside = ranked[np.argmin(logits[ranked])]  # the best token not among the top
        top = ranked[ranked != outside][:TOP_TOKENS]
        self.top.id[:], self.top.logit[:], self.top.p[:] = top, logits[top], 0.0
        self.top_array.size, self.top_array.selected, self.top_array.sorted = TOP_TOKENS, -1, False
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.top_array))
        if not np.isfinite(self.top.logit[: self.top_array.size]).any():
            return None
        llama_cpp.llama_sampler_apply(chain, ctypes.byref(self.top_array))
        chosen = self.top_array.selected
        if chosen < 0 or not self.top.logit[chosen] >= logits[outside]:
            return None
        return int(self.top.id[chosen])

    def _allowed(self, token: int) -> bool:
        self.one.id[0], self.one.logit[0], self.one.p[0] = token, 1.0, 0.0
        self.one_array.size, self.one_array.selected = 1, -1
        llama_cpp.llama_sampler_apply(self.grammar, ctypes.byref(self.one_array))
        return math.isfinite(float(self.one.logit[0]))

    def close(self) -> None:
        if self.grammar:
            llama_cpp.llama_sampler_free(self.grammar)
            self.grammar = None
