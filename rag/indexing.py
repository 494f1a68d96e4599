"""Indexing: chunk, embed, write. The store only keeps what this stage hands it.

Identity lives here. An article's id is the one its user gave (a JSONL ``doc_id``, the
API's field), or else it is derived from its collection, its source (the file's path)
and its title, so re-ingesting an edited file *replaces* its articles rather than
adding second copies; articles the file no longer holds are removed with it. A file
whose bytes (and the ingest and chunking versions) are unchanged is skipped without
parsing or embedding. Each file is written in its own transaction, so an interrupted
run keeps every file it finished.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from index.store import DEFAULT_COLLECTION, ArticleInfo, ArticleWrite, Store, WriteReport
from rag.chunking import ChunkParams, chunk_article
from rag.embedding import Embedder
from rag.ingest import IngestError, iter_files, parse_file
from rag.reprints import ReprintIndex
from rag.types import Article, frozen_meta, stable_id

log = logging.getLogger(__name__)

# Bump when ingest output changes for the same bytes, so unchanged-file skipping re-parses.
INGEST_VERSION = 5
API_SOURCE = "api"


@dataclass(frozen=True)
class IndexReport:
    added: int = 0
    replaced: int = 0
    removed: int = 0
    unchanged: int = 0  # articles (or whole files) skipped because nothing changed
    chunks: int = 0
    files: int = 0
    duplicates: tuple[str, ...] = ()
    doc_ids: tuple[str, ...] = ()
    errors: tuple[IngestError, ...] = field(default=())
    warnings: tuple[str, ...] = ()  # indexed, but worth a look (an article that was mostly page furniture)
    reprints: tuple[str, ...] = ()  # articles recorded as reprints of an indexed one, not indexed again

    def __add__(self, o: IndexReport) -> IndexReport:
        return IndexReport(self.added + o.added, self.replaced + o.replaced, self.removed + o.removed,
                           self.unchanged + o.unchanged, self.chunks + o.chunks, self.files + o.files,
                           self.duplicates + o.duplicates, self.doc_ids + o.doc_ids, self.errors + o.errors,
                           self.warnings + o.warnings, self.reprints + o.reprints)


def assign_ids(articles: Sequence[Article], collection: str, source_key: str) -> list[Article]:
    """Ids from collection, source and title (numbered when a title repeats), unless given."""
    seen: dict[str, int] = {}
    out = []
    for a in articles:
        if a.given_id:
            out.append(a)
            continue
        n = seen[a.title] = seen.get(a.title, 0) + 1
        out.append(replace(a, doc_id=stable_id(collection, source_key, a.title, n)))
    return out


def content_hash(*parts: object, params: ChunkParams) -> str:
    h = hashlib.sha256()
    for p in (*parts, f"ingest{INGEST_VERSION}", f"chunk{params.size},{params.overlap}"):
        h.update(p if isinstance(p, bytes) else str(p).encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def article_hash(a: Article, params: ChunkParams) -> str:
    return content_hash(a.title, a.text, json.dumps(dict(a.meta), ensure_ascii=False, sort_keys=True, default=str),
                        params=params)


def prepare(articles: Sequence[Article], embedder: Embedder, params: ChunkParams, *, collection: str,
            source_keys: Sequence[str], hashes: Sequence[str], origin: str, progress: bool = False) -> list[ArticleWrite]:
    """Chunk and embed articles (one embedding call for the batch) into writes for the store."""
    chunks = [tuple(chunk_article(a, params)) for a in articles]
    flat = [c for cs in chunks for c in cs]
    vecs = (embedder.embed_documents([c.embedding_text() for c in flat], progress=progress)
            if flat else np.zeros((0, embedder.dim), np.float32))
    out, i = [], 0
    for a, cs, key, h in zip(articles, chunks, source_keys, hashes, strict=True):
        out.append(ArticleWrite(a, cs, np.asarray(vecs[i:i + len(cs)], np.float32), collection, key, h, origin))
        i += len(cs)
    return out


REPRINT_FACTS = ("source", "date", "page", "page_name", "column")


class Indexer:
    """Adds files and articles to a store through the chunker and the embedder.

    With ``reprints``, an article whose text nearly repeats an indexed one of the same
    collection (rag/reprints.py) is written as a record without chunks, and the indexed
    one lists it in ``meta.reprints``, in the same transaction.
    """

    def __init__(self, store: Store, embedder: Embedder, params: ChunkParams, *, reprints: bool = False) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params
        self.reprints = reprints
        self._seen: ReprintIndex | None = None
        # doc_id -> (collection, source_key, content_hash, origin) of each indexed article:
        # what rewriting it with a new reprint listed needs (no text, no metadata: memory).
        self._where: dict[str, tuple[str, str, str, str]] = {}

    def _reprint_index(self) -> ReprintIndex:
        """Built from the store on first use; afterwards kept current by this indexer's writes."""
        if self._seen is None:
            idx = ReprintIndex()
            for a, info in self.store.iter_articles():
                if "reprint_of" not in a.meta:
                    idx.add(a.doc_id, a.text)
                    self._where[a.doc_id] = (info.collection, info.source_key, info.content_hash, info.origin)
            log.info("reprint detection: %d articles read", len(idx))
            self._seen = idx
        return self._seen

    def _plan(self, articles: Sequence[Article], *, collection: str, source_keys: Sequence[str],
              hashes: Sequence[str], origin: str, progress: bool = False) -> tuple[list[ArticleWrite], list[str]]:
        """The writes for a batch: articles chunked and embedded, reprints as records, and the
        stored articles they reprint rewritten with the new source listed."""
        if not self.reprints:
            return prepare(articles, self.embedder, self.params, collection=collection, source_keys=source_keys,
                           hashes=hashes, origin=origin, progress=progress), []
        stored, batch = self._reprint_index(), ReprintIndex()
        fresh: list[int] = []
        records: list[ArticleWrite] = []
        kept_meta: dict[str, dict] = {}  # doc_id of a kept article -> its meta with the reprints added
        notes = []
        for i, a in enumerate(articles):
            hit = batch.find(a.text, exclude=a.doc_id)
            if hit is None and (hit := stored.find(a.text, exclude=a.doc_id)) is not None:
                info = self._where.get(hit[0])
                if info is None or info[0] != collection:
                    hit = None
                elif hit[0] not in kept_meta:
                    kept = self.store.get_article(hit[0])
                    if kept is None:  # deleted since (by another process): not a reprint of anything
                        stored.remove(hit[0])
                        hit = None
                    else:
                        kept_meta[hit[0]] = dict(kept.meta)
            if hit is None:
                fresh.append(i)
                batch.add(a.doc_id, a.text)
                continue
            kept_id, sim = hit
            if kept_id not in kept_meta:  # an article earlier in this batch
                kept_meta[kept_id] = dict(next(articles[j] for j in fresh if articles[j].doc_id == kept_id).meta)
            meta = kept_meta[kept_id]
            entry = {"doc_id": a.doc_id, "title": a.title, **{k: a.meta[k] for k in REPRINT_FACTS if k in a.meta}}
            meta["reprints"] = [r for r in meta.get("reprints", []) if r.get("doc_id") != a.doc_id] + [entry]
            record = replace(a, meta=frozen_meta({**a.meta, "reprint_of": kept_id, "similarity": round(sim, 3)}))
            records.append(ArticleWrite(record, (), np.zeros((0, self.embedder.dim), np.float32), collection,
                                        source_keys[i], hashes[i], origin))
            notes.append(f"《{a.title}》 ({a.doc_id}) is a reprint of {kept_id} (similarity {sim:.2f}): recorded, "
                         f"not indexed again")
        in_batch = {articles[i].doc_id for i in fresh}
        todo = [replace(articles[i], meta=frozen_meta(kept_meta[articles[i].doc_id]))
                if articles[i].doc_id in kept_meta else articles[i] for i in fresh]
        writes = prepare(todo, self.embedder, self.params, collection=collection,
                         source_keys=[source_keys[i] for i in fresh], hashes=[hashes[i] for i in fresh],
                         origin=origin, progress=progress)
        for kept_id, meta in kept_meta.items():
            if kept_id in in_batch:
                continue
            coll, key, chash, origin_of = self._where[kept_id]
            kept = self.store.get_article(kept_id)
            assert kept is not None
            writes += prepare([replace(kept, meta=frozen_meta(meta))], self.embedder, self.params,
                              collection=coll, source_keys=[key], hashes=[chash], origin=origin_of)
        return writes + records, notes

    def _remember(self, writes: Sequence[ArticleWrite], rep: WriteReport) -> None:
        """After a commit: indexed articles become candidates for later reprints."""
        if self._seen is None:
            return
        failed = dict(rep.failed)
        for w in writes:
            if w.chunks and w.article.doc_id not in failed:
                self._seen.add(w.article.doc_id, w.article.text)
                self._where[w.article.doc_id] = (w.collection, w.source_key, w.content_hash, w.origin)

    def add_articles(self, articles: Sequence[Article], *, collection: str = DEFAULT_COLLECTION,
                     origin: str = "user", progress: bool = False) -> IndexReport:
        """Articles that stand alone (API documents): each is its own source; unchanged ones are skipped."""
        articles = [a if a.given_id else replace(a, doc_id=stable_id(collection, API_SOURCE, a.title, a.text))
                    for a in articles]
        keys = [f"{API_SOURCE}:{a.doc_id}" for a in articles]
        hashes = [article_hash(a, self.params) for a in articles]
        known = self.store.source_hashes(collection, keys)
        todo = [i for i, (k, h) in enumerate(zip(keys, hashes, strict=True)) if known.get(k) != h]
        writes, notes = self._plan([articles[i] for i in todo], collection=collection,
                                   source_keys=[keys[i] for i in todo], hashes=[hashes[i] for i in todo],
                                   origin=origin, progress=progress)
        rep = self.store.write(writes) if writes else WriteReport()
        self._remember(writes, rep)
        return IndexReport(added=rep.added, replaced=rep.replaced, unchanged=len(articles) - len(todo),
                           chunks=rep.chunks, duplicates=rep.duplicates,
                           doc_ids=tuple(dict.fromkeys(a.doc_id for a in articles)), reprints=tuple(notes),
                           errors=failures(rep))

    def add_paths(self, paths: Iterable[Path | str], *, collection: str = DEFAULT_COLLECTION, origin: str = "user",
                  progress: bool = False, key_root: Path | None = None) -> IndexReport:
        """Files and folders, one transaction per file; bad files are reported and skipped.

        A file's source key is its absolute path (or its path under ``key_root``), so the
        same file reached by another argument is still the same source.
        """
        files = list(iter_files(map(Path, paths)))
        total = IndexReport()
        bar = tqdm(files, desc="indexing files", unit="file", disable=not progress)
        for path in bar:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            total = total + self._add_file(path, collection, origin, key_root, progress)
        bar.close()
        return total

    def _add_file(self, path: Path, collection: str, origin: str, key_root: Path | None,
                  progress: bool = False) -> IndexReport:
        if not path.is_file():
            return IndexReport(errors=(IngestError(str(path), "no such file"),))
        key = source_key(path, key_root)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return IndexReport(errors=(IngestError(str(path), f"cannot read: {exc.strerror or exc}"),))
        h = content_hash(raw, params=self.params)
        if self.store.source_hashes(collection, [key]).get(key) == h:
            return IndexReport(unchanged=1, files=1)
        bad: list[IngestError] = []
        try:
            articles = assign_ids(parse_file(path, raw, errors=bad, progress=progress), collection, key)
            writes, notes = self._plan(articles, collection=collection, source_keys=[key] * len(articles),
                                       hashes=[h] * len(articles), origin=origin)
            rep = self.store.write(writes, replace_sources=[(collection, key)])
            self._remember(writes, rep)
        except IngestError as exc:
            log.warning("skipped %s", exc)
            return IndexReport(errors=(*bad, exc))
        except ValueError as exc:  # the store refused something in it (a bad character, say)
            log.warning("skipped %s: %s", path, exc)
            return IndexReport(errors=(*bad, IngestError(str(path), str(exc))))
        warnings = tuple(f"{path}: 《{a.title}》 was mostly page furniture ({a.meta['furniture_lines_removed']} "
                         f"lines removed); check what is left" for a in articles if a.meta.get("mostly_furniture"))
        return IndexReport(rep.added, rep.replaced, rep.removed, 0, rep.chunks, 1, rep.duplicates,
                           tuple(a.doc_id for a in articles), (*bad, *failures(rep, str(path))), warnings,
                           tuple(notes))

    def reembed_from(self, source: Store, *, progress: bool = False, batch: int = 64) -> IndexReport:
        """Copy every article of another store into this one, chunked and embedded anew,
        keeping its collection, source, content hash and origin."""
        total = IndexReport()
        group: list[tuple[Article, ArticleInfo]] = []

        def flush() -> IndexReport:
            by_kind: dict[tuple[str, str], list[tuple[Article, ArticleInfo]]] = {}
            for a, info in group:
                by_kind.setdefault((info.collection, info.origin), []).append((a, info))
            rep = IndexReport()
            for (coll, origin), items in by_kind.items():
                writes = prepare([a for a, _ in items], self.embedder, self.params, collection=coll,
                                 source_keys=[i.source_key for _, i in items],
                                 hashes=[i.content_hash for _, i in items], origin=origin)
                r = self.store.write(writes)
                rep = rep + IndexReport(added=r.added, chunks=r.chunks)
            group.clear()
            return rep

        n = source.stats()["articles"]
        for pair in tqdm(source.iter_articles(), total=n, desc="re-embedding", unit="article", disable=not progress):
            group.append(pair)
            if len(group) >= batch:
                total = total + flush()
        if group:
            total = total + flush()
        return total


def failures(rep: WriteReport, path: str = "") -> tuple[IngestError, ...]:
    """Articles the store could not write, as errors naming the file (if any) and the article."""
    return tuple(IngestError(f"{path}: article {doc_id}" if path else f"article {doc_id}", reason)
                 for doc_id, reason in rep.failed)


def source_key(path: Path, key_root: Path | None = None) -> str:
    p = path.resolve()
    if key_root is not None:
        try:
            return p.relative_to(key_root.resolve()).as_posix()
        except ValueError:
            pass
    return p.as_posix()
