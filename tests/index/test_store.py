import json

import numpy as np
import pytest

from index.store import IndexMismatchError, IndexNotFoundError, IndexStore, build_index
from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.types import Article


@pytest.fixture()
def store(seed_articles):
    return build_index(seed_articles, HashingEmbedder(), ChunkParams())


def test_save_and_load_round_trip(tmp_path, store, seed_articles):
    emb = HashingEmbedder()
    store.save(tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert manifest["model"] == emb.name and manifest["dimension"] == emb.dim
    assert manifest["counts"] == {"articles": len(seed_articles), "chunks": len(store.chunks)}
    assert manifest["normalized"] is True and "faiss-cpu" in manifest["versions"]
    loaded = IndexStore.load(tmp_path / "idx", expect_model=emb.name, expect_dim=emb.dim)
    q = emb.embed_queries(["密云区工匠学院"])[0]
    assert [(c.id, round(s, 5)) for c, s in loaded.search_dense(q, 5)] == \
           [(c.id, round(s, 5)) for c, s in store.search_dense(q, 5)]
    assert loaded.search_lexical("密云区工匠学院", 3) == store.search_lexical("密云区工匠学院", 3)
    assert set(loaded.articles) == set(store.articles)


def test_loading_with_another_model_is_refused(tmp_path, store):
    store.save(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="built with model"):
        IndexStore.load(tmp_path / "idx", expect_model="some-other-model")
    with pytest.raises(IndexMismatchError, match="dimension"):
        IndexStore.load(tmp_path / "idx", expect_dim=768)
    with pytest.raises(IndexMismatchError):
        store.add_articles([Article.make("t", "文本。")], HashingEmbedder(64))
    with pytest.raises(IndexNotFoundError, match="zhrag build"):
        IndexStore.load(tmp_path / "nothing-here")


def test_add_replace_and_delete(store, seed_articles):
    emb = HashingEmbedder()
    n_chunks = len(store.chunks)
    new = Article.make("新文章", "朝阳区总工会举办职工篮球赛，共有三十支队伍参赛。", doc_id="new-1")
    rep = store.add_articles([new], emb)
    assert rep.articles_added == 1 and rep.chunks_added == 1
    assert store.search_lexical("朝阳区 篮球赛", 1)[0][0].doc_id == "new-1"
    # Same doc_id again replaces rather than duplicates.
    rep = store.add_articles([Article.make("新文章", "朝阳区总工会举办职工足球赛。", doc_id="new-1")], emb)
    assert rep.articles_replaced == 1 and len(store.chunks) == n_chunks + 1
    victim = seed_articles[1].doc_id
    assert store.delete_documents([victim, "unknown"]) == 1
    assert all(c.doc_id != victim for c in store.chunks)
    q = emb.embed_queries(["密云区工匠学院"])[0]
    assert all(c.doc_id != victim for c, _ in store.search_dense(q, 50))
    assert all(c.doc_id != victim for c, _ in store.search_lexical("密云区 工匠学院", 50))
    assert store.stats()["articles"] == len(seed_articles)


def test_empty_index_searches_return_nothing():
    store = IndexStore("m", 8, ChunkParams())
    assert store.search_dense(np.ones(8, np.float32), 5) == []
    assert store.search_lexical("任何", 5) == []


def test_a_stale_seed_index_is_rebuilt_but_a_user_index_is_not(tmp_path):
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    settings = hashing_settings(tmp_path)
    load_engine(settings)
    manifest_path = settings.index_dir / "manifest.json"
    m = json.loads(manifest_path.read_text())
    assert m["origin"] == "seeds"
    m["format_version"] = 0
    manifest_path.write_text(json.dumps(m))
    assert load_engine(settings).store.stats()["articles"] == 6
    assert json.loads(manifest_path.read_text())["format_version"] != 0
    m = json.loads(manifest_path.read_text())
    m.update(format_version=0, origin="files")
    manifest_path.write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError):
        load_engine(settings)
