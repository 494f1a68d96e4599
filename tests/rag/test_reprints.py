"""Reprints: the same story from two sources is indexed once and the other source recorded on it."""

from __future__ import annotations

from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.indexing import Indexer
from rag.reprints import THRESHOLD, ReprintIndex, signature, similarity
from rag.types import Article
from tests.conftest import store_of

EMB = HashingEmbedder()


def reprint_of(a: Article, doc_id: str, source: str) -> Article:
    """What another paper prints: another headline word, its own byline, a re-typeset text
    (spaces and punctuation changed) and a 转自 line."""
    text = "（本报综合）" + a.text.replace("，", ", ").replace("。", "．") + "（转自《劳动午报》）"
    return Article.make(a.title + "（转载）", text, doc_id=doc_id, meta={"source": source, "date": "2025-02-01"})


def test_a_reprint_is_similar_and_another_story_on_the_topic_is_not(seed_articles):
    a, b = seed_articles[0], seed_articles[1]
    sig_a = signature(a.text)
    assert similarity(sig_a, signature(reprint_of(a, "x", "s").text)) >= THRESHOLD
    for other in seed_articles[1:]:  # union news from the same page: same words, other stories
        assert similarity(sig_a, signature(other.text)) < 0.3
    assert signature("短讯：会议召开。") is None, "too short to call a reprint"
    idx = ReprintIndex()
    idx.add(a.doc_id, a.text)
    idx.add(b.doc_id, b.text)
    assert idx.find(reprint_of(a, "x", "s").text)[0] == a.doc_id
    assert idx.find(a.text, exclude=a.doc_id) is None
    idx.remove(a.doc_id)
    assert idx.find(a.text) is None


def test_a_reprint_is_recorded_on_the_indexed_article_not_indexed_again(tmp_path, seed_articles):
    store = store_of(tmp_path / "idx", EMB, seed_articles)
    indexer = Indexer(store, EMB, ChunkParams(), reprints=True)
    a = seed_articles[0]
    copy = reprint_of(a, "wuribao-1", "劳动午报")
    fresh = Article.make("朝阳区快递员暖心驿站建成", "朝阳区总工会在全区建成二十个快递员暖心驿站，冬季为快递员提供热水、"
                         "充电和休息场所，并组织志愿者定期上门服务，受到快递小哥欢迎。" * 2, doc_id="fresh-1")
    kept_id = next(i.doc_id for i in store.list_articles() if i.title == a.title)
    rep = indexer.add_articles([copy, fresh])
    assert rep.added == 2 and len(rep.reprints) == 1 and "wuribao-1" in rep.reprints[0]
    assert rep.replaced == 1, "the indexed article was rewritten to list its reprint"
    kept = store.get_article(kept_id)
    assert kept.text == a.text and kept.meta["reprints"] == [
        {"doc_id": "wuribao-1", "title": copy.title, "source": "劳动午报", "date": "2025-02-01"}]
    record = store.get_article("wuribao-1")
    assert record.text == copy.text and record.meta["reprint_of"] == kept_id
    assert store.chunks_of("wuribao-1") == [] and len(store.chunks_of(kept_id)) >= 1
    assert store.chunks_of("fresh-1"), "a new story is indexed"
    hits = store.search_lexical("首开集团 工会 职工服务阵地", 50)
    assert kept_id in {c.doc_id for c, _ in hits} and "wuribao-1" not in {c.doc_id for c, _ in hits}

    again = indexer.add_articles([copy])
    assert again.unchanged == 1 and again.added == 0
    # A second reprint is listed beside the first; a fresh indexer reads the store to find them.
    rep2 = Indexer(store, EMB, ChunkParams(), reprints=True).add_articles([reprint_of(a, "gongren-7", "工人日报")])
    assert len(rep2.reprints) == 1
    assert [r["doc_id"] for r in store.get_article(kept_id).meta["reprints"]] == ["wuribao-1", "gongren-7"]


def test_two_copies_in_one_batch_are_indexed_once(tmp_path, seed_articles):
    store = store_of(tmp_path / "idx", EMB, [])
    a = seed_articles[2]
    rep = Indexer(store, EMB, ChunkParams(), reprints=True).add_articles(
        [Article.make(a.title, a.text, doc_id="first", meta={"source": "北京工人报"}), reprint_of(a, "second", "劳动午报")])
    assert len(rep.reprints) == 1
    assert store.get_article("first").meta["reprints"][0]["doc_id"] == "second"
    assert store.chunks_of("second") == [] and store.chunks_of("first")


def test_without_reprint_detection_both_are_indexed(tmp_path, seed_articles):
    store = store_of(tmp_path / "idx", EMB, [])
    a = seed_articles[2]
    rep = Indexer(store, EMB, ChunkParams()).add_articles([a, reprint_of(a, "second", "劳动午报")])
    assert rep.added == 2 and not rep.reprints and store.chunks_of("second")


def test_a_template_report_with_other_figures_is_not_a_reprint():
    """Daily reports share their wording and differ in the figures: each is its own story."""
    def report(day: int, amount: float, price: float) -> str:
        return (f"截至2023年8月{day}日收盘，同兴环保（003027）报收于{price}元，当日主力资金净卖出{amount}万元，"
                f"占总成交额{day % 7 + 3}%，游资资金净流入{amount / 3:.2f}万元，散户资金净流入{amount / 4:.2f}万元。"
                "该股近5日资金流向一览见下表。以上内容由证券之星根据公开信息整理，与本站立场无关。"
                "证券之星力求但不保证该信息全部或者部分内容的准确性，不构成投资建议，股市有风险，投资需谨慎。")

    idx = ReprintIndex()
    idx.add("aug10", report(10, 202.75, 12.31))
    assert idx.find(report(18, 50.47, 11.86)) is None
    assert idx.find(report(10, 202.75, 12.31).replace("，", ", "))[0] == "aug10"
