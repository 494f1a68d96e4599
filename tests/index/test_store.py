import json
import sqlite3

import numpy as np
import pytest

from index.sqlite import SQLiteStore
from index.store import (
    ArticleWrite,
    FunctionAnalyzer,
    IndexDamagedError,
    IndexMismatchError,
    IndexNotFoundError,
)
from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.indexing import Indexer, prepare
from rag.lexical import analyzer
from rag.pipeline import build_store
from rag.types import Article, Filters

EMB = HashingEmbedder()
PARAMS = ChunkParams()


def new_store(tmp_path, articles=(), name="idx", **kw):
    return build_store(tmp_path / name, EMB, PARAMS,
                       fill=lambda s: Indexer(s, EMB, PARAMS).add_articles(list(articles), **kw) if articles else None)


def art(doc_id, text, title="标题", **meta):
    return Article.make(title, text, doc_id=doc_id, meta=meta)


@pytest.fixture()
def store(tmp_path, seed_articles):
    s = new_store(tmp_path, seed_articles)
    yield s
    s.close()


def test_reopened_store_finds_the_same_and_chunks_read_back_exactly(tmp_path, store, seed_articles):
    q = EMB.embed_queries(["密云区工匠学院"])[0]
    before_dense = [(c.id, round(s, 5)) for c, s in store.search_dense(q, 5)]
    before_lex = store.search_lexical("密云区工匠学院", 3)
    store.close()
    reopened = SQLiteStore.open(tmp_path / "idx", analyzer(), expect_model=EMB.name, expect_dim=EMB.dim)
    assert [(c.id, round(s, 5)) for c, s in reopened.search_dense(q, 5)] == before_dense
    assert reopened.search_lexical("密云区工匠学院", 3) == before_lex
    assert before_lex[0][0].title == "密云区总工会多措并举培育高技能人才队伍"
    for c, _ in reopened.search_dense(q, 50):  # every chunk's text is its article's span
        a = reopened.get_article(c.doc_id)
        assert a is not None and a.text[c.char_start:c.char_end] == c.text
    assert reopened.stats()["articles"] == len(seed_articles)
    reopened.close()


def test_mismatched_or_missing_index_is_refused(tmp_path, store):
    d = tmp_path / "idx"
    with pytest.raises(IndexMismatchError, match="built with model"):
        SQLiteStore.open(d, analyzer(), expect_model="some-other-model")
    with pytest.raises(IndexMismatchError, match="dimension"):
        SQLiteStore.open(d, analyzer(), expect_dim=768)
    with pytest.raises(IndexMismatchError, match="check --repair"):
        SQLiteStore.open(d, FunctionAnalyzer("whitespace", str.split))
    with pytest.raises(IndexNotFoundError, match="zhrag build"):
        SQLiteStore.open(tmp_path / "nothing-here", analyzer())


def test_add_replace_delete_leave_no_duplicates(store, seed_articles):
    indexer = Indexer(store, EMB, PARAMS)
    n_chunks = store.stats()["chunks"]
    rep = indexer.add_articles([art("new-1", "朝阳区总工会举办职工篮球赛，共有三十支队伍参赛。")])
    assert (rep.added, rep.chunks) == (1, 1)
    assert store.search_lexical("朝阳区 篮球赛", 1)[0][0].doc_id == "new-1"
    rep = indexer.add_articles([art("new-1", "朝阳区总工会举办职工足球赛。")])
    assert rep.replaced == 1 and store.stats()["chunks"] == n_chunks + 1
    assert store.search_lexical("篮球", 5) == []  # the replaced text is gone from the lexical index too
    rep = indexer.add_articles([art("new-1", "朝阳区总工会举办职工足球赛。")])
    assert rep.unchanged == 1 and rep.chunks == 0  # identical: not re-embedded
    victim = store.list_articles()[1].doc_id
    assert store.delete([victim, "unknown"]) == [victim]
    q = EMB.embed_queries(["密云区工匠学院"])[0]
    assert all(c.doc_id != victim for c, _ in store.search_dense(q, 100))
    assert all(c.doc_id != victim for c, _ in store.search_lexical("密云区 工匠学院", 100))
    assert store.get_article(victim) is None
    assert store.check() == []


def test_an_id_given_twice_in_one_batch_keeps_the_last(store):
    rep = Indexer(store, EMB, PARAMS).add_articles([art("dup", "第一版内容。"), art("dup", "第二版内容，以此为准。")])
    assert rep.duplicates == ("dup",) and rep.added == 1
    assert store.get_article("dup").text == "第二版内容，以此为准。"
    assert [c.doc_id for c, _ in store.search_lexical("第二版", 10)] == ["dup"]


@pytest.mark.parametrize("bad", ["坏\ud800字", "空\x00字"])
def test_an_unstorable_character_is_refused_and_nothing_is_lost(store, bad):
    before = store.stats()
    with pytest.raises(ValueError, match="surrogate|NUL"):
        Indexer(store, EMB, PARAMS).add_articles([art("good", "一篇正常的文章。"), art("bad", bad)])
    assert store.stats()["articles"] == before["articles"] and store.get_article("good") is None
    assert store.check() == []


def test_an_empty_store_finds_nothing(tmp_path):
    s = new_store(tmp_path)
    assert s.search_dense(np.ones(EMB.dim, np.float32), 5) == []
    assert s.search_lexical("任何", 5) == []
    assert s.stats()["articles"] == 0


def test_filters_apply_before_the_top_k(tmp_path):
    docs = [art(f"a{i}", f"工会驿站建设第{i}期报道，工会驿站为户外劳动者服务。", column="北京经验" if i % 2 else "他山之石",
                source="中工网" if i < 10 else "北京日报", date=f"2025-01-{i + 1:02d}") for i in range(30)]
    s = new_store(tmp_path)
    ix = Indexer(s, EMB, PARAMS)
    ix.add_articles(docs[:20])
    ix.add_articles(docs[20:], collection="archive")
    q = EMB.embed_queries(["工会驿站"])[0]
    cases = [
        (Filters(collections=("archive",)), {f"a{i}" for i in range(20, 30)}),
        (Filters(columns=("北京经验",)), {f"a{i}" for i in range(30) if i % 2}),
        (Filters(sources=("中工网",)), {f"a{i}" for i in range(10)}),
        (Filters(date_from="2025-01-05", date_to="2025-01-07"), {"a4", "a5", "a6"}),
        (Filters(collections=("archive",), columns=("他山之石",)), {f"a{i}" for i in range(20, 30) if i % 2 == 0}),
        (Filters(collections=("no-such-collection",)), set()),
    ]
    for flt, allowed in cases:
        # k is far below the number of matching chunks overall: filtering after the cut would lose them.
        k = max(1, len(allowed))
        dense = {c.doc_id for c, _ in s.search_dense(q, k, flt)}
        lexical = {c.doc_id for c, _ in s.search_lexical("工会驿站", k, flt)}
        assert dense == allowed and lexical == allowed, flt
    assert {a.doc_id for a in s.list_articles(filters=Filters(collections=("archive",)))} == \
           {f"a{i}" for i in range(20, 30)}
    assert s.stats()["collections"] == {"default": 20, "archive": 10}


def test_re_ingesting_an_edited_file_replaces_it_and_an_unchanged_one_is_skipped(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("## 甲文章\n朝阳区工会开展篮球赛，三十支队伍参赛。\n\n## 乙文章\n海淀区工会举办读书会。\n", encoding="utf-8")
    s = new_store(tmp_path)
    ix = Indexer(s, EMB, PARAMS)
    first = ix.add_paths([page])
    assert first.added == 2
    assert ix.add_paths([tmp_path / "." / "page.txt"]).unchanged == 1  # same file by another path
    page.write_text("## 甲文章\n朝阳区工会开展足球赛，四十支队伍参赛。\n", encoding="utf-8")
    rep = ix.add_paths([page])
    assert (rep.added, rep.replaced, rep.removed) == (0, 1, 1)
    assert s.stats()["articles"] == 1
    assert "足球赛" in s.get_article(first.doc_ids[0]).text


def test_a_bad_file_in_a_folder_is_reported_and_the_rest_go_in(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text("## 好文章\n朝阳区工会开展篮球赛。\n", encoding="utf-8")
    (folder / "b.jsonl").write_text('{"title": "坏", "text": 5}\n', encoding="utf-8")
    (folder / "c.txt").write_bytes("## 坏\n".encode("gbk") + b"\xff\xfe\xfd")
    s = new_store(tmp_path)
    rep = Indexer(s, EMB, PARAMS).add_paths([folder])
    assert rep.added == 1 and {e.path.rsplit("/", 1)[-1] for e in rep.errors} == {"b.jsonl", "c.txt"}


def test_another_connection_sees_committed_changes_at_its_next_search(tmp_path):
    writer = new_store(tmp_path)
    reader = SQLiteStore.open(tmp_path / "idx", analyzer())
    q = EMB.embed_queries(["朝阳区篮球赛"])[0]
    assert reader.search_dense(q, 5) == []
    Indexer(writer, EMB, PARAMS).add_articles([art("x", "朝阳区工会举办篮球赛。")])
    assert [c.doc_id for c, _ in reader.search_dense(q, 5)] == ["x"]
    writer.delete(["x"])
    assert reader.search_dense(q, 5) == [] and reader.search_lexical("篮球", 5) == []


def _corrupt_vector(path):
    conn = sqlite3.connect(path)
    conn.execute("UPDATE chunks SET vector = randomblob(length(vector)) WHERE id = (SELECT min(id) FROM chunks)")
    conn.commit()
    conn.close()


def test_damage_is_detected_and_named_never_served(tmp_path, seed_articles):
    s = new_store(tmp_path, seed_articles)
    s.close()
    db = tmp_path / "idx" / "zhrag.db"
    _corrupt_vector(db)
    with pytest.raises(IndexDamagedError, match="checksum.*zhrag backup"):
        SQLiteStore.open(tmp_path / "idx", analyzer())
    # An orphaned chunk (its article row lost).
    s2 = new_store(tmp_path, seed_articles, name="idx2")
    s2.close()
    conn = sqlite3.connect(tmp_path / "idx2" / "zhrag.db")
    conn.execute("DELETE FROM articles WHERE id = 1")
    conn.commit()
    conn.close()
    with pytest.raises(IndexDamagedError, match="belong to no article"):
        SQLiteStore.open(tmp_path / "idx2", analyzer())
    # Garbage where the database's pages are.
    raw = bytearray((tmp_path / "idx2" / "zhrag.db").read_bytes())
    raw[:100] = b"\x13" * 100
    (tmp_path / "idx2" / "zhrag.db").write_bytes(bytes(raw))
    with pytest.raises(IndexDamagedError, match="damaged"):
        SQLiteStore.open(tmp_path / "idx2", analyzer())


def test_store_refuses_chunks_that_do_not_match_their_article(store):
    a = art("m", "一段文字。")
    (w,) = prepare([a], EMB, PARAMS, collection="default", source_keys=["x"], hashes=["h"], origin="user")
    bad = ArticleWrite(a, tuple(c.__class__(**{**c.__dict__, "text": "别的"}) for c in w.chunks), w.vectors)
    with pytest.raises(ValueError, match="does not match"):
        store.write([bad])


def test_backup_is_a_consistent_openable_copy(tmp_path, store, seed_articles):
    (tmp_path / "copy").mkdir()
    store.backup(tmp_path / "copy" / "zhrag.db")
    copy = SQLiteStore.open(tmp_path / "copy", analyzer())
    assert copy.stats()["articles"] == len(seed_articles) and copy.check() == []


def test_rebuild_lexical_restores_search(store):
    before = store.search_lexical("首开集团 工会驿站", 3)
    assert store.rebuild_lexical() == store.stats()["chunks"]
    assert store.search_lexical("首开集团 工会驿站", 3) == before and store.check() == []


def test_manifest_facts_are_recorded(store):
    assert store.model == EMB.name and store.dim == EMB.dim
    assert json.loads(store.meta["chunking"]) == {"size": 300, "overlap": 60}
    assert store.meta["analyzer"].startswith("jieba-")


def test_quantized_dense_index_ranks_like_the_flat_one(tmp_path, store):
    """Above the size threshold the dense index holds 8-bit codes; re-scoring exactly keeps the ranking."""
    flat = SQLiteStore.open(tmp_path / "idx", analyzer())
    small = SQLiteStore.open(tmp_path / "idx", analyzer(), quantize_above=0)
    assert small._dense.approximate and not flat._dense.approximate
    for question in ["密云区工匠学院", "首开集团工会驿站", "长春市竞赛项目", "东城区劳模疗休养"]:
        q = EMB.embed_queries([question])[0]
        assert [c.id for c, _ in small.search_dense(q, 5)] == [c.id for c, _ in flat.search_dense(q, 5)]
    Indexer(small, EMB, PARAMS).add_articles([art("q1", "朝阳区工会举办篮球赛，三十支队伍参赛。")])
    q = EMB.embed_queries(["朝阳区工会举办篮球赛"])[0]
    assert small.search_dense(q, 1)[0][0].doc_id == "q1"
    small.delete(["q1"])
    assert all(c.doc_id != "q1" for c, _ in small.search_dense(q, 20))
    assert [c.doc_id for c, _ in small.search_dense(q, 3, Filters(collections=("nope",)))] == []


def _ranked(store, questions):
    return [[c.id for c, _ in store.search_dense(EMB.embed_queries([q])[0], 5)] for q in questions]


def test_big_dense_index_is_saved_read_back_and_never_used_when_it_does_not_match(tmp_path, store, caplog):
    """The inverted file is saved beside the database; opening reads it and replays later
    changes; a damaged copy, or one of another database, is rebuilt instead of served."""
    directory = tmp_path / "idx"
    questions = ["密云区工匠学院", "首开集团工会驿站", "长春市竞赛项目", "朝阳区工会举办篮球赛"]
    caplog.set_level("INFO", logger="index")
    big = SQLiteStore.open(directory, analyzer(), quantize_above=0)
    snapshot = big.snapshot_path
    assert snapshot.is_file() and "built" in caplog.text
    Indexer(big, EMB, PARAMS).add_articles([art("q1", "朝阳区工会举办篮球赛，三十支队伍参赛。")])
    gone = store.list_articles()[0].doc_id
    big.delete([gone])
    big.close()

    def reopen():
        caplog.clear()
        s = SQLiteStore.open(directory, analyzer(), quantize_above=0)
        flat = SQLiteStore.open(directory, analyzer())
        try:
            assert _ranked(s, questions) == _ranked(flat, questions)
            assert {c.doc_id for q in questions for c, _ in s.search_dense(EMB.embed_queries([q])[0], 50)} \
                   >= {"q1"} and gone not in {c.doc_id for c, _ in s.search_dense(EMB.embed_queries(["工会"])[0], 50)}
            assert len(s._dense) == flat.stats()["chunks"]
        finally:
            s.close()
            flat.close()
        return caplog.text

    assert "read from its snapshot" in reopen()  # the saved index plus the replayed add and delete

    data = bytearray(snapshot.read_bytes())
    data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    snapshot.write_bytes(bytes(data))
    text = reopen()
    assert "is not used" in text and "crc" in text.lower() and "built" in text
    assert "read from its snapshot" in reopen()  # rewritten whole

    store.backup(tmp_path / "copy" / "zhrag.db") if (tmp_path / "copy").mkdir() is None else None
    (tmp_path / "copy" / "zhrag.db.dense").write_bytes(snapshot.read_bytes())
    caplog.clear()
    SQLiteStore.open(tmp_path / "copy", analyzer(), quantize_above=0).close()
    assert "another database" in caplog.text


def test_terms_in_most_chunks_are_left_out_of_the_lexical_query(tmp_path):
    """A term in more than MAX_TERM_SHARE of chunks is not scored; a query made only of
    such terms keeps its rarest ones, so it still finds something."""
    common = [art(f"c{i}", f"职工活动第{i}期在朝阳区举行。") for i in range(1100)]
    rare = art("rare", "密云区工匠学院在职工活动中授课。")
    s = new_store(tmp_path, [*common, rare])
    try:
        terms = s.query_terms("密云区工匠学院的职工活动")
        assert "职工" not in terms and "活动" not in terms and "密云" in terms
        assert s.search_lexical("密云区工匠学院的职工活动", 1)[0][0].doc_id == "rare"
        only_common = s.query_terms("职工活动")
        assert only_common and set(only_common) <= set(s.analyzer("职工活动"))
        assert s.search_lexical("职工活动", 3)
        s.max_term_share = 1.0
        assert "职工" in s.query_terms("密云区工匠学院的职工活动")
    finally:
        s.close()


def test_a_long_running_store_saves_its_big_dense_index_as_it_goes(tmp_path, store, monkeypatch):
    import time

    import index.sqlite
    from index.dense import IVFDenseIndex

    big = SQLiteStore.open(tmp_path / "idx", analyzer(), quantize_above=0)
    try:
        saved_seq = IVFDenseIndex.load(big.snapshot_path)[1]["seq"]
        monkeypatch.setattr(index.sqlite, "SNAPSHOT_STALE_ROWS", 3)
        Indexer(big, EMB, PARAMS).add_articles([art(f"n{i}", f"朝阳区工会第{i}次活动，参赛职工{i}人。" * 20)
                                                for i in range(3)])
        deadline = time.time() + 30
        while IVFDenseIndex.load(big.snapshot_path)[1]["seq"] == saved_seq and time.time() < deadline:
            time.sleep(0.05)
        assert IVFDenseIndex.load(big.snapshot_path)[1]["seq"] == big.stats()["seq"] > saved_seq
    finally:
        big.close()


def test_articles_are_listed_by_the_people_their_metadata_names(tmp_path, seed_articles):
    """A reporter's name stands in the dateline, which ingest keeps as metadata, not text."""
    from tests.conftest import store_of

    store = store_of(tmp_path / "kb", HashingEmbedder(), seed_articles)
    by = {p: sorted(i.title for i in store.list_articles(person=p)) for p in ("刘欣欣", "宗晓畅", "高岩", "首开")}
    assert by["刘欣欣"] == ["首开集团工会高标准打造职工服务阵地"]
    assert by["宗晓畅"] == ["“业工融合”助力企业发展", "海淀区苏家坨镇总工会开展情暖职工慰问活动"]
    assert by["高岩"] == ["“业工融合”助力企业发展"]  # a correspondent of the photo credit
    assert by["首开"] == []  # names match whole, not inside a title or text
    # with the other listing conditions
    assert store.list_articles(person="宗晓畅", title_contains="业工") == store.list_articles(person="高岩")
    assert store.list_articles(person="宗晓畅", filters=Filters(collections=("archive",))) == []
    store.close()
