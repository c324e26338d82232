"""Pick the tool for a request by embedding similarity, for models too small to choose.

Measured on the embedded SmolLM2-135M: under a grammar that allows a call or text, it never
chose a tool; forced to call, it filled arguments well. So a small model gets help: the
request is embedded (MiniLM, local, a few milliseconds) and compared with each tool's example
requests (``tool.metadata["examples"]``, else its description) and with examples of requests
that need no tool. The closest wins: a tool is then called under the grammar, with the model
filling the arguments; otherwise the model answers in text. ``bench/tool_calls.py`` measures
this against letting the model choose.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.embeddings import Embeddings
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

__all__ = ["NO_TOOL_EXAMPLES", "ToolRouter", "repair_choice", "routed_choice", "tool_examples"]

# Requests a chat model answers by itself: greetings, chit-chat, writing, general knowledge.
NO_TOOL_EXAMPLES = (
    "hi",
    "hello, how are you?",
    "thanks, that helps",
    "who are you?",
    "tell me a joke",
    "write a short poem about the sea",
    "what is the capital of France?",
    "explain what photosynthesis is",
    "give me three tips for a job interview",
    "good morning!",
    "what can you do?",
    "translate 'thank you' into Spanish",
)


def tool_examples(tools: Sequence[Any]) -> dict[str, list[str]]:
    """``{name: example requests}`` of LangChain tools that carry ``metadata["examples"]``."""
    out: dict[str, list[str]] = {}
    for t in tools:
        examples = (getattr(t, "metadata", None) or {}).get("examples")
        name = getattr(t, "name", None)
        if name and examples:
            out[name] = [str(e) for e in examples]
    return out


class ToolRouter:
    """Chooses a tool, or none, for a request by cosine similarity to example requests.

    Args:
        embeddings: Any embedder with unit-length vectors; default the local MiniLM.
        min_score: A tool is chosen only if its best example is at least this similar.
    """

    def __init__(self, embeddings: Embeddings | None = None, *, min_score: float = 0.3) -> None:
        self._embeddings = embeddings
        self.min_score = min_score
        self._cache: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @property
    def embeddings(self) -> Embeddings:
        if self._embeddings is None:
            from toolkit.backends.embeddings import MiniLMEmbeddings

            self._embeddings = MiniLMEmbeddings()
        return self._embeddings

    def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
            if missing:
                self._cache.update(zip(missing, self.embeddings.embed_documents(missing), strict=True))
            return [self._cache[t] for t in texts]

    def scores(
        self, request: str, tools: Sequence[Mapping[str, Any]], examples: Mapping[str, Sequence[str]]
    ) -> dict[str | None, float]:
        """Best similarity per tool name, and under ``None`` for the no-tool examples."""
        import numpy as np

        candidates: dict[str | None, list[str]] = {None: list(NO_TOOL_EXAMPLES)}
        for schema in tools:
            fn = schema["function"]
            candidates[fn["name"]] = list(examples.get(fn["name"]) or [fn.get("description") or fn["name"]])
        query = np.asarray(self.embeddings.embed_query(request))
        return {
            name: float(np.max(np.asarray(self._vectors(texts)) @ query))
            for name, texts in candidates.items()
        }

    def choose(
        self, request: str, tools: Sequence[Mapping[str, Any]], examples: Mapping[str, Sequence[str]]
    ) -> str | None:
        """The tool to call for ``request``, or None when a text answer fits better."""
        scores = self.scores(request, tools, examples)
        best = max(scores, key=lambda name: scores[name])
        if best is None or scores[best] < self.min_score:
            return None
        return best


_default: ToolRouter | None = None


def default_router() -> ToolRouter:
    """The process-wide router over the local MiniLM embedder."""
    global _default
    if _default is None:
        _default = ToolRouter()
    return _default


def routed_choice(
    router: str,
    template: str,
    messages: Sequence[BaseMessage],
    tools: Sequence[Mapping[str, Any]],
    examples: Mapping[str, Sequence[str]],
) -> str:
    """The tool_choice for an ``auto`` turn: ``auto`` when the model itself should choose
    (``router="model"``, or ``"auto"`` with a template that renders tools), else the similarity
    router's pick, or ``none`` (also right after a tool result: answer from it; after a rejected
    call, the same tool once more: :func:`repair_choice`)."""
    from toolkit.backends.tool_calling import template_supports_tools

    if router == "model" or (router == "auto" and template_supports_tools(template)):
        return "auto"
    last = messages[-1] if messages else None
    if isinstance(last, ToolMessage):
        return repair_choice(messages, tools) or "none"
    if not isinstance(last, HumanMessage):
        return "none"
    return default_router().choose(last.text, tools, examples) or "none"


def repair_choice(messages: Sequence[BaseMessage], tools: Sequence[Mapping[str, Any]]) -> str | None:
    """The tool to call once more after it rejected its arguments, or None (answer in text).

    One repair turn: the last message is the tool's error (``status="error"``, not a timeout,
    which agents mark ``response_metadata["timed_out"]``), the first error since the user's
    request. The error, which names what was wrong and how to call the tool, is in the prompt,
    and the call is decoded under the same (grounded) grammar.
    """
    last = messages[-1] if messages else None
    if not isinstance(last, ToolMessage) or last.status != "error" or last.response_metadata.get("timed_out"):
        return None
    start = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
    errors = sum(isinstance(m, ToolMessage) and m.status == "error" for m in messages[start + 1 :])
    name = last.name or next(
        (
            call["name"]
            for m in messages[start + 1 :]
            if isinstance(m, AIMessage)
            for call in m.tool_calls
            if call.get("id") == last.tool_call_id
        ),
        None,
    )
    offered = {t["function"]["name"] for t in tools}
    return name if errors == 1 and name in offered else None
