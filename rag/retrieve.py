"""Retrieve: dense and BM25 candidates fused by weighted reciprocal rank fusion.

RRF rather than score mixing because cosine and BM25 scores live on unrelated scales
(e5 cosines sit in 0.75-0.95; BM25 is unbounded); ranks are comparable, scores are not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, Protocol

from index.store import IndexStore
from rag.embedding import Embedder
from rag.types import Chunk, Hit

Mode = Literal["hybrid", "dense", "bm25"]


class Retriever(Protocol):
    def search(self, query: str, k: int) -> list[Hit]: ...


@dataclass(frozen=True)
class FusionParams:
    candidates: int = 30
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0


def rrf_fuse(rankings: Sequence[tuple[float, Sequence[Chunk]]], rrf_k: int) -> list[tuple[Chunk, float]]:
    """Weighted reciprocal rank fusion: sum of weight / (rrf_k + rank) over the rankings."""
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    for weight, ranking in rankings:
        for rank, chunk in enumerate(ranking, 1):
            scores[chunk.id] = scores.get(chunk.id, 0.0) + weight / (rrf_k + rank)
            chunks[chunk.id] = chunk
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return [(chunks[cid], scores[cid]) for cid in order]


class HybridRetriever:
    """Searches one :class:`IndexStore` densely, lexically, or both fused.

    Every hit carries the dense cosine of its chunk (computed for BM25-only finds too) so
    the composer can judge relevance on one absolute scale whatever the mode.
    """

    def __init__(self, store: IndexStore, embedder: Embedder, params: FusionParams = FusionParams(),
                 mode: Mode = "hybrid") -> None:
        self.store = store
        self.embedder = embedder
        self.params = params
        self.mode = mode

    def search(self, query: str, k: int) -> list[Hit]:
        if k <= 0:
            return []
        n = max(k, self.params.candidates)
        qvec = self.embedder.embed_queries([query])[0]
        dense = self.store.search_dense(qvec, n) if self.mode != "bm25" else []
        lexical = self.store.search_lexical(query, n) if self.mode != "dense" else []
        cosine = {c.id: s for c, s in dense}
        bm25 = {c.id: s for c, s in lexical}
        if self.mode == "dense":
            ranked = dense
        elif self.mode == "bm25":
            ranked = lexical
        else:
            ranked = rrf_fuse([(self.params.dense_weight, [c for c, _ in dense]),
                               (self.params.bm25_weight, [c for c, _ in lexical])], self.params.rrf_k)
        top = ranked[:k]
        missing = [c for c, _ in top if c.id not in cosine]
        if missing:
            cosine.update(zip([c.id for c in missing], self.store.dense_scores(qvec, missing), strict=True))
        return [Hit(chunk=c, score=s, dense_score=cosine.get(c.id), bm25_score=bm25.get(c.id)) for c, s in top]

    def with_mode(self, mode: Mode) -> HybridRetriever:
        return HybridRetriever(self.store, self.embedder, self.params, mode)

    def with_params(self, **changes: float) -> HybridRetriever:
        return HybridRetriever(self.store, self.embedder, replace(self.params, **changes), self.mode)
