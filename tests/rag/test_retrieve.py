import pytest

from index.store import build_index
from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.retrieve import HybridRetriever, rrf_fuse
from rag.types import Chunk


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
def test_each_mode_finds_the_article_by_its_words(seed_articles, mode):
    emb = HashingEmbedder()
    r = HybridRetriever(build_index(seed_articles, emb, ChunkParams()), emb, mode=mode)
    hits = r.search("长春市总工会设置竞赛项目多少个", 3)
    assert hits[0].chunk.title.startswith("长春市总工会")
    assert all(h.dense_score is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
