"""The Milvus backend, against milvus-lite (embedded, no server): the same interface and
the same answers as the embedded store."""

import pytest

from index.store import FunctionAnalyzer
from rag.chunking import ChunkParams
from rag.compose import ComposeParams, ExtractiveComposer
from rag.embedding import HashingEmbedder
from rag.indexing import Indexer
from rag.lexical import analyzer, content_words
from rag.pipeline import answer
from rag.retrieve import HybridRetriever
from rag.types import Article, Filters
from tests.conftest import store_of

pytest.importorskip("milvus_lite")
from index.milvus import PREFIX, MilvusStore, term_token  # noqa: E402

EMB = HashingEmbedder()


@pytest.fixture()
def milvus(tmp_path, seed_articles):
    store = MilvusStore.open(f"milvus-lite://{tmp_path / 'm.db'}", analyzer(), model=EMB.name, dim=EMB.dim)
    Indexer(store, EMB, ChunkParams()).add_articles(list(seed_articles))
    yield store
    store.close()


def test_articles_read_back_exactly_and_are_found_both_ways(milvus, seed_articles):
    assert milvus.stats()["articles"] == 6
    for a in seed_articles:
        got = milvus.get_article(next(i.doc_id for i in milvus.list_articles() if i.title == a.title))
        assert got.text == a.text and got.title == a.title
    (hit, _), *_ = milvus.search_lexical("密云区工匠学院", 3)
    assert hit.title == "密云区总工会多措并举培育高技能人才队伍"
    art = milvus.get_article(hit.doc_id)
    assert art.text[hit.char_start:hit.char_end] == hit.text
    q = EMB.embed_queries(["首开集团工会驿站"])[0]
    assert milvus.search_dense(q, 1)[0][0].title == "首开集团工会高标准打造职工服务阵地"


def test_bm25_ranks_by_the_services_own_terms_as_the_embedded_store_does(tmp_path, milvus, seed_articles):
    """The engine's BM25 runs over the service's analyzer (words + character bigrams), so
    text that jieba cuts across words is still found through its bigrams, and the lexical
    ranking is the embedded store's."""
    ix = Indexer(milvus, EMB, ChunkParams())
    ix.add_articles([Article.make("赛事", "本次比赛由石景山区总工会主办。", doc_id="b1")])
    assert not set(content_words("赛由石")) & set(content_words("赛事\n本次比赛由石景山区总工会主办。"))
    assert [c.doc_id for c, _ in milvus.search_lexical("赛由石", 3)] == ["b1"]  # only its bigrams 赛由, 由石 match
    sqlite = store_of(tmp_path / "sqlite", EMB, seed_articles)
    try:
        for q in ["首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目", "苏家坨镇总工会慰问了哪些单位",
                  "密云区工匠学院怎么运作"]:
            assert [c.title for c, _ in milvus.search_lexical(q, 3)
                    if c.doc_id != "b1"][:2] == [c.title for c, _ in sqlite.search_lexical(q, 2)], q
    finally:
        sqlite.close()


def test_replace_delete_and_filters(milvus):
    ix = Indexer(milvus, EMB, ChunkParams())
    one = Article.make("篮球赛", "朝阳区总工会举办职工篮球赛，三十支队伍参赛。", doc_id="x1", meta={"date": "2024-05-01"})
    ix.add_articles([one], collection="sports")
    ix.add_articles([Article.make("篮球赛", "朝阳区总工会举办职工篮球赛，四十支队伍参赛。", doc_id="x1",
                                  meta={"date": "2024-05-01"})], collection="sports")
    hits = milvus.search_lexical("职工篮球赛", 10)
    assert [c.doc_id for c, _ in hits].count("x1") == 1 and "四十支" in hits[0][0].text
    assert [c.doc_id for c, _ in milvus.search_lexical("职工篮球赛", 10, Filters(collections=("sports",)))] == ["x1"]
    assert milvus.search_lexical("职工篮球赛", 10, Filters(collections=("sports",), date_from="2025-01-01")) == []
    assert milvus.delete(["x1", "nope"]) == ["x1"]
    assert all(c.doc_id != "x1" for c, _ in milvus.search_lexical("职工篮球赛", 10))
    assert milvus.get_article("x1") is None


def test_an_unfinished_write_is_never_served_and_the_next_write_clears_it(milvus):
    """Chunks written without their article row (a write killed midway) are invisible."""
    doc = milvus.list_articles()[0]
    milvus.client.upsert(PREFIX + "chunks", [{
        "chunk_id": "orphan", "doc_id": doc.doc_id, "collection": "default", "col": "", "source": "", "date": 0,
        "char_start": 0, "char_end": 4, "title": doc.title, "text": "孤儿段落孤儿段落", "meta": {},
        "terms": " ".join(map(term_token, milvus.analyzer("孤儿段落孤儿段落"))),
        "vector": EMB.embed_queries(["孤儿段落"])[0].tolist()}])
    assert all(c.id != "orphan" for c, _ in milvus.search_lexical("孤儿段落", 10))
    article = milvus.get_article(doc.doc_id)  # corrected and written again
    Indexer(milvus, EMB, ChunkParams()).add_articles([Article.make(article.title, article.text + "（更正）",
                                                                   doc_id=article.doc_id, meta=dict(article.meta))])
    assert not milvus.client.query(PREFIX + "chunks", filter='chunk_id == "orphan"', output_fields=["chunk_id"])


def test_the_same_questions_get_the_same_cited_answers_on_both_backends(tmp_path, milvus, seed_articles):
    sqlite = store_of(tmp_path / "sqlite", EMB, seed_articles)
    composer = ExtractiveComposer(EMB, ComposeParams(refuse_below=0.0, confident_above=0.0))
    try:
        for q in ["首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目", "苏家坨镇总工会慰问了哪些单位"]:
            got = [answer(q, retriever=HybridRetriever(s, EMB), composer=composer) for s in (sqlite, milvus)]
            assert not got[0].refused
            assert got[0].text == got[1].text, q
            assert [(c.chunk.doc_id, c.chunk.char_start) for c in got[0].citations] == \
                   [(c.chunk.doc_id, c.chunk.char_start) for c in got[1].citations]
    finally:
        sqlite.close()


def test_the_service_runs_on_milvus_when_zhrag_store_names_it(tmp_path):
    """ZHRAG_STORE=milvus-lite://… : an empty store gets the seed page, and questions are answered from it."""
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    engine = load_engine(hashing_settings(tmp_path, store=f"milvus-lite://{tmp_path / 'svc.db'}"))
    try:
        assert isinstance(engine.store, MilvusStore) and engine.store.stats()["articles"] == 6
        # The hashing embedder's cosines are below the real model's refusal threshold: judge the answer without it.
        composer = ExtractiveComposer(engine.embedder, ComposeParams(refuse_below=0.0, confident_above=0.0))
        ans = answer("首开集团建了多少个工会驿站", retriever=engine.retriever, composer=composer)
        assert not ans.refused and "167个工会驿站" in ans.text
        assert not (tmp_path / "index").exists()  # nothing went into the embedded store
    finally:
        engine.close()


def test_bad_configuration_fails_at_start_naming_the_setting(tmp_path, milvus):
    """An unreachable server or collections built for another model stop the service from
    starting, with a message that names ZHRAG_STORE (and ZHRAG_EMBED_MODEL), not at the first question."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from index.store import IndexMismatchError, IndexStoreError
    from tests.conftest import hashing_settings

    app = create_app(hashing_settings(tmp_path, store="milvus://127.0.0.1:1"))
    with pytest.raises(IndexStoreError, match=r"ZHRAG_STORE=milvus://127\.0\.0\.1:1: cannot open Milvus"), \
            TestClient(app):
        pass
    uri = milvus.uri
    milvus.close()
    with pytest.raises(IndexMismatchError, match="ZHRAG_STORE=.*ZHRAG_EMBED_MODEL gives .other. \\(256\\)"):
        MilvusStore.open(uri, analyzer(), model="other", dim=256)
    with pytest.raises(IndexMismatchError, match=r"\(256 dimensions\).*\(16\)"):
        MilvusStore.open(uri, analyzer(), model=EMB.name, dim=16)
    other = FunctionAnalyzer("characters", list)
    with pytest.raises(IndexMismatchError, match="ZHRAG_STORE=.*analysed with .*this version uses 'characters'"):
        MilvusStore.open(uri, other, model=EMB.name, dim=EMB.dim)


def test_a_failed_article_is_reported_and_the_rest_of_the_batch_is_written(tmp_path, seed_articles):
    """Milvus has no transactions: an article it cannot take (a lone surrogate in its text,
    which cannot be encoded for the wire) is reported by id, the others are written, and
    none of its chunks is left behind. (The API and ingest clean text first; this is the
    store's own guard.)"""
    from dataclasses import replace

    from rag.indexing import prepare

    store = MilvusStore.open(f"milvus-lite://{tmp_path / 'm.db'}", analyzer(), model=EMB.name, dim=EMB.dim)
    try:
        a, b, c = (Article.make(x.title, x.text, doc_id=f"doc-{i}") for i, x in enumerate(seed_articles[:3]))
        writes = prepare([a, b, c], EMB, ChunkParams(), collection="default", source_keys=["k"] * 3,
                         hashes=["h"] * 3, origin="user")
        w = writes[1]
        spoil = lambda t: t[:5] + "\ud800" + t[6:]  # noqa: E731  same length: offsets stay right
        writes[1] = replace(w, article=replace(w.article, text=spoil(w.article.text)),
                            chunks=tuple(replace(ch, text=spoil(ch.text)) if ch.char_start == 0 else ch
                                         for ch in w.chunks))
        rep = store.write(writes)
        assert rep.added == 2 and [d for d, _ in rep.failed] == ["doc-1"] and "surrogates not allowed" in rep.failed[0][1]
        assert store.get_article("doc-0") and store.get_article("doc-2") and store.get_article("doc-1") is None
        left = store.client.query(PREFIX + "chunks", filter='doc_id == "doc-1"', output_fields=["chunk_id"])
        assert left == [], "no orphaned chunks"
        assert store.stats()["articles"] == 2
    finally:
        store.close()


def test_migrate_copies_the_embedded_index_without_re_embedding(tmp_path, seed_articles, monkeypatch, capsys):
    """zhrag migrate: the same articles, chunks and vectors in Milvus; a second run changes nothing."""
    from rag.cli import main

    src_dir = tmp_path / "idx"
    sqlite = store_of(src_dir, EMB, seed_articles)
    q = EMB.embed_queries(["首开集团建了多少个工会驿站"])[0]
    want = [(c.id, round(s, 5)) for c, s in sqlite.search_dense(q, 5)]
    n_chunks = sqlite.stats()["chunks"]
    sqlite.close()
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(src_dir))
    uri = f"milvus-lite://{tmp_path / 'migrated.db'}"
    for _ in range(2):
        assert main(["migrate", "--to", uri]) == 0
        assert f"copied 6 articles ({n_chunks} chunks)" in capsys.readouterr().out
    target = MilvusStore.open(uri, analyzer(), model=EMB.name, dim=EMB.dim)
    try:
        assert target.stats()["articles"] == 6 and target.stats()["chunks"] == n_chunks
        assert [(c.id, round(s, 5)) for c, s in target.search_dense(q, 5)] == want, "the same vectors, not new ones"
        for a in seed_articles:
            got = next(i for i in target.list_articles() if i.title == a.title)
            assert target.get_article(got.doc_id).text == a.text
    finally:
        target.close()
    assert main(["migrate", "--to", "postgres://x"]) == 1


def test_the_name_check_reads_milvus_as_it_reads_the_embedded_store(tmp_path, milvus, seed_articles):
    """rag/names.py asks only the store's lexical search: a name the seed page holds is known
    on both backends, one nowhere is not, and an article added later makes it known."""
    from rag.names import NameCheck

    sqlite = store_of(tmp_path / "sqlite", EMB, seed_articles)
    composer = ExtractiveComposer(EMB, ComposeParams(refuse_below=0.0, confident_above=0.0))
    try:
        for store in (sqlite, milvus):
            check = NameCheck(composer, store)
            assert check.unknown_names("长春市总工会设置了多少个竞赛项目", []) == ()  # no passages handed over
            assert check.unknown_names("广茂铁路全长多少公里", []) == ("广茂铁路",)
            Indexer(store, EMB, ChunkParams()).add_articles(
                [Article.make("广茂铁路", "广茂铁路全长364公里，连接广州与茂名。", doc_id="gm")])
            assert check.unknown_names("广茂铁路全长多少公里", []) == ()
            # and the answer's article is read from either store for the names it holds
            assert check.articles_naming(["gm", "nope"], ["广茂"]) == {"gm"}
            assert check.articles_naming(["gm"], ["沪通"]) == set()
    finally:
        sqlite.close()


def test_articles_are_listed_by_their_people_as_the_embedded_store_lists_them(tmp_path, milvus, seed_articles):
    embedded = store_of(tmp_path / "kb", EMB, seed_articles)
    for person in ("刘欣欣", "宗晓畅", "高岩", "王路曼", "首开"):
        assert sorted(i.title for i in milvus.list_articles(person=person)) == \
               sorted(i.title for i in embedded.list_articles(person=person)), person
    assert milvus.list_articles(person="宗晓畅", title_contains="业工")[0].title == "“业工融合”助力企业发展"
    embedded.close()
