"""8 threads search while another adds, replaces and deletes: no exception, no duplicate
chunk, no article deleted before a search began, and one version of each article per result."""

from __future__ import annotations

import re
import threading
import time

from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.indexing import Indexer
from rag.pipeline import build_store
from rag.retrieve import HybridRetriever
from rag.types import Article

EMB = HashingEmbedder()


def doc(doc_id: str, version: int) -> Article:
    text = "".join(f"朝阳区工会驿站第{i}段服务户外劳动者，版本{version}。" for i in range(30))
    return Article.make("工会驿站", text, doc_id=doc_id)


def test_searches_during_writes_are_consistent(tmp_path, seed_articles):
    store = build_store(tmp_path / "idx", EMB, ChunkParams(), fill=lambda s: Indexer(s, EMB, ChunkParams())
                        .add_articles(list(seed_articles)))
    indexer = Indexer(store, EMB, ChunkParams())
    retriever = HybridRetriever(store, EMB)
    deleted_at: dict[str, float] = {}
    errors: list[BaseException] = []
    stop = threading.Event()
    results: list[tuple[float, list]] = []

    def writer() -> None:
        n = 0
        try:
            while not stop.is_set():
                n += 1
                indexer.add_articles([doc(f"w{n}", 1)])
                indexer.add_articles([doc(f"w{n}", 2)])  # replace
                if n > 1:
                    store.delete([f"w{n - 1}"])
                    deleted_at[f"w{n - 1}"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    def reader() -> None:
        try:
            while not stop.is_set():
                began = time.monotonic()
                hits = retriever.search("朝阳区工会驿站服务户外劳动者", 20)
                results.append((began, hits))
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert len(results) > 50 and len(deleted_at) > 3
    assert sum(any(h.chunk.doc_id.startswith("w") for h in hits) for _, hits in results) > 10
    for began, hits in results:
        ids = [h.chunk.id for h in hits]
        assert len(ids) == len(set(ids)), "a chunk appeared twice"
        for h in hits:
            gone = deleted_at.get(h.chunk.doc_id)
            assert gone is None or gone > began, f"{h.chunk.doc_id} was deleted before the search began"
        versions: dict[str, set[str]] = {}
        for h in hits:
            versions.setdefault(h.chunk.doc_id, set()).update(re.findall(r"版本(\d)", h.chunk.text))
        assert all(len(v) <= 1 for v in versions.values()), "two versions of one article in one result"
    store.close()
