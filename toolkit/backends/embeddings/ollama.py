"""An Ollama embedding model (``nomic-embed-text``, ``all-minilm``...) with the toolkit's errors."""

from __future__ import annotations

import time

from langchain_core.embeddings import Embeddings

from toolkit import profiling

__all__ = ["ToolkitOllamaEmbeddings"]


class ToolkitOllamaEmbeddings(Embeddings):
    """langchain-ollama's ``OllamaEmbeddings`` with the toolkit's errors.

    Args:
        model: The Ollama model tag, such as ``nomic-embed-text``.
        base_url: The server URL (the ``ollama_host`` setting).
        timeout: Seconds to wait for each read of an answer.
        deadline: Seconds one request may take in all (default: the ``request_deadline``
            setting); past it the call raises :class:`~toolkit.errors.GenerationTimeoutError`.
    """

    def __init__(
        self, model: str, *, base_url: str, timeout: float = 300.0, deadline: float | None = None
    ) -> None:
        from langchain_ollama import OllamaEmbeddings

        from toolkit.backends.ollama import AsyncLimitedTransport, LimitedTransport
        from toolkit.settings import get_settings

        self.model = model
        self.base_url = base_url
        self.model_id = f"ollama:{model}"
        self.deadline = get_settings().request_deadline if deadline is None else deadline
        self._inner = OllamaEmbeddings(
            model=model,
            base_url=base_url,
            client_kwargs={"timeout": timeout},
            sync_client_kwargs={"transport": LimitedTransport(self.deadline)},
            async_client_kwargs={"transport": AsyncLimitedTransport(self.deadline)},
        )

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with one ``/api/embed`` request."""
        from toolkit.backends.ollama import translated_errors

        if not texts:
            return []
        # Measured here, the server's model load included: /api/embed is not streamed.
        with translated_errors(self.base_url, self.model), profiling.phase("embed", texts=len(texts)):
            return self._inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        """Embed one text."""
        return self.embed_documents([text])[0]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed ``texts`` with one ``/api/embed`` request, asynchronously."""
        from toolkit.backends.ollama import translated_errors

        if not texts:
            return []
        # Not a span: other tasks run on this thread while it awaits.
        started = time.perf_counter()
        with translated_errors(self.base_url, self.model):
            vectors = await self._inner.aembed_documents(texts)
        profiling.add("embed", time.perf_counter() - started, texts=len(texts))
        return vectors

    async def aembed_query(self, text: str) -> list[float]:
        """Embed one text asynchronously."""
        return (await self.aembed_documents([text]))[0]
