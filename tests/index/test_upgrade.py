"""Upgrades and rebuilds never lose what users added."""

from __future__ import annotations

import json

import faiss
import numpy as np
import pytest

from index.sqlite import SQLiteStore
from index.store import IndexMismatchError
from rag.chunking import ChunkParams, chunk_article
from rag.embedding import HashingEmbedder
from rag.pipeline import load_engine, open_store
from rag.types import Article
from tests.conftest import SEED_PAGE, hashing_settings


def write_format2(directory, articles, emb, *, origin):
    """An index as the previous version saved it (manifest, FAISS, chunks, articles)."""
    directory.mkdir(parents=True)
    index = faiss.IndexIDMap2(faiss.IndexFlatIP(emb.dim))
    chunks = [c for a in articles for c in chunk_article(a, ChunkParams())]
    vecs = emb.embed_documents([c.embedding_text() for c in chunks])
    index.add_with_ids(vecs, np.arange(len(chunks), dtype=np.int64))
    faiss.write_index(index, str(directory / "dense.faiss"))
    with (directory / "chunks.jsonl").open("w", encoding="utf-8") as f:
        for i, c in enumerate(chunks):
            f.write(json.dumps({**c.to_record(), "faiss_id": i}, ensure_ascii=False) + "\n")
    with (directory / "articles.jsonl").open("w", encoding="utf-8") as f:
        for a in articles:
            f.write(json.dumps({"doc_id": a.doc_id, "title": a.title, "text": a.text, "source_path": a.source_path,
                                "meta": dict(a.meta)}, ensure_ascii=False) + "\n")
    (directory / "manifest.json").write_text(json.dumps({
        "format_version": 2, "model": emb.name, "dimension": emb.dim, "origin": origin,
        "chunking": {"size": 300, "overlap": 60}}), encoding="utf-8")
    return vecs


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.documents = 0

    def embed_documents(self, texts, *, progress=False):
        self.documents += len(texts)
        return super().embed_documents(texts, progress=progress)


def test_a_format2_index_is_migrated_without_re_embedding(tmp_path, seed_articles):
    settings = hashing_settings(tmp_path)
    user = Article.make("用户文章", "朝阳区工会举办篮球赛，三十支队伍参赛。", source_path="api", doc_id="u1")
    seeds = [Article.make(a.title, a.text, source_path=SEED_PAGE.name, doc_id=f"s{i}", meta=dict(a.meta))
             for i, a in enumerate(seed_articles)]
    vecs = write_format2(settings.index_dir, [*seeds, user], HashingEmbedder(), origin="seeds")
    emb = CountingEmbedder()
    store = open_store(settings, emb)
    assert emb.documents == 0, "migration re-embedded"
    assert store.stats()["articles"] == len(seeds) + 1 and store.stats()["chunks"] == len(vecs)
    assert SQLiteStore.read_origins(settings.index_dir) == {"seeds": len(seeds), "user": 1}
    assert store.search_lexical("篮球赛", 1)[0][0].doc_id == "u1"
    assert (settings.index_dir / "legacy-v2" / "articles.jsonl").is_file()
    store.close()


def test_only_a_seeds_only_index_is_rebuilt_for_a_new_model(tmp_path):
    settings = hashing_settings(tmp_path)
    load_engine(settings).close()
    other = hashing_settings(tmp_path, embed_model="hashing:128")
    engine = load_engine(other)  # seeds only: rebuilt for the new model, old file kept aside
    assert engine.store.dim == 128 and engine.store.stats()["articles"] == 6
    assert list(settings.index_dir.glob("zhrag.db.replaced-*"))
    engine.add_articles([Article.make("用户文章", "朝阳区工会举办篮球赛。", doc_id="u1")])
    engine.close()
    with pytest.raises(IndexMismatchError, match="zhrag reindex"):
        load_engine(settings)  # holds a user article now: refused, never rebuilt from seeds
    again = load_engine(other)
    assert again.store.get_article("u1") is not None
    again.close()


def test_reindex_re_embeds_every_article_with_the_new_model(tmp_path, monkeypatch, capsys):
    from rag.cli import main

    monkeypatch.setenv("ZHRAG_EMBED_MODEL", "hashing")
    monkeypatch.setenv("ZHRAG_INDEX_DIR", str(tmp_path / "idx"))
    monkeypatch.setenv("ZHRAG_CACHE_DIR", str(tmp_path / "cache"))
    doc = tmp_path / "new.jsonl"
    doc.write_text(json.dumps({"doc_id": "x1", "title": "新", "text": "朝阳区工会举办篮球赛。"}, ensure_ascii=False),
                   encoding="utf-8")
    assert main(["add", str(doc), "-c", "sports"]) == 0
    monkeypatch.setenv("ZHRAG_EMBED_MODEL", "hashing:128")
    assert main(["ask", "篮球赛"]) == 1
    assert "zhrag reindex" in capsys.readouterr().err
    assert main(["reindex"]) == 0
    assert main(["search", "篮球赛", "--in", "sports"]) == 0
    assert "朝阳区工会举办篮球赛" in capsys.readouterr().out
    assert main(["check"]) == 0
