from dataclasses import replace

import pytest

from rag.embedding import HashingEmbedder
from rag.retrieve import HybridRetriever, rrf_fuse
from rag.types import Chunk
from tests.conftest import store_of


def _c(i: str) -> Chunk:
    return Chunk(id=i, doc_id=i, title="", text=i, char_start=0, char_end=1)


def test_rrf_matches_hand_computation():
    a, b, c = _c("a"), _c("b"), _c("c")
    fused = rrf_fuse([(1.0, [a, b]), (2.0, [b, c])], rrf_k=60)
    got = {ch.id: s for ch, s in fused}
    assert got["a"] == pytest.approx(1 / 61)
    assert got["b"] == pytest.approx(1 / 62 + 2 / 61)
    assert got["c"] == pytest.approx(2 / 62)
    assert [ch.id for ch, _ in fused] == ["b", "c", "a"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_each_mode_finds_the_article_by_its_words(seed_articles, mode, tmp_path):
    emb = HashingEmbedder()
    r = HybridRetriever(store_of(tmp_path, emb, seed_articles), emb, mode=mode)
    hits = r.search("长春市总工会设置竞赛项目多少个", 3)
    assert hits[0].chunk.title.startswith("长春市总工会")
    # BM25-only search never embeds the query; the other modes score every hit by cosine.
    assert all((h.dense_score is None) == (mode == "bm25") for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_adaptive_fusion_by_hand():
    import numpy as np

    from rag.retrieve import FusionParams, adaptive_fuse

    a, b, c = _c("a"), _c("b"), _c("c")
    dense = [(a, 0.9), (b, 0.8), (c, 0.7)]  # z = +1.2247, 0, -1.2247
    lexical = [(b, 10.0), (c, 0.0)]  # z = +1, -1; a missing -> floor -1
    zd = 1.224744871391589
    conf = (zd - 1.0) / (zd + 1.0)
    p = FusionParams(dense_share=0.7, gain=1.0, cover_gain=0.0, min_share=0.4, max_share=0.9)
    w = 0.7 + conf  # within [0.4, 0.9]
    fused = dict((ch.id, s) for ch, s in adaptive_fuse("a", dense, lexical, p))
    assert fused["a"] == pytest.approx(w * zd + (1 - w) * -1)
    assert fused["b"] == pytest.approx(w * 0 + (1 - w) * 1)
    assert fused["c"] == pytest.approx(w * -zd + (1 - w) * -1)
    # With the gain off, the share is the base share exactly.
    fixed = dict((ch.id, s) for ch, s in adaptive_fuse("a", dense, lexical, replace(p, gain=0.0)))
    assert fixed["b"] == pytest.approx(0.3)
    assert np.isclose(fixed["a"], 0.7 * zd - 0.3)
    # One empty list: the other is returned as it is.
    assert adaptive_fuse("a", dense, [], FusionParams()) == dense
    with pytest.raises(ValueError):
        FusionParams(dense_share=0.95)
    # The query's words: dense's top hit "x" holds the one word of query "x", BM25's "b" does
    # not, so the share moves towards dense by cover_gain; with query "b" away from it; with
    # a word neither holds, not at all.
    from rag.retrieve import cover_gap

    x = _c("x")
    dense = [(x, 0.9), (b, 0.8), (c, 0.7)]
    assert (cover_gap("x", dense, lexical), cover_gap("b", dense, lexical), cover_gap("z", dense, lexical)) == (1, -1, 0)
    towards = dict((ch.id, s) for ch, s in adaptive_fuse("x", dense, lexical, replace(p, gain=0.0, cover_gain=0.1)))
    assert towards["b"] == pytest.approx(1 - 0.8)
    # The default: base share 0.65, a quarter of the confidence and three quarters of the gap,
    # clamped to [0.3, 0.9] (0.65 + 0.03 - 0.75 is under the floor).
    d = FusionParams()
    assert (d.dense_share, d.gain, d.cover_gain, d.min_share, d.max_share) == (0.65, 0.25, 0.75, 0.3, 0.9)
    fused = dict((ch.id, s) for ch, s in adaptive_fuse("b", dense, lexical, d))
    assert fused["b"] == pytest.approx(1 - 0.3)
    fused = dict((ch.id, s) for ch, s in adaptive_fuse("z", dense, lexical, d))
    assert fused["b"] == pytest.approx(1 - (0.65 + 0.25 * conf))


def test_the_settings_default_to_the_fitted_fusion(monkeypatch):
    """Settings repeat FusionParams' fitted numbers (importing rag.retrieve there would pull in
    FAISS at start-up); a refit must change both."""
    from rag.retrieve import FusionParams
    from rag.settings import Settings

    for name in ("ZHRAG_FUSION", "ZHRAG_CANDIDATES", "ZHRAG_DENSE_SHARE", "ZHRAG_FUSION_GAIN",
                 "ZHRAG_FUSION_COVER_GAIN", "ZHRAG_RRF_K"):
        monkeypatch.delenv(name, raising=False)
    assert Settings().fusion_params() == FusionParams()


def test_learned_fusion_reads_its_model_and_ranks(seed_articles, tmp_path):
    from rag.retrieve import FEATURES, LearnedShare
    from rag.settings import PROJECT_ROOT

    model = LearnedShare.load(PROJECT_ROOT / "rag" / "fusion_model.json")
    assert len(model.weights) == len(FEATURES) and model.fitted_on  # the shipped model says what it was fitted on
    emb = HashingEmbedder()
    base = HybridRetriever(store_of(tmp_path, emb, seed_articles), emb)
    learned = base.with_params(method="learned", model=model)
    hits = learned.search("长春市总工会设置竞赛项目多少个", 3)
    assert hits[0].chunk.title.startswith("长春市总工会")
    # All BM25 (share 0) ranks as BM25 alone does; all dense (share 1) as dense alone.
    bm25_only = base.with_params(method="learned", model=LearnedShare((0.0,) * len(FEATURES)))
    assert [h.chunk.id for h in bm25_only.search("首开集团工会驿站", 5)] == \
           [h.chunk.id for h in base.with_mode("bm25").search("首开集团工会驿站", 5)]
