"""Search a document index four ways: dense, keyword (BM25), hybrid (both, fused) and MMR.

Dense search asks Chroma for the chunks nearest the query's embedding (cosine similarity).
Keyword search scores every chunk with BM25 (``bm25s``) over a lowercase word tokenizer
without English stopwords; the BM25 index is built from ``index.get_documents()`` once per
index version and shared by every retriever in the process. Hybrid search fuses the dense
and keyword rankings with reciprocal rank fusion (RRF), so a chunk that holds the query's
rare exact term (a product code, a name) is found even when its embedding is not the
nearest. MMR trades some similarity for diversity.

Every returned document carries ``score``, ``rank`` (1-based) and ``relevant`` in its
metadata: ``relevant`` is true when its dense similarity reaches ``min_relevance`` or it
matches a non-stopword query term, which lets a RAG chain answer "I don't know" instead of
citing chunks that merely came out on top.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import Field

from toolkit import profiling
from toolkit.errors import ConfigurationError, LimitExceededError

__all__ = [
    "MAX_FETCH_K",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "STOPWORDS",
    "HybridRetriever",
    "SearchMode",
    "check_k",
    "clear_keyword_cache",
    "tokenize",
]

MAX_K = 1000
"""Most documents one search returns."""
MAX_FETCH_K = 10_000
"""Most candidates one ranking contributes."""
MAX_QUERY_CHARS = 100_000
"""Longest query searched (a question this long cannot be answered from a few chunks anyway)."""


def check_k(k: Any, name: str = "k", most: int = MAX_K) -> int:
    """``k`` if it is an int in ``[1, most]``.

    Raises:
        ConfigurationError: ``k`` is not a whole number or below 1.
        LimitExceededError: ``k`` is over ``most``.
    """
    if isinstance(k, bool) or not isinstance(k, int):
        raise ConfigurationError(f"{name} must be a whole number from 1 to {most}, got {k!r}")
    if k < 1:
        raise ConfigurationError(f"{name} must be between 1 and {most}, got {k}")
    if k > most:
        raise LimitExceededError(f"{name} must be between 1 and {most}, got {k}", limit=name)
    return k


SearchMode = Literal["hybrid", "dense", "keyword", "mmr"]

_STOPWORD_TEXT = """a about above after all also an and any are as at be been being but by can could did do
    does doing for from had has have having he her his how i if in into is it its me my no not
    of on or our she should so some such than that the their them then there these they this
    those to too very was we were what when where which while who whom why will with would you
    your tell please"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
"""Words too common to count as a keyword match (a small English list, question words included)."""

_WORD = re.compile(r"[^\W_]+")


def tokenize(text: str) -> list[str]:
    """Lowercase words of ``text`` (letters and digits, any script), stopwords removed."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


@dataclass(frozen=True)
class _KeywordIndex:
    """A BM25 index over every chunk of one index version."""

    docs: list[Document]
    model: Any  # bm25s.BM25, or None when no chunk has a single word
    positions: dict[str, int]  # chunk id -> position in ``docs``

    def scores(self, query: str) -> Any:
        """BM25 score of every chunk as a numpy array in ``docs`` order, or None if no term is known."""
        if self.model is None:
            return None
        vocab = self.model.vocab_dict
        ids = [vocab[t] for t in dict.fromkeys(tokenize(query)) if t in vocab]
        if not ids:
            return None
        return self.model.get_scores_from_ids(ids)

    def top(self, scores: Any, limit: int, allowed: set[str] | None) -> list[tuple[int, float]]:
        """(position, score) of the best ``limit`` chunks with a positive score, best first.

        Selection runs in numpy (``argpartition``): the cost per query stays flat however
        many chunks match a common word.
        """
        import numpy as np

        if scores is None:
            return []
        scores = np.asarray(scores, dtype=np.float64)
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[[self.positions[i] for i in allowed if i in self.positions]] = True
            scores = np.where(mask, scores, 0.0)
        positive = int(np.count_nonzero(scores > 0))
        n = min(limit, positive)
        if n == 0:
            return []
        best = np.argpartition(-scores, n - 1)[:n]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best]


_CACHE: dict[tuple[str, str], tuple[str, _KeywordIndex]] = {}
_CACHE_LOCK = threading.Lock()


def clear_keyword_cache() -> None:
    """Forget every cached BM25 index (they are rebuilt on the next keyword search)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _keyword_index(index: Any) -> _KeywordIndex:
    """The BM25 index of ``index`` at its current version, built on first use."""
    collection = index.collection
    # The collection's id tells apart two stores that use the same collection name.
    key = (str(collection.name), str(getattr(collection, "id", "")))
    version = str(index.version())
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
        if cached is not None and cached[0] == version:
            return cached[1]
        docs = list(index.get_documents())
        corpus = [tokenize(d.page_content) for d in docs]
        model = None
        if any(corpus):
            import bm25s

            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
        positions = {str(d.id): i for i, d in enumerate(docs)}
        built = _KeywordIndex(docs=docs, model=model, positions=positions)
        _CACHE[key] = (version, built)  # replaces the stale version, so the cache stays small
        return built


_FILTER_ERRORS = {"ValueError", "TypeError", "InvalidArgumentError", "KeyError", "RecursionError"}
_MAX_FILTER_DEPTH = 32


def _depth(value: Any, level: int = 0) -> int:
    if level > _MAX_FILTER_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, (list, tuple)):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def _check_filter(where: Any) -> dict[str, Any] | None:
    """``where`` if it is None or a dict nested at most ``_MAX_FILTER_DEPTH`` levels deep."""
    if where is None:
        return None
    if not isinstance(where, dict):
        raise ConfigurationError(
            f'filter must be a dict such as {{"file_type": "pdf"}}, got {type(where).__name__}'
        )
    if _depth(where) > _MAX_FILTER_DEPTH:
        raise LimitExceededError(
            f"the filter is nested more than {_MAX_FILTER_DEPTH} levels deep - flatten it",
            limit="filter_depth",
        )
    return where


@dataclass
class _Hit:
    doc: Document
    similarity: float | None = None
    bm25: float | None = None
    score: float = 0.0


class HybridRetriever(BaseRetriever):
    """Retrieves chunks from a document index by dense, keyword, hybrid or MMR search.

    Example:
        .. code-block:: python

            from retrievers.search import HybridRetriever
            from retrievers.store import open_index

            retriever = HybridRetriever(index=open_index(), k=4, filter={"file_type": "pdf"})
            for doc in retriever.invoke("What did the audit find?"):
                print(doc.metadata["rank"], doc.metadata["score"], doc.metadata["source"])

            retriever.invoke("budget 2023", k=2, mode="keyword")  # per-call overrides

    Per-call keyword arguments ``k``, ``mode``, ``fetch_k`` and ``filter`` override the fields.
    """

    index: Any = Field(description="The DocumentIndex to search (retrievers.store.DocumentIndex).")
    mode: SearchMode = Field(default="hybrid", description="dense, keyword, hybrid (RRF of both) or mmr.")
    k: int = Field(default=5, description=f"Documents to return (1 to {MAX_K}).")
    fetch_k: int = Field(default=20, description=f"Candidates each ranking contributes (1 to {MAX_FETCH_K}).")
    filter: dict[str, Any] | None = Field(
        default=None, description='Chroma `where` on chunk metadata, e.g. {"file_type": "pdf"}.'
    )
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant.")
    min_relevance: float = Field(
        default=0.2, description="Cosine similarity below which a dense hit alone is not relevant."
    )

    def __init__(self, **data: Any) -> None:
        """Validate like any pydantic model, then check ``k``/``fetch_k``/``rrf_k`` and ``filter``.

        Raises:
            ConfigurationError: ``k``, ``fetch_k`` or ``rrf_k`` below 1, or a ``filter`` that is
                not a dict.
            LimitExceededError: ``k`` over :data:`MAX_K` or ``fetch_k`` over :data:`MAX_FETCH_K`.
        """
        super().__init__(**data)
        check_k(self.k)
        check_k(self.fetch_k, "fetch_k", MAX_FETCH_K)
        check_k(self.rrf_k, "rrf_k", 10**9)
        _check_filter(self.filter)

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        mode: SearchMode | None = None,
        fetch_k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        return self.search(query, k=k, mode=mode, fetch_k=fetch_k, filter=filter)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        mode: SearchMode | None = None,
        fetch_k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        # Chroma and bm25s are synchronous: run the search off the event loop.
        return await run_in_executor(
            None, lambda: self.search(query, k=k, mode=mode, fetch_k=fetch_k, filter=filter)
        )

    def search(
        self,
        query: str,
        *,
        k: int | None = None,
        mode: SearchMode | None = None,
        fetch_k: int | None = None,
        filter: dict[str, Any] | None = None,
    ) -> list[Document]:
        """The top ``k`` chunks for ``query`` (no callbacks; ``invoke`` is the usual entry point).

        Args:
            query: The question or keywords.
            k: Documents to return; default: the ``k`` field.
            mode: Search mode; default: the ``mode`` field.
            fetch_k: Candidates per ranking; default: the ``fetch_k`` field.
            filter: Chroma ``where``; default: the ``filter`` field.

        Returns:
            Copies of the chunks, best first, with ``score``, ``rank``, ``relevant``,
            ``similarity`` (dense cosine, or None) and ``bm25`` (or None) in their metadata.
            An empty index gives an empty list.
        """
        k = check_k(self.k if k is None else k)
        fetch = max(check_k(self.fetch_k if fetch_k is None else fetch_k, "fetch_k", MAX_FETCH_K), k)
        mode = mode or self.mode
        if mode not in ("hybrid", "dense", "keyword", "mmr"):
            raise ConfigurationError(f"mode must be 'hybrid', 'dense', 'keyword' or 'mmr', got {mode!r}")
        where = _check_filter(self.filter if filter is None else filter) or None  # Chroma rejects {}
        if not isinstance(query, str):
            raise ConfigurationError(f"the query must be a string, got {type(query).__name__}")
        if len(query) > MAX_QUERY_CHARS:
            raise LimitExceededError(
                f"the query is {len(query):,} characters, over the {MAX_QUERY_CHARS:,} limit - shorten it",
                limit="query_chars",
            )
        if not query.strip() or self.index.count() == 0:
            return []
        try:
            return self._search(query, k, mode, fetch, where)
        except Exception as exc:  # chromadb's own validation of `where`
            if where is None or type(exc).__name__ not in _FILTER_ERRORS:
                raise
            message = " ".join(str(exc).split())[:300]
            raise ConfigurationError(
                f"invalid filter {str(where)[:200]}: {message} - see Chroma's `where` syntax"
            ) from exc

    def _search(
        self, query: str, k: int, mode: SearchMode, fetch: int, where: dict[str, Any] | None
    ) -> list[Document]:
        if mode == "dense":
            hits = self._dense(query, fetch, where)[:k]
            for hit in hits:
                hit.score = hit.similarity or 0.0
        elif mode == "keyword":
            hits = self._keyword(query, where, k)[0]
            for hit in hits:
                hit.score = hit.bm25 or 0.0
        elif mode == "mmr":
            hits = self._mmr(query, k, fetch, where)
        elif mode == "hybrid":
            keyword, bm25 = self._keyword(query, where, fetch)
            hits = self._fuse(self._dense(query, fetch, where), keyword)[:k]
            for hit in hits:  # a dense hit may match query terms below the keyword cut
                if hit.bm25 is None:
                    hit.bm25 = bm25(hit.doc.id)
        else:
            raise ValueError(f"mode must be 'hybrid', 'dense', 'keyword' or 'mmr', got {mode!r}")
        return [self._output(hit, rank) for rank, hit in enumerate(hits, 1)]

    def _embed(self, query: str) -> list[float]:
        return list(self.index.embeddings.embed_query(query))

    def _dense(self, query: str, fetch: int, where: dict[str, Any] | None) -> list[_Hit]:
        return self._dense_by_vector(self._embed(query), fetch, where)

    def _dense_by_vector(self, vector: list[float], fetch: int, where: dict[str, Any] | None) -> list[_Hit]:
        # Despite its name, this returns Chroma's raw cosine *distances*: similarity = 1 - distance.
        # (The query-text "relevance" helper would warn on negative similarities, normal here.)
        with profiling.phase("store", queries=1):
            found = self.index.vectorstore.similarity_search_by_vector_with_relevance_scores(
                vector, k=fetch, filter=where
            )
        return [_Hit(doc=doc, similarity=1.0 - float(distance)) for doc, distance in found]

    def _keyword(
        self, query: str, where: dict[str, Any] | None, limit: int
    ) -> tuple[list[_Hit], Callable[[str | None], float | None]]:
        """The best ``limit`` chunks matching a query term, best first, and a lookup of any
        chunk's BM25 score by id (for dense hits outside that cut)."""
        keyword = _keyword_index(self.index)
        scores = keyword.scores(query)
        allowed = None
        if where and scores is not None:
            with profiling.phase("store", queries=1):
                allowed = set(self.index.collection.get(where=where, include=[])["ids"])
        hits = [_Hit(doc=keyword.docs[i], bm25=score) for i, score in keyword.top(scores, limit, allowed)]

        def bm25_of(chunk_id: str | None) -> float | None:
            pos = keyword.positions.get(str(chunk_id))
            if scores is None or pos is None or scores[pos] <= 0:
                return None
            return float(scores[pos])

        return hits, bm25_of

    def _mmr(self, query: str, k: int, fetch: int, where: dict[str, Any] | None) -> list[_Hit]:
        vector = self._embed(query)
        with profiling.phase("store", queries=1):
            chosen = self.index.vectorstore.max_marginal_relevance_search_by_vector(
                vector, k=k, fetch_k=fetch, filter=where
            )
        similarity = {hit.doc.id: hit.similarity for hit in self._dense_by_vector(vector, fetch, where)}
        hits = [_Hit(doc=doc, similarity=similarity.get(doc.id)) for doc in chosen]
        for hit in hits:
            hit.score = hit.similarity or 0.0
        return sorted(hits, key=lambda h: -h.score)

    def _fuse(self, dense: Sequence[_Hit], keyword: Sequence[_Hit]) -> list[_Hit]:
        """Reciprocal rank fusion: score = sum of 1 / (rrf_k + rank) over the rankings."""
        fused: dict[str, _Hit] = {}
        for ranking in (dense, keyword):
            for rank, hit in enumerate(ranking, 1):
                key = hit.doc.id or hit.doc.page_content
                merged = fused.setdefault(key, _Hit(doc=hit.doc))
                if hit.similarity is not None:
                    merged.similarity = hit.similarity
                if hit.bm25 is not None:
                    merged.bm25 = hit.bm25
                merged.score += 1.0 / (self.rrf_k + rank)
        return sorted(fused.values(), key=lambda h: -h.score)

    def _output(self, hit: _Hit, rank: int) -> Document:
        relevant = (hit.similarity is not None and hit.similarity >= self.min_relevance) or (
            hit.bm25 is not None and hit.bm25 > 0
        )
        metadata = {
            **hit.doc.metadata,
            "score": hit.score,
            "rank": rank,
            "relevant": relevant,
            "similarity": hit.similarity,
            "bm25": hit.bm25,
        }
        return Document(page_content=hit.doc.page_content, metadata=metadata, id=hit.doc.id)
