"""Retrieve: dense and BM25 candidates, fused.

Cosine and BM25 scores live on unrelated scales (e5 cosines sit in 0.75-0.95; BM25 is
unbounded), so each list is first turned into z-scores over its own candidates. The
mix then leans towards whichever retriever is surer of its top hit for this query
(how far its best score stands above its candidates), and towards the one whose top
hit holds more of the query's words, around a base share for dense.

Why not plain reciprocal rank fusion: on dureader-robust-dev BM25 is much weaker than
e5 and equal-weight RRF drops MRR@10 from 0.911 (dense) to 0.880, while on cmrc2018 and
xquad with distractors BM25 is the stronger one. The adaptive z-score mix beats both
parts on all three sets (eval/RESULTS.md). RRF stays available for comparison.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from index.staff import Disabled
from index.store import Store
from rag.embedding import Embedder
from rag.lexical import content_words, term_coverage
from rag.types import Chunk, Filters, Hit

Mode = Literal["hybrid", "dense", "bm25"]


class Retriever(Protocol):
    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...


Fusion = Literal["adaptive", "rrf", "learned"]


@dataclass(frozen=True)
class FusionParams:
    """How the two lists are merged.

    ``dense_share`` is dense's base weight in [0, 1] (BM25 gets the rest); ``gain`` moves it
    by the difference in the two retrievers' confidence, and ``cover_gain`` by the
    difference in how many of the query's words their top hits hold (:func:`cover_gap`),
    clamped to [min_share, max_share]. Defaults fitted on training data only (``zhrag
    fusion-fit --adaptive`` on the four DRCD-dev tables: as written, under-specified,
    Traditional, search-box); the shared sets are all held out (eval/RESULTS.md, "The top
    hit's words in the fusion"). The earlier 0.7 / 1.0, chosen on the shared sets, leaned on
    the embedder and lost to BM25 on short, under-specified questions.
    """

    method: Fusion = "adaptive"
    candidates: int = 50
    dense_share: float = 0.65
    gain: float = 0.25
    cover_gain: float = 0.75
    min_share: float = 0.3
    max_share: float = 0.9
    rrf_k: int = 60
    model: LearnedShare | None = None  # for method "learned"

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_share <= self.dense_share <= self.max_share <= 1.0:
            raise ValueError("fusion shares must satisfy 0 <= min_share <= dense_share <= max_share <= 1")
        if self.candidates < 1 or self.rrf_k < 1:
            raise ValueError("candidates and rrf_k must be positive")


def zscores(ranking: Sequence[tuple[Chunk, float]]) -> dict[str, float]:
    scores = np.array([s for _, s in ranking], dtype=np.float64)
    mean, std = scores.mean(), scores.std()
    return {c.id: (s - mean) / (std if std > 0 else 1.0) for c, s in ranking}


def adaptive_fuse(query: str, dense: Sequence[tuple[Chunk, float]], lexical: Sequence[tuple[Chunk, float]],
                  p: FusionParams) -> list[tuple[Chunk, float]]:
    """Confidence-weighted sum of z-scores; a chunk missing from one list gets that list's lowest z."""
    if not dense or not lexical:
        return list(dense or lexical)
    z = zscores(dense), zscores(lexical)
    share = p.dense_share + p.gain * _confidence(*z) + p.cover_gain * cover_gap(query, dense, lexical)
    return mix(dense, lexical, min(p.max_share, max(p.min_share, share)), z)


def cover_gap(query: str, dense: Sequence[tuple[Chunk, float]], lexical: Sequence[tuple[Chunk, float]]) -> float:
    """Share of the query's content words that dense's top hit holds, minus the share BM25's
    top hit holds, in [-1, 1]. When BM25's hit holds words dense's lacks, dense has matched
    the topic but not the question (a question stripped of its subject, a search-box query);
    when dense's holds more, BM25 has been drawn by a few frequent words. On the training
    tables a quarter to a half of questions have a gap, and their best dense share follows its sign
    (eval/RESULTS.md, "The top hit's words in the fusion")."""
    words = content_words(query)
    if not words or not dense or not lexical:
        return 0.0
    return term_coverage(words, dense[0][0].embedding_text()) - term_coverage(words, lexical[0][0].embedding_text())


def _confidence(zd: dict[str, float], zl: dict[str, float]) -> float:
    """How much surer dense is of its top hit than BM25 of its own, in [-1, 1]."""
    top_d, top_l = max(zd.values()), max(zl.values())
    return (top_d - top_l) / (abs(top_d) + abs(top_l)) if (top_d or top_l) else 0.0


FEATURES = ("bias", "dense_gap", "lexical_gap", "confidence", "dense_top", "agreement", "lexical_top_in_dense",
            "dense_top_in_lexical", "query_chars", "has_digit", "cover_gap")


def _gap(z: dict[str, float], ranking: Sequence[tuple[Chunk, float]]) -> float:
    if len(ranking) < 2:
        return 0.0
    return z[ranking[0][0].id] - z[ranking[1][0].id]


def _rank_of(cid: str, ranking: Sequence[tuple[Chunk, float]], limit: int = 20) -> float:
    for i, (c, _) in enumerate(ranking[:limit]):
        if c.id == cid:
            return 1.0 / (1 + i)
    return 0.0


def fusion_features(query: str, dense: Sequence[tuple[Chunk, float]],
                    lexical: Sequence[tuple[Chunk, float]]) -> np.ndarray:
    """What the learned fusion reads: how sharply each list separates its top hit, how far
    the lists agree, how sure dense is in absolute terms, the query's length and digits, and
    which top hit holds more of the query's words.
    Short, under-specified questions with one sharp BM25 hit are where dense goes wrong."""
    zd, zl = zscores(dense), zscores(lexical)
    conf = _confidence(zd, zl)
    d10 = {c.doc_id for c, _ in dense[:10]}
    l10 = {c.doc_id for c, _ in lexical[:10]}
    return np.array([
        1.0, _gap(zd, dense), _gap(zl, lexical), conf, dense[0][1],
        len(d10 & l10) / max(1, min(len(d10), len(l10))),
        _rank_of(lexical[0][0].id, dense), _rank_of(dense[0][0].id, lexical),
        min(len(query), 60) / 30.0, float(any(ch.isdigit() for ch in query)), cover_gap(query, dense, lexical),
    ], dtype=np.float64)


@dataclass(frozen=True)
class LearnedShare:
    """Dense share = clip(w · features, lo, hi); fitted by ``zhrag fusion-fit`` on training sets only."""

    weights: tuple[float, ...]
    lo: float = 0.0
    hi: float = 1.0
    fitted_on: tuple[str, ...] = ()

    def share(self, x: np.ndarray) -> float:
        return float(min(self.hi, max(self.lo, float(np.dot(self.weights, x)))))

    @staticmethod
    def load(path: Path) -> LearnedShare:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
        if d.get("features") != list(FEATURES):
            raise ValueError(f"{path} was fitted on other features: {d.get('features')}")
        return LearnedShare(tuple(d["weights"]), d.get("lo", 0.0), d.get("hi", 1.0), tuple(d.get("fitted_on", ())))

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps({"features": list(FEATURES), "weights": list(self.weights), "lo": self.lo,
                                          "hi": self.hi, "fitted_on": list(self.fitted_on)}, indent=1) + "\n",
                              encoding="utf-8")


def mix(dense: Sequence[tuple[Chunk, float]], lexical: Sequence[tuple[Chunk, float]], w: float,
        z: tuple[dict[str, float], dict[str, float]] | None = None) -> list[tuple[Chunk, float]]:
    """w · dense z + (1 - w) · BM25 z; a chunk missing from one list gets that list's lowest z.
    ``z``: the two lists' z-scores, when the caller has them already."""
    if not dense or not lexical:
        return list(dense or lexical)
    zd, zl = z or (zscores(dense), zscores(lexical))
    floor_d, floor_l = min(zd.values()), min(zl.values())
    chunks = {c.id: c for c, _ in dense} | {c.id: c for c, _ in lexical}
    fused = {cid: w * zd.get(cid, floor_d) + (1 - w) * zl.get(cid, floor_l) for cid in chunks}
    return [(chunks[cid], fused[cid]) for cid in sorted(fused, key=lambda cid: (-fused[cid], cid))]


def learned_fuse(query: str, dense: Sequence[tuple[Chunk, float]], lexical: Sequence[tuple[Chunk, float]],
                 model: LearnedShare) -> list[tuple[Chunk, float]]:
    if not dense or not lexical:
        return list(dense or lexical)
    return mix(dense, lexical, model.share(fusion_features(query, dense, lexical)))


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


# Dense searches run here while the lexical one runs in the request's thread (see search()).
_DENSE_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="dense-search")


class HybridRetriever:
    """Searches one :class:`~index.store.Store` densely, lexically, or both fused.

    In hybrid and dense mode every hit carries the dense cosine of its chunk (computed
    for BM25-only finds too) so the composer can judge relevance on one absolute scale.
    BM25-only mode never embeds the query. Both candidate lists come from one snapshot
    of the store, under the same filters, applied before either list is cut to size.
    """

    def __init__(self, store: Store, embedder: Embedder, params: FusionParams = FusionParams(),
                 mode: Mode = "hybrid", exclude: Callable[[], Disabled] | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params
        self.mode = mode
        # Articles and chunks staff disabled: dropped from both candidate lists before
        # fusion, so a disabled chunk is never retrieved, never cited, never shown.
        self.exclude = exclude

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        if k <= 0:
            return []
        n = max(k, self.params.candidates)
        qvec = self.embedder.embed_queries([query])[0] if self.mode != "bm25" else None
        with self.store.reading():
            if qvec is not None and self.mode == "hybrid":
                # The two searches overlap (FAISS and SQLite release the GIL): at a million
                # chunks each takes tens of milliseconds. The dense one reads in a snapshot
                # of its own, begun after this one, so it too sees nothing deleted before now.
                pending = _DENSE_POOL.submit(self._dense, qvec, n, filters)
                lexical = self.store.search_lexical(query, n, filters)
                dense = pending.result()
            else:
                dense = self.store.search_dense(qvec, n, filters) if qvec is not None else []
                lexical = self.store.search_lexical(query, n, filters) if self.mode != "dense" else []
            if self.exclude is not None and (off := self.exclude()):
                dense = [(c, s) for c, s in dense if c.doc_id not in off.doc_ids and c.id not in off.chunk_ids]
                lexical = [(c, s) for c, s in lexical if c.doc_id not in off.doc_ids and c.id not in off.chunk_ids]
            top, cosine, bm25 = self._fuse(query, dense, lexical, k)
            missing = [c for c, _ in top if c.id not in cosine]
            if missing and qvec is not None:
                cosine.update(zip([c.id for c in missing], self.store.dense_scores(qvec, missing), strict=True))
        return [Hit(chunk=c, score=s, dense_score=cosine.get(c.id), bm25_score=bm25.get(c.id)) for c, s in top]

    def _dense(self, qvec: np.ndarray, n: int, filters: Filters | None) -> list[tuple[Chunk, float]]:
        with self.store.reading():
            return self.store.search_dense(qvec, n, filters)

    def _fuse(self, query: str, dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]],
              k: int) -> tuple[list[tuple[Chunk, float]], dict[str, float], dict[str, float]]:
        cosine = {c.id: s for c, s in dense}
        bm25 = {c.id: s for c, s in lexical}
        if self.mode == "dense":
            ranked = dense
        elif self.mode == "bm25":
            ranked = lexical
        elif self.params.method == "rrf":
            share = self.params.dense_share
            ranked = rrf_fuse([(2 * share, [c for c, _ in dense]), (2 * (1 - share), [c for c, _ in lexical])],
                              self.params.rrf_k)
        elif self.params.method == "learned" and self.params.model is not None:
            ranked = learned_fuse(query, dense, lexical, self.params.model)
        else:
            ranked = adaptive_fuse(query, dense, lexical, self.params)
        return list(ranked[:k]), cosine, bm25

    def with_mode(self, mode: Mode) -> HybridRetriever:
        return HybridRetriever(self.store, self.embedder, self.params, mode, self.exclude)

    def with_params(self, **changes: Any) -> HybridRetriever:
        return HybridRetriever(self.store, self.embedder, replace(self.params, **changes), self.mode, self.exclude)
