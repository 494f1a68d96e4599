"""The knowledge base on Milvus: for archives that outgrow one machine.

Selected by ``ZHRAG_STORE=milvus://host:19530`` (a server or cluster) or
``ZHRAG_STORE=milvus-lite:///path/file.db`` (embedded, for tests and laptops). Same
:class:`~index.store.Store` interface as the embedded store; storage still knows nothing
of chunking or embedding.

Collections (prefixed ``zhrag_``):

* ``chunks``: one row per chunk: its text, the dense vector, filter fields (collection,
  column, source, date) and its lexical terms, from which Milvus computes the BM25 sparse
  vector, so dense and BM25 search both run inside the engine, under the same filter
  expression. The terms are the service's own analyzer's (jieba words plus character
  bigrams, as the embedded store ranks), each written as a short hash: the engine's
  ``standard`` tokenizer keeps such a token whole, while its ``jieba`` analyzer has no
  bigrams and scored 0.013 MRR@10 below the embedded store on DuReader (eval/RESULTS.md).
* ``articles``: one row per article with its listing facts and the ids of its current
  chunks; the article's text is in ``texts`` (parts of at most ``TEXT_PART_CHARS``, as a
  VARCHAR holds 64 KB).
* ``meta``: the model, dimension and format this database was built with.

Milvus has no multi-collection transactions, so a write is ordered to be safe to retry
and safe to kill: chunks and text first, then the article row (the commit point: it
names the chunks that count), then whatever the old version left. A search keeps only
chunks that their article's row names, so chunks of an unfinished write are never
served, and the next write of that article removes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from index.store import (
    Analyzer,
    ArticleInfo,
    ArticleWrite,
    IndexMismatchError,
    IndexStoreError,
    WriteReport,
    chunk_terms,
    last_of_each,
    query_terms,
)
from index.types import Article, Chunk, Filters, date_key, frozen_meta, names_person

log = logging.getLogger(__name__)

PREFIX = "zhrag_"
FORMAT = "milvus-2"  # 2: BM25 over the service's analyzer (1: the engine's jieba)
CONNECT_TIMEOUT = 10.0  # seconds to reach a Milvus server at start
TEXT_PART_CHARS = 16_000  # up to 48 KB of UTF-8: inside a VARCHAR's 65,535 bytes
BATCH = 500  # rows per insert or query
DUMMY_DIM = 2  # Milvus wants a vector field in every collection; articles and texts carry a dummy one
# 48 bits: three million distinct terms give about 0.02 expected collisions, and one would
# only merge two rare terms' postings.
TERM_HASH_BYTES = 6
MAX_TERMS = 65_535 // (2 * TERM_HASH_BYTES + 1)  # what one VARCHAR holds


def term_token(term: str) -> str:
    """One analyzer term as a token Milvus's ``standard`` tokenizer keeps whole (lower-case hex)."""
    return hashlib.blake2b(term.encode("utf-8"), digest_size=TERM_HASH_BYTES).hexdigest()


def _quote(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


def _in(field: str, values: Sequence[str]) -> str:
    return f"{field} in [{', '.join(_quote(v) for v in values)}]"


class MilvusStore:
    """Articles, chunks and vectors in Milvus (or milvus-lite); see the module docstring."""

    def __init__(self, client: Any, uri: str, meta: dict[str, str], analyzer: Analyzer) -> None:
        self.client = client
        self.uri = uri
        self.meta = meta
        self.model = meta["model"]
        self.dim = int(meta["dimension"])
        self.analyzer = analyzer
        self.analyzer_matches = meta.get("analyzer") == analyzer.name

    # ------------------------------------------------------------------ opening

    @staticmethod
    def client_for(uri: str) -> Any:
        from pymilvus import MilvusClient

        if not uri.startswith(("milvus-lite://", "milvus://")):
            raise ValueError(f"ZHRAG_STORE must start with milvus:// or milvus-lite://, not {uri!r}")
        try:
            if uri.startswith("milvus-lite://"):
                return MilvusClient(uri[len("milvus-lite://"):])
            return MilvusClient(uri="http://" + uri[len("milvus://"):], timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # pymilvus raises its own and grpc's errors; all mean "not there"
            # At start, never at the first question: the service must not come up without its store.
            raise IndexStoreError(f"ZHRAG_STORE={uri}: cannot open Milvus there ({type(exc).__name__}: "
                                  f"{str(exc)[:200]}); check the address, that the server runs, and the "
                                  f"network") from exc

    @classmethod
    def open(cls, uri: str, analyzer: Analyzer, *, model: str, dim: int) -> MilvusStore:
        """Open the collections at ``uri``, creating them for ``model``/``dim`` if absent."""
        client = cls.client_for(uri)
        if not client.has_collection(PREFIX + "meta"):
            cls._create(client, model, dim, analyzer.name)
        rows = client.query(PREFIX + "meta", filter='key != ""', output_fields=["key", "value"])
        meta = {r["key"]: r["value"] for r in rows}
        if meta.get("format") != FORMAT:
            raise IndexMismatchError(f"ZHRAG_STORE={uri}: the Milvus collections have format {meta.get('format')!r}, this "
                                     f"version reads {FORMAT!r}; migrate the embedded index into a new ZHRAG_STORE "
                                     f"('zhrag migrate --to')")
        if meta.get("model") != model or int(meta.get("dimension", 0)) != dim:
            raise IndexMismatchError(f"ZHRAG_STORE={uri}: the Milvus collections were built with model "
                                     f"{meta.get('model')!r} ({meta.get('dimension')} dimensions), but ZHRAG_EMBED_MODEL "
                                     f"gives {model!r} ({dim}); use that model, or another ZHRAG_STORE")
        if meta.get("analyzer") != analyzer.name:
            raise IndexMismatchError(f"ZHRAG_STORE={uri}: the Milvus collections were analysed with "
                                     f"{meta.get('analyzer')!r}, this version uses {analyzer.name!r}; migrate the "
                                     f"embedded index into a new ZHRAG_STORE ('zhrag migrate --to')")
        return cls(client, uri, meta, analyzer)

    @staticmethod
    def _create(client: Any, model: str, dim: int, analyzer_name: str) -> None:
        from pymilvus import DataType, Function, FunctionType

        def schema(key: str, key_len: int = 256) -> Any:
            s = client.create_schema(auto_id=False)
            s.add_field(key, DataType.VARCHAR, is_primary=True, max_length=key_len)
            return s

        def index(field: str, kind: str = "FLAT", metric: str = "IP") -> Any:
            p = client.prepare_index_params()
            p.add_index(field, index_type=kind, metric_type=metric)
            return p

        c = schema("chunk_id", 64)
        for name, length in (("doc_id", 256), ("collection", 256), ("col", 512), ("source", 512)):
            c.add_field(name, DataType.VARCHAR, max_length=length)
        for name in ("date", "char_start", "char_end"):
            c.add_field(name, DataType.INT64)
        c.add_field("title", DataType.VARCHAR, max_length=4096)
        c.add_field("text", DataType.VARCHAR, max_length=65535)
        c.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                    analyzer_params={"tokenizer": "standard"})
        c.add_field("meta", DataType.JSON)
        c.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
        c.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        c.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                output_field_names=["sparse"]))
        ip = index("vector")
        ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        client.create_collection(PREFIX + "chunks", schema=c, index_params=ip)

        a = schema("doc_id")
        for name, length in (("collection", 256), ("source_key", 1024), ("origin", 32), ("title", 4096),
                             ("source_path", 1024), ("content_hash", 128), ("col", 512), ("source", 512)):
            a.add_field(name, DataType.VARCHAR, max_length=length)
        for name in ("date", "chars", "parts"):
            a.add_field(name, DataType.INT64)
        a.add_field("updated_at", DataType.DOUBLE)
        a.add_field("meta", DataType.JSON)
        a.add_field("chunk_ids", DataType.JSON)
        a.add_field("v", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
        client.create_collection(PREFIX + "articles", schema=a, index_params=index("v"))

        t = schema("part_id", 300)
        t.add_field("doc_id", DataType.VARCHAR, max_length=256)
        t.add_field("k", DataType.INT64)
        t.add_field("text", DataType.VARCHAR, max_length=65535)
        t.add_field("v", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
        client.create_collection(PREFIX + "texts", schema=t, index_params=index("v"))

        m = schema("key", 64)
        m.add_field("value", DataType.VARCHAR, max_length=4096)
        m.add_field("v", DataType.FLOAT_VECTOR, dim=DUMMY_DIM)
        client.create_collection(PREFIX + "meta", schema=m, index_params=index("v"))
        # Written last: collections without it are an unfinished creation, made again next time.
        client.insert(PREFIX + "meta", [{"key": k, "value": v, "v": [0.0] * DUMMY_DIM} for k, v in
                                        {"format": FORMAT, "model": model, "dimension": str(dim), "analyzer": analyzer_name,
                                         "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}.items()])

    def close(self) -> None:
        self.client.close()

    def reading(self) -> AbstractContextManager[None]:
        """Milvus has no read snapshots; each search checks its chunks against the article rows."""
        return nullcontext()

    # ------------------------------------------------------------------ writing

    def _articles(self, doc_ids: Sequence[str], fields: Sequence[str]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), BATCH):
            for r in self.client.query(PREFIX + "articles", filter=_in("doc_id", ids[i:i + BATCH]),
                                       output_fields=list(dict.fromkeys(["doc_id", *fields]))):
                out[r["doc_id"]] = r
        return out

    def write(self, writes: Sequence[ArticleWrite], *,
              replace_sources: Sequence[tuple[str, str]] = ()) -> WriteReport:
        """Add or replace articles, each one retry-safe (see the module docstring). The last
        of an id given twice wins, as in the embedded store."""
        last, dup = last_of_each(writes)
        removed = 0
        for coll, key in dict.fromkeys(replace_sources):
            rows = self.client.query(PREFIX + "articles", output_fields=["doc_id"],
                                     filter=f"collection == {_quote(coll)} and source_key == {_quote(key)}")
            gone = [r["doc_id"] for r in rows if r["doc_id"] not in last]
            removed += len(self.delete(gone))
        existing = self._articles(list(last), ["doc_id"])
        n_chunks = 0
        failed: list[tuple[str, str]] = []
        try:
            # The fast path: the whole batch in a few calls (each call costs tens of ms).
            n_chunks = self._write_many(list(last.values()))
        except Exception as exc:
            # Something in the batch was refused: write article by article, to write all
            # the others and name the ones that fail (every step is idempotent by id).
            log.info("batch write failed (%s); writing article by article", exc)
            n_chunks = 0
            for doc_id, w in last.items():
                try:
                    n_chunks += self._write_many([w])
                except Exception as one:  # one article's failure must not cost the others theirs
                    reason = f"{type(one).__name__}: {str(one)[:300]}"
                    log.warning("could not write article %s to Milvus: %s", doc_id, reason)
                    failed.append((doc_id, reason))
                    self._clear_unnamed(doc_id)
        ok = [d for d in last if d not in dict(failed)]
        replaced = sum(1 for d in ok if d in existing)
        return WriteReport(len(ok) - replaced, replaced, removed, n_chunks, dup, failed=tuple(failed))

    def _clear_unnamed(self, doc_id: str) -> None:
        """After a failed write: remove the chunks and text parts its article row does not name
        (all of them for an article never written), so nothing is left orphaned. If this fails
        too, the leftovers are still never served, and the article's next write clears them."""
        try:
            row = self._articles([doc_id], ["chunk_ids", "parts"]).get(doc_id)
            named = list(row["chunk_ids"] or ()) if row else []
            stale = f"doc_id == {_quote(doc_id)}"
            self.client.delete(PREFIX + "chunks", filter=stale + (f" and not ({_in('chunk_id', named)})" if named else ""))
            self.client.delete(PREFIX + "texts", filter=f"{stale} and k >= {int(row['parts']) if row else 0}")
        except Exception as exc:
            log.warning("could not clear the unfinished write of %s (%s); its next write will", doc_id, exc)

    def _terms(self, chunk: Chunk) -> str:
        """What the engine's BM25 indexes: the analyzer's terms of title and text, as the
        embedded store indexes them (a chunk has about a thousand; a VARCHAR holds ``MAX_TERMS``)."""
        return " ".join(map(term_token, chunk_terms(self.analyzer, chunk)[:MAX_TERMS]))

    def _write_many(self, ws: Sequence[ArticleWrite]) -> int:
        """Chunks and text parts first, then the article rows (the commit point: a row names
        its chunks), then whatever of these articles the rows no longer name."""
        chunk_rows, text_rows, article_rows, parts_of = [], [], [], {}
        for w in ws:
            a, meta = w.article, dict(w.article.meta)
            column, source = meta.get("column"), meta.get("source")
            date = date_key(meta.get("date"))
            vecs = np.ascontiguousarray(w.vectors, dtype=np.float32)
            chunk_rows += [{"chunk_id": c.id, "doc_id": a.doc_id, "collection": w.collection, "col": str(column or ""),
                            "source": str(source or ""), "date": date, "char_start": c.char_start,
                            "char_end": c.char_end, "title": a.title, "text": c.text, "terms": self._terms(c), "meta": dict(c.meta),
                            "vector": v.tolist()} for c, v in zip(w.chunks, vecs, strict=True)]
            parts = [a.text[i:i + TEXT_PART_CHARS] for i in range(0, len(a.text), TEXT_PART_CHARS)] or [""]
            parts_of[a.doc_id] = len(parts)
            text_rows += [{"part_id": f"{a.doc_id}#{k}", "doc_id": a.doc_id, "k": k, "text": t,
                           "v": [0.0] * DUMMY_DIM} for k, t in enumerate(parts)]
            article_rows.append({
                "doc_id": a.doc_id, "collection": w.collection, "source_key": w.source_key, "origin": w.origin,
                "title": a.title, "source_path": a.source_path, "content_hash": w.content_hash,
                "col": str(column or ""), "source": str(source or ""), "date": date, "chars": len(a.text),
                "parts": len(parts), "updated_at": time.time(),
                "meta": json.loads(json.dumps(meta, ensure_ascii=False, default=str)),
                "chunk_ids": [c.id for c in w.chunks], "v": [0.0] * DUMMY_DIM})
        for name, rows in (("chunks", chunk_rows), ("texts", text_rows), ("articles", article_rows)):
            for i in range(0, len(rows), BATCH):
                self.client.upsert(PREFIX + name, rows[i:i + BATCH])
        # The article rows now name their chunks: anything else of these articles is old or unfinished.
        docs = _in("doc_id", list(parts_of))
        ids = [r["chunk_id"] for r in chunk_rows]
        self.client.delete(PREFIX + "chunks", filter=docs + (f" and not ({_in('chunk_id', ids)})" if ids else ""))
        self.client.delete(PREFIX + "texts", filter=" or ".join(
            f"(doc_id == {_quote(d)} and k >= {n})" for d, n in parts_of.items()))
        return len(ids)

    def delete(self, doc_ids: Sequence[str]) -> list[str]:
        found = list(self._articles(doc_ids, ["doc_id"]))
        for doc_id in found:  # the article row first: from then on its chunks are never served
            self.client.delete(PREFIX + "articles", filter=f"doc_id == {_quote(doc_id)}")
            self.client.delete(PREFIX + "chunks", filter=f"doc_id == {_quote(doc_id)}")
            self.client.delete(PREFIX + "texts", filter=f"doc_id == {_quote(doc_id)}")
        return found

    # ------------------------------------------------------------------ finding

    @staticmethod
    def _filter(f: Filters | None) -> str:
        if f is None or f.is_empty():
            return ""
        parts = []
        for field, values in (("collection", f.collections), ("col", f.columns), ("source", f.sources)):
            if values:
                parts.append(_in(field, list(values)))
        if f.date_from:
            parts.append(f"date >= {date_key(f.date_from)}")
        if f.date_to:
            parts.append(f"date > 0 and date <= {date_key(f.date_to)}")
        return " and ".join(parts)

    _CHUNK_FIELDS = ["chunk_id", "doc_id", "title", "text", "char_start", "char_end", "meta"]

    @staticmethod
    def _to_chunk(e: dict[str, Any]) -> Chunk:
        return Chunk(e["chunk_id"], e["doc_id"], e["title"], e["text"], int(e["char_start"]), int(e["char_end"]),
                     frozen_meta(e.get("meta")))

    def _current(self, hits: list[dict[str, Any]], k: int, score) -> list[tuple[Chunk, float]]:
        """Hits whose article row names them (a chunk of an unfinished or replaced write is skipped)."""
        rows = self._articles([h["entity"]["doc_id"] for h in hits], ["chunk_ids"])
        out = []
        for h in hits:
            e = h["entity"]
            if e["chunk_id"] in set(rows.get(e["doc_id"], {}).get("chunk_ids") or ()):
                out.append((self._to_chunk(e), score(h["distance"])))
        return out[:k]

    def search_dense(self, query_vec: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        if k <= 0:
            return []
        res = self.client.search(PREFIX + "chunks", data=[np.asarray(query_vec, np.float32).tolist()],
                                 anns_field="vector", limit=2 * k, filter=self._filter(filters),
                                 output_fields=self._CHUNK_FIELDS, search_params={"metric_type": "IP"})
        return self._current(list(res[0]), k, float)

    def search_lexical(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        terms = query_terms(self.analyzer, query)
        if k <= 0 or not terms:
            return []
        res = self.client.search(PREFIX + "chunks", data=[" ".join(map(term_token, terms))], anns_field="sparse",
                                 limit=2 * k,
                                 filter=self._filter(filters), output_fields=self._CHUNK_FIELDS,
                                 search_params={"metric_type": "BM25"})
        # BM25 scores are positive; milvus-lite reports them negated (best first either way).
        return self._current(list(res[0]), k, lambda d: abs(float(d)))

    def dense_scores(self, query_vec: np.ndarray, chunks: Sequence[Chunk]) -> list[float]:
        if not chunks:
            return []
        q = np.asarray(query_vec, np.float32).reshape(-1)
        rows = self.client.query(PREFIX + "chunks", filter=_in("chunk_id", [c.id for c in chunks]),
                                 output_fields=["chunk_id", "vector"])
        vecs = {r["chunk_id"]: np.asarray(r["vector"], np.float32) for r in rows}
        return [float(vecs[c.id] @ q) if c.id in vecs else 0.0 for c in chunks]

    # ------------------------------------------------------------------ articles

    def _text(self, doc_id: str) -> str:
        parts = self.client.query(PREFIX + "texts", filter=f"doc_id == {_quote(doc_id)}", output_fields=["k", "text"])
        return "".join(p["text"] for p in sorted(parts, key=lambda p: p["k"]))

    _INFO_FIELDS = ["doc_id", "title", "chars", "collection", "source_key", "origin", "content_hash", "chunk_ids",
                    "meta", "updated_at", "source_path"]

    @staticmethod
    def _info(r: dict[str, Any]) -> ArticleInfo:
        return ArticleInfo(r["doc_id"], r["title"], int(r["chars"]), r["collection"], r["source_key"], r["origin"],
                           r["content_hash"], len(r["chunk_ids"] or ()), dict(r["meta"] or {}))

    def get_article(self, doc_id: str) -> Article | None:
        row = self._articles([doc_id], self._INFO_FIELDS).get(doc_id)
        if row is None:
            return None
        return Article(doc_id, row["title"], self._text(doc_id), row["source_path"], frozen_meta(row["meta"]),
                       given_id=True)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The article's current chunks in text order (those its article row names)."""
        current = set(self._articles([doc_id], ["chunk_ids"]).get(doc_id, {}).get("chunk_ids") or ())
        if not current:
            return []
        rows = self.client.query(PREFIX + "chunks", filter=_in("chunk_id", sorted(current)),
                                 output_fields=self._CHUNK_FIELDS)
        return sorted(map(self._to_chunk, rows), key=lambda c: (c.char_start, c.id))

    def _all_articles(self, flt: str) -> list[dict[str, Any]]:
        rows = self.client.query(PREFIX + "articles", filter=flt or 'doc_id != ""', output_fields=self._INFO_FIELDS)
        return sorted(rows, key=lambda r: (r["updated_at"], r["doc_id"]))

    def list_articles(self, offset: int = 0, limit: int = 100, filters: Filters | None = None,
                      title_contains: str = "", person: str = "") -> list[ArticleInfo]:
        rows = self._all_articles(self._filter(filters))
        if title_contains:  # client-side, like the sort: Milvus's LIKE would need its wildcards escaped
            rows = [r for r in rows if title_contains in r["title"]]
        if person:
            rows = [r for r in rows if names_person(r["meta"] or {}, person)]
        return [self._info(r) for r in rows[offset:offset + limit]]

    def iter_articles(self) -> Iterator[tuple[Article, ArticleInfo]]:
        for r in self._all_articles(""):
            info = self._info(r)
            yield (Article(r["doc_id"], r["title"], self._text(r["doc_id"]), r["source_path"],
                           frozen_meta(r["meta"]), given_id=True), info)

    def source_hashes(self, collection: str, source_keys: Sequence[str]) -> dict[str, str]:
        keys = list(dict.fromkeys(source_keys))
        out: dict[str, str] = {}
        for i in range(0, len(keys), BATCH):
            for r in self.client.query(PREFIX + "articles", output_fields=["source_key", "content_hash"],
                                       filter=f"collection == {_quote(collection)} and "
                                              f"{_in('source_key', keys[i:i + BATCH])}"):
                out[r["source_key"]] = r["content_hash"]
        return out

    def stats(self) -> dict[str, Any]:
        rows = self._all_articles("")
        colls: dict[str, int] = {}
        for r in rows:
            colls[r["collection"]] = colls.get(r["collection"], 0) + 1
        return {"articles": len(rows), "chunks": sum(len(r["chunk_ids"] or ()) for r in rows), "collections": colls,
                "seq": 0, "backend": "milvus"}
