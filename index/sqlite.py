"""The embedded knowledge base: one SQLite database in WAL mode, the single source of truth.

``<index_dir>/zhrag.db`` holds articles, chunks, their vectors (float32, with a CRC32
each), collections and labels, a change sequence, and the lexical index (an FTS5 table
of pre-analysed terms, BM25-ranked by SQLite itself). Why this shape:

* Every add, replace or delete is one ``BEGIN IMMEDIATE`` transaction with
  ``synchronous=FULL``: a crash (SIGKILL, power) leaves the state before or after it,
  never between; SQLite's lock keeps two writers, in any processes, from overwriting
  each other. Nothing is ever rewritten wholesale.
* The lexical index lives in the same transactions, so it can never drift from the
  chunks (the old BM25 files could, and cited the neighbour of the right article).
* The dense index (:mod:`index.dense`) is derived: filled from the stored vectors on
  open, then kept current from the change sequence (``chunks.seq``, ``dropped.seq``).
  Any process sees another's commits at its next search, without a restart. A big index
  (an inverted file) is also saved beside the database, stamped with the database's id
  and change number, so opening reads it and replays only what changed since; a saved
  index that fails its checksums or does not match the database is rebuilt, never used.
* A search runs inside one read transaction (a WAL snapshot): a chunk deleted before the
  search began is never returned, and no write can make a search fail.
* Damage is detected, not served: SQLite's own checks, a CRC per vector, and a
  consistency check on open; the error says what is damaged and how to recover.

The lexical table is contentless (``content=''``), so it stores postings but not the
terms twice; deleting a chunk's postings recomputes its terms with the analyzer, whose
name is recorded so that a different analyzer is refused rather than corrupting it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np

from index.dense import DenseFilter, DenseIndex, IVFDenseIndex, SnapshotError
from index.store import (
    DEFAULT_COLLECTION,
    Analyzer,
    ArticleInfo,
    ArticleWrite,
    IndexDamagedError,
    IndexMismatchError,
    IndexNotFoundError,
    WriteReport,
    chunk_terms,
    last_of_each,
)
from index.store import query_terms as matchable_terms
from index.types import PEOPLE_KEYS, Article, Chunk, Filters, date_key, frozen_meta

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
DB_NAME = "zhrag.db"
BUSY_TIMEOUT_MS = 30_000
QUANTIZE_ABOVE = 300_000  # chunks; above this the dense index is an inverted file of 8-bit codes (bench/store.py)
TRAIN_SAMPLE = 65_536  # vectors the inverted file's lists are trained on
# The inverted file is saved beside the database (``zhrag.db.dense``) when opening had to
# build it, or replayed more than this many changed rows on top of the saved one.
SNAPSHOT_STALE_ROWS = 20_000
SNAPSHOT_CHECK_ROWS = 256  # saved rows matched against the database's CRCs on open
# A query term found in more than this share of chunks is left out of the lexical query: FTS5
# scores every row that holds any query term, so one such term makes a query over a million
# chunks score hundreds of thousands of rows, for a term whose weight (idf) is small. A share,
# not a count, so a small index behaves as a big one. Chosen on the shared sets (eval/RESULTS.md):
# at 0.02 hybrid MRR@10 moves by at most -0.002, and the lexical query at 1M chunks scores a
# median of 26k rows instead of several hundred thousand.
MAX_TERM_SHARE = 0.02
DF_CACHE_SIZE = 100_000  # terms whose row counts are remembered between queries
RERANK_FACTOR = 4  # approximate candidates per result, re-scored exactly
REFRESH_BATCH = 20_000
# SQLite's quick_check reads every page: 0.4 s at 100k chunks, 15 s at 1M. Above this size the
# open relies on the per-vector CRCs and SQLite's own errors; 'zhrag check' runs the full check.
QUICK_CHECK_MAX_BYTES = 512 * 1024 * 1024

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE labels(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE(kind, name));
CREATE TABLE articles(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL UNIQUE,
    collection TEXT NOT NULL,
    source_key TEXT NOT NULL,
    origin TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source_path TEXT NOT NULL,
    meta TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    col TEXT,
    source TEXT,
    date INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    updated_at REAL NOT NULL);
CREATE INDEX articles_source ON articles(collection, source_key);
CREATE TABLE chunks(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    article INTEGER NOT NULL,
    char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL,
    meta TEXT NOT NULL,
    collection_id INTEGER NOT NULL,
    column_id INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    date INTEGER NOT NULL,
    vector BLOB NOT NULL,
    crc INTEGER NOT NULL,
    seq INTEGER NOT NULL);
CREATE INDEX chunks_article ON chunks(article);
CREATE INDEX chunks_seq ON chunks(seq);
CREATE TABLE dropped(chunk INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE INDEX dropped_seq ON dropped(seq);
CREATE VIRTUAL TABLE lexical USING fts5(terms, content='', tokenize='unicode61 remove_diacritics 0');
"""

_HYDRATE = """SELECT c.id, c.chunk_id, a.doc_id, a.title, substr(a.text, c.char_start + 1, c.char_end - c.char_start),
                     c.char_start, c.char_end, c.meta
              FROM chunks c JOIN articles a ON a.id = c.article WHERE c.id IN ({})"""


def _damaged(path: Path, what: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"the index at {path} is damaged: {what}. Nothing was served or changed. To recover: restore "
        f"the last backup (made by 'zhrag backup DEST'), or move the file aside and rebuild from your "
        f"files with 'zhrag build FILES...'; 'zhrag check' reports every problem it finds.")


def check_text(name: str, value: str) -> None:
    """Refuse text SQLite cannot keep intact: lone surrogates cannot be encoded, NUL cuts text."""
    if "\x00" in value:
        raise ValueError(f"{name} contains a NUL character (at {value.index(chr(0))})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} contains an unencodable character (a lone surrogate at {exc.start})") from exc


def _fts_query(terms: Sequence[str]) -> str:
    """An OR of quoted terms. Repeats are kept: FTS5 scores each occurrence, so a term the
    question repeats weighs more (as bm25s did; de-duplicating cost 0.028 BM25 MRR@10 on DuReader)."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms if any(ch.isalnum() for ch in t))


class SQLiteStore:
    """The knowledge base in one SQLite file. See the module docstring for the design."""

    def __init__(self, path: Path, analyzer: Analyzer, meta: dict[str, str], *, quantized: bool = False) -> None:
        self.path = path
        self.analyzer = analyzer
        self.model = meta["model"]
        self.dim = int(meta["dimension"])
        self.meta = meta
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer_conn: sqlite3.Connection | None = None
        self._refresh_lock = threading.Lock()
        self._dense: DenseIndex = DenseIndex(self.dim)
        self._quantized = quantized
        self._max_id = 0
        self._unsaved = 0  # rows the dense index changed by since it was last saved
        self._saving = False
        self._df_cache: dict[str, tuple[int, int]] = {}  # term -> (rows holding it, live chunks then)
        self.max_term_share = MAX_TERM_SHARE
        self._applied = -1
        self._labels: dict[tuple[str, str], int] = {}
        self.analyzer_matches = meta.get("analyzer") == analyzer.name

    # ------------------------------------------------------------------ opening

    @staticmethod
    def db_path(directory: Path) -> Path:
        return Path(directory) / DB_NAME

    @classmethod
    def exists(cls, directory: Path) -> bool:
        return cls.db_path(directory).is_file()

    @classmethod
    def read_origins(cls, directory: Path) -> dict[str, int]:
        """Articles per origin, read without opening the store (any model, any analyzer)."""
        conn = sqlite3.connect(cls.db_path(directory), timeout=BUSY_TIMEOUT_MS / 1000)
        try:
            return dict(conn.execute("SELECT origin, count(*) FROM articles GROUP BY origin").fetchall())
        except sqlite3.DatabaseError as exc:
            raise _damaged(cls.db_path(directory), str(exc)) from exc
        finally:
            conn.close()

    @classmethod
    def create(cls, path: Path, *, model: str, dim: int, analyzer: Analyzer,
               chunking: dict[str, Any] | None = None) -> None:
        """Write an empty database at ``path`` (which must not exist)."""
        if path.exists():
            raise FileExistsError(f"{path} exists already")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            conn.execute("BEGIN")
            meta = {"format_version": str(FORMAT_VERSION), "uid": uuid.uuid4().hex, "model": model,
                    "dimension": str(dim),
                    "analyzer": analyzer.name, "chunking": json.dumps(chunking or {}), "seq": "0",
                    "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            conn.execute("COMMIT")
        finally:
            conn.close()

    @classmethod
    def open(cls, directory: Path, analyzer: Analyzer, *, expect_model: str | None = None,
             expect_dim: int | None = None, path: Path | None = None, quick_check: bool = True,
             any_analyzer: bool = False, quantize_above: int = QUANTIZE_ABOVE,
             max_term_share: float = MAX_TERM_SHARE) -> SQLiteStore:
        """Open the database, check it, and load the dense index from the stored vectors.

        ``any_analyzer`` opens an index analysed differently, for repair and re-embedding
        only: it refuses writes until :meth:`rebuild_lexical` has run.
        """
        path = path or cls.db_path(directory)
        if not path.is_file():
            raise IndexNotFoundError(f"no index at {directory} (missing {DB_NAME}); build one with: zhrag build")
        try:
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
                n_chunks = conn.execute("SELECT max(id) FROM chunks").fetchone()[0] or 0
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, f"cannot read its header ({exc})") from exc
        if meta.get("format_version") != str(FORMAT_VERSION):
            raise IndexMismatchError(f"index at {path} has format {meta.get('format_version')}, this version "
                                     f"reads {FORMAT_VERSION}")
        if expect_model is not None and meta["model"] != expect_model:
            raise IndexMismatchError(
                f"index at {directory} was built with model {meta['model']!r}, but the configured model is "
                f"{expect_model!r}; re-embed its articles with 'zhrag reindex' or set ZHRAG_EMBED_MODEL to match")
        if expect_dim is not None and int(meta["dimension"]) != expect_dim:
            raise IndexMismatchError(f"index at {directory} has dimension {meta['dimension']}, the embedder gives "
                                     f"{expect_dim}; re-embed with 'zhrag reindex'")
        if meta.get("analyzer") != analyzer.name and not any_analyzer:
            raise IndexMismatchError(
                f"index at {directory} was analysed with {meta.get('analyzer')!r}, this version uses "
                f"{analyzer.name!r}; rebuild its lexical index with 'zhrag check --repair'")
        store = cls(path, analyzer, meta, quantized=n_chunks > quantize_above)
        store._max_id = n_chunks
        store.max_term_share = max_term_share
        try:
            store._load(quick_check=quick_check)
        except sqlite3.DatabaseError as exc:
            store.close()
            raise _damaged(path, str(exc)) from exc
        except BaseException:
            store.close()
            raise
        return store

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous=FULL")
        # Rows per term, read from the lexical index itself (a per-connection view: no schema change).
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.lexical_rows USING fts5vocab(main, lexical, 'row')")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared between threads)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            self._local.depth = 0
        return conn

    def _load(self, *, quick_check: bool) -> None:
        conn = self._conn()
        if quick_check and self.path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            problems = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
            if problems != ["ok"]:
                raise _damaged(self.path, "; ".join(problems[:5]))
        orphans = conn.execute("SELECT count(*) FROM chunks WHERE article NOT IN (SELECT id FROM articles)").fetchone()[0]
        if orphans:
            raise _damaged(self.path, f"{orphans} chunks belong to no article")
        if not self._quantized:
            self.refresh()
            return
        self._remove_dead_snapshot_temps()
        saved = self._load_snapshot(conn)
        if saved is None:
            ivf = IVFDenseIndex(self.dim, IVFDenseIndex.lists_for(self._max_id))
            ivf.train(self._training_sample(conn))
            self._dense = ivf
        t0 = time.perf_counter()
        self._saving = True  # no background save while opening: it saves below if it should
        try:
            self.refresh()
        finally:
            self._saving = False
        replayed = self._unsaved  # rows refresh added or dropped on top of the saved index
        log.info("dense index: %s, %d rows replayed in %.1f s", "read from its snapshot" if saved else "built",
                 replayed, time.perf_counter() - t0)
        if saved is None or replayed > SNAPSHOT_STALE_ROWS:
            self.save_dense()

    @property
    def snapshot_path(self) -> Path:
        return self.path.with_name(self.path.name + ".dense")

    def _stamp(self) -> str:
        return self.meta.get("uid") or self.meta["created_at"]

    def _remove_dead_snapshot_temps(self) -> None:
        """Temporary files of saves that a killed process left behind (named by their pid)."""
        for tmp in self.path.parent.glob(self.snapshot_path.name + ".tmp-*"):
            try:
                os.kill(int(tmp.name.split(".tmp-")[1].split("-")[0]), 0)
            except ProcessLookupError:
                tmp.unlink(missing_ok=True)
            except (ValueError, PermissionError):
                pass

    def _load_snapshot(self, conn: sqlite3.Connection) -> IVFDenseIndex | None:
        """The saved inverted file, if it is whole and of this database; else None (it is rebuilt)."""
        if not self.snapshot_path.is_file():
            return None
        try:
            ivf, header = IVFDenseIndex.load(self.snapshot_path)
            seq = int(header["seq"])
            if header.get("db") != self._stamp() or header.get("dim") != self.dim:
                raise SnapshotError("it belongs to another database")
            if seq > self._seq(conn):
                raise SnapshotError("it is newer than the database (was the database restored?)")
            sample = ivf.sample(SNAPSHOT_CHECK_ROWS)
            ids = [i for i, _ in sample]
            marks = ",".join("?" * len(ids))
            stored = dict(conn.execute(f"SELECT id, crc FROM chunks WHERE id IN ({marks})", ids).fetchall())
            gone = {r[0] for r in conn.execute(f"SELECT chunk FROM dropped WHERE seq > ? AND chunk IN ({marks})",
                                               [seq, *ids])}
            if any(stored.get(i, None if i in gone else -1) not in (crc, None) for i, crc in sample):
                raise SnapshotError("its rows differ from the database's")
        except SnapshotError as exc:
            log.warning("the saved dense index %s is not used (%s); rebuilding it from the database",
                        self.snapshot_path, exc)
            return None
        self._dense = ivf
        self._applied = seq
        return ivf

    def _training_sample(self, conn: sqlite3.Connection) -> np.ndarray:
        """Vectors of random chunk rows (by row id, so no table scan), checked like every vector."""
        rng = np.random.default_rng(0)
        ids = np.unique(rng.integers(1, max(self._max_id, 1) + 1, TRAIN_SAMPLE)).tolist()
        rows: list[tuple] = []
        for i in range(0, len(ids), 900):
            part = ids[i:i + 900]
            rows += conn.execute(f"SELECT id, vector, crc FROM chunks WHERE id IN ({','.join('?' * len(part))})",
                                 part).fetchall()
        self._check_vectors(rows)
        return np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), self.dim)

    def save_dense(self) -> None:
        """Save the inverted file beside the database (only big indexes have one)."""
        if isinstance(self._dense, IVFDenseIndex):
            with self._refresh_lock:
                self._dense.save(self.snapshot_path, {"db": self._stamp(), "seq": self._applied})
                self._unsaved = 0

    def close(self) -> None:
        with self._conns_lock:
            for c in self._conns:
                with suppress(sqlite3.Error):
                    c.close()
            self._conns.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ change sequence

    @staticmethod
    def _seq(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])

    def refresh(self) -> None:
        """Bring the dense index up to the database's latest committed change.

        Rows are read in batches, so opening a million-chunk index never holds more than
        one batch of raw vectors beside the index itself.
        """
        conn = self._conn()
        if getattr(self._local, "depth", 0):
            return  # inside a read snapshot: it is consistent as it is
        if self._seq(conn) <= self._applied:
            return
        with self._refresh_lock:
            conn.execute("BEGIN")
            try:
                seq = self._seq(conn)
                if seq <= self._applied:
                    return
                cur = conn.execute("SELECT id, vector, crc, collection_id, column_id, source_id, date FROM chunks "
                                   "WHERE seq > ? AND seq <= ?", (self._applied, seq))
                while rows := cur.fetchmany(REFRESH_BATCH):
                    self._add_rows(rows)
                    self._unsaved += len(rows)
                dropped = [r[0] for r in conn.execute("SELECT chunk FROM dropped WHERE seq > ? AND seq <= ?",
                                                      (self._applied, seq))]
                labels = conn.execute("SELECT kind, name, id FROM labels").fetchall()
            finally:
                conn.execute("COMMIT")
            self._labels = {(k, n): i for k, n, i in labels}
            self._dense.remove(dropped)
            self._applied = seq
            self._unsaved += len(dropped)
            if self._unsaved > SNAPSHOT_STALE_ROWS and isinstance(self._dense, IVFDenseIndex) and not self._saving:
                # A server that runs for months re-saves as it goes, so its next open replays little.
                self._saving = True
                threading.Thread(target=self._save_in_background, name="dense-save", daemon=True).start()

    def _save_in_background(self) -> None:
        try:
            self.save_dense()
        except (OSError, RuntimeError):
            log.exception("saving the dense index failed; the next open rebuilds or replays it")
        finally:
            self._saving = False

    def _add_rows(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        self._check_vectors(rows)
        vecs = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(len(rows), self.dim)
        fields = {"crc": [r[2] for r in rows], "collection": [r[3] for r in rows], "column": [r[4] for r in rows],
                  "source": [r[5] for r in rows], "date": [r[6] for r in rows]}
        self._dense.add([r[0] for r in rows], vecs, fields)

    def _check_vectors(self, rows: Sequence[tuple]) -> None:
        """Rows of (id, vector, crc, ...): every vector whole, or the index is reported damaged."""
        bad = [r[0] for r in rows if zlib.crc32(r[1]) != r[2] or len(r[1]) != 4 * self.dim]
        if bad:
            raise _damaged(self.path, f"{len(bad)} stored vectors fail their checksum (chunk rows "
                                      f"{', '.join(map(str, bad[:5]))}{'…' if len(bad) > 5 else ''})")

    # ------------------------------------------------------------------ writing

    def _label(self, conn: sqlite3.Connection, kind: str, name: object) -> int:
        if name is None or name == "":
            return 0
        name = str(name)
        row = conn.execute("SELECT id FROM labels WHERE kind = ? AND name = ?", (kind, name)).fetchone()
        if row:
            return int(row[0])
        return int(conn.execute("INSERT INTO labels(kind, name) VALUES (?, ?)", (kind, name)).lastrowid or 0)

    def _validate(self, w: ArticleWrite) -> None:
        a = w.article
        for name, value in (("doc_id", a.doc_id), ("title", a.title), ("text", a.text),
                            ("collection", w.collection), ("source", w.source_key)):
            check_text(f"article {a.doc_id[:80]!r}: {name}", value)
        check_text(f"article {a.doc_id[:80]!r}: metadata", json.dumps(dict(a.meta), ensure_ascii=False, default=str))
        if not a.doc_id or not w.collection:
            raise ValueError("an article needs a doc_id and a collection")
        if w.vectors.ndim != 2 or (len(w.chunks) and w.vectors.shape[1] != self.dim):
            raise ValueError(f"vectors must have dimension {self.dim}")
        if not np.all(np.isfinite(w.vectors)):
            raise ValueError(f"article {a.doc_id!r}: vectors contain NaN or infinity")
        for c in w.chunks:
            if a.text[c.char_start:c.char_end] != c.text or c.title != a.title:
                raise ValueError(f"chunk {c.id} does not match its article's text at {c.char_start}-{c.char_end}")

    def _terms(self, chunk: Chunk) -> str:
        return " ".join(chunk_terms(self.analyzer, chunk))

    def write(self, writes: Sequence[ArticleWrite], *,
              replace_sources: Sequence[tuple[str, str]] = ()) -> WriteReport:
        """Add or replace articles in one transaction.

        Policy for an id given twice in one batch: the last one wins, and the report
        names it. ``replace_sources`` lists (collection, source_key) pairs whose articles
        are exactly the ones in this batch: any other article from them is removed, so a
        re-ingested file that lost an article loses it in the index too.
        """
        last, dup = last_of_each(writes)
        for w in last.values():
            self._validate(w)
        # Analysis (jieba) is the slow part of a write: do it before taking the lock.
        terms = {w.article.doc_id: [self._terms(c) for c in w.chunks] for w in last.values()}
        added = replaced = removed = n_chunks = 0
        with self._writing() as conn:
            seq = self._seq(conn) + 1
            conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            keep = set(last)
            for coll, key in dict.fromkeys(replace_sources):
                for (aid, doc_id) in conn.execute("SELECT id, doc_id FROM articles WHERE collection = ? AND "
                                                  "source_key = ?", (coll, key)).fetchall():
                    if doc_id not in keep:
                        self._delete_article(conn, aid, seq)
                        removed += 1
            now = time.time()
            for doc_id, w in last.items():
                row = conn.execute("SELECT id FROM articles WHERE doc_id = ?", (doc_id,)).fetchone()
                if row:
                    self._delete_article(conn, row[0], seq)
                    replaced += 1
                else:
                    added += 1
                n_chunks += self._insert(conn, w, terms[doc_id], seq, now)
        self.refresh()
        return WriteReport(added, replaced, removed, n_chunks, dup, seq)

    @contextmanager
    def _writing(self, *, same_analyzer: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction: this process's writers in turn (the lock), other processes'
        kept out by ``BEGIN IMMEDIATE``; committed whole or rolled back whole. Adds and deletes
        need the analyzer the lexical index was made with (``same_analyzer``); the rebuild
        that replaces it does not."""
        if same_analyzer and not self.analyzer_matches:
            raise IndexMismatchError(f"index at {self.path} was analysed with {self.meta.get('analyzer')!r}; "
                                     f"run 'zhrag check --repair' before changing it")
        with self._write_lock:
            if self._writer_conn is None:
                self._writer_conn = self._connect()
            conn = self._writer_conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _insert(self, conn: sqlite3.Connection, w: ArticleWrite, terms: list[str], seq: int, now: float) -> int:
        a, meta = w.article, dict(w.article.meta)
        date = date_key(meta.get("date"))
        column, source = meta.get("column"), meta.get("source")
        cur = conn.execute(
            "INSERT INTO articles(doc_id, collection, source_key, origin, title, text, source_path, meta, content_hash, "
            "col, source, date, seq, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (a.doc_id, w.collection, w.source_key, w.origin, a.title, a.text, a.source_path,
             json.dumps(meta, ensure_ascii=False, default=str), w.content_hash,
             None if column is None else str(column), None if source is None else str(source), date, seq, now))
        aid = cur.lastrowid
        labels = (self._label(conn, "collection", w.collection), self._label(conn, "column", column),
                  self._label(conn, "source", source))
        vecs = np.ascontiguousarray(w.vectors, dtype=np.float32)
        for c, vec, t in zip(w.chunks, vecs, terms, strict=True):
            blob = vec.tobytes()
            cid = conn.execute(
                "INSERT INTO chunks(chunk_id, article, char_start, char_end, meta, collection_id, column_id, source_id, "
                "date, vector, crc, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (c.id, aid, c.char_start, c.char_end, json.dumps(dict(c.meta), ensure_ascii=False, default=str),
                 *labels, date, blob, zlib.crc32(blob), seq)).lastrowid
            conn.execute("INSERT INTO lexical(rowid, terms) VALUES (?, ?)", (cid, t))
        return len(w.chunks)

    def _delete_article(self, conn: sqlite3.Connection, aid: int, seq: int) -> None:
        rows = conn.execute(_HYDRATE.format("SELECT id FROM chunks WHERE article = ?"), (aid,)).fetchall()
        for r in rows:
            chunk = self._chunk(r)
            conn.execute("INSERT INTO lexical(lexical, rowid, terms) VALUES ('delete', ?, ?)", (r[0], self._terms(chunk)))
            conn.execute("INSERT OR REPLACE INTO dropped(chunk, seq) VALUES (?, ?)", (r[0], seq))
        conn.execute("DELETE FROM chunks WHERE article = ?", (aid,))
        conn.execute("DELETE FROM articles WHERE id = ?", (aid,))

    def delete(self, doc_ids: Sequence[str]) -> list[str]:
        """Delete articles (one transaction); returns the ids that existed."""
        gone: list[str] = []
        with self._writing() as conn:
            seq = self._seq(conn) + 1
            for doc_id in dict.fromkeys(doc_ids):
                row = conn.execute("SELECT id FROM articles WHERE doc_id = ?", (doc_id,)).fetchone()
                if row:
                    self._delete_article(conn, row[0], seq)
                    gone.append(doc_id)
            if gone:
                conn.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
        self.refresh()
        return gone

    # ------------------------------------------------------------------ reading

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One consistent snapshot for everything read inside (re-entrant per thread)."""
        conn = self._conn()
        if self._local.depth == 0:
            self.refresh()
            conn.execute("BEGIN")
        self._local.depth += 1
        try:
            yield
        finally:
            self._local.depth -= 1
            if self._local.depth == 0:
                conn.execute("COMMIT")

    @staticmethod
    def _chunk(r: Sequence[Any]) -> Chunk:
        return Chunk(id=r[1], doc_id=r[2], title=r[3], text=r[4], char_start=r[5], char_end=r[6],
                     meta=frozen_meta(json.loads(r[7])))

    def _hydrate(self, ids: Sequence[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        rows = self._conn().execute(_HYDRATE.format(",".join("?" * len(ids))), list(ids)).fetchall()
        return {r[0]: self._chunk(r) for r in rows}

    def _label_ids(self, kind: str, names: Sequence[str]) -> frozenset[int] | None:
        if not names:
            return None
        missing = [n for n in names if (kind, n) not in self._labels]
        if missing:  # a label another process created since the last refresh
            for n, i in self._conn().execute(
                    f"SELECT name, id FROM labels WHERE kind = ? AND name IN ({','.join('?' * len(missing))})",
                    [kind, *missing]):
                self._labels[(kind, n)] = i
        return frozenset(self._labels[(kind, n)] for n in names if (kind, n) in self._labels)

    def _dense_filter(self, f: Filters | None) -> DenseFilter | None:
        if f is None or f.is_empty():
            return None
        return DenseFilter(collection=self._label_ids("collection", f.collections),
                           column=self._label_ids("column", f.columns), source=self._label_ids("source", f.sources),
                           date_from=date_key(f.date_from) or None, date_to=date_key(f.date_to) or None)

    def search_dense(self, query_vec: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        with self.reading():
            flt = self._dense_filter(filters)
            if self._dense.approximate:
                found = self._rescore(query_vec, self._dense.search(query_vec, max(RERANK_FACTOR * k, 100), flt))[:k]
            else:
                found = self._dense.search(query_vec, k, flt)
            chunks = self._hydrate([i for i, _ in found])
            # A chunk deleted after the dense index was last refreshed is not in the snapshot: skip it.
            return [(chunks[i], s) for i, s in found if i in chunks]

    def _rescore(self, query_vec: np.ndarray, found: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Exact cosines, from the stored float32 vectors, for approximate candidates."""
        if not found:
            return []
        q = np.asarray(query_vec, np.float32).reshape(-1)
        ids = [i for i, _ in found]
        rows = self._conn().execute(f"SELECT id, vector FROM chunks WHERE id IN ({','.join('?' * len(ids))})",
                                    ids).fetchall()
        exact = [(i, float(np.frombuffer(v, np.float32) @ q)) for i, v in rows]
        return sorted(exact, key=lambda t: -t[1])

    def _rows_with(self, terms: set[str]) -> dict[str, int]:
        """How many chunks hold each term, remembered until the index grows or shrinks by a tenth."""
        n = len(self._dense)
        out, ask = {}, []
        for t in terms:
            hit = self._df_cache.get(t)
            if hit is not None and abs(hit[1] - n) * 10 <= max(n, 1000):
                out[t] = hit[0]
            else:
                ask.append(t)
        for i in range(0, len(ask), 500):
            part = ask[i:i + 500]
            found = dict(self._conn().execute(
                f"SELECT term, doc FROM temp.lexical_rows WHERE term IN ({','.join('?' * len(part))})", part))
            for t in part:
                out[t] = found.get(t, 0)
        if len(self._df_cache) > DF_CACHE_SIZE:
            self._df_cache.clear()
        self._df_cache.update((t, (out[t], n)) for t in ask)
        return out

    def query_terms(self, query: str) -> list[str]:
        """The query's terms minus those too common to be worth scoring (``MAX_TERM_SHARE``);
        if every term is that common, the rarest ones are kept."""
        terms = matchable_terms(self.analyzer, query)
        n = len(self._dense)
        if not terms or n < 1000:  # too few chunks for shares to mean anything
            return terms
        rows = self._rows_with(set(terms))
        limit = self.max_term_share * n
        kept = [t for t in terms if rows[t] <= limit]
        if not kept:
            rarest = sorted(set(terms), key=rows.__getitem__)[:3]
            kept = [t for t in terms if t in rarest]
        return kept

    def search_lexical(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        match = _fts_query(self.query_terms(query))
        if not match or k <= 0:
            return []
        sql = "SELECT lexical.rowid, bm25(lexical) AS s FROM lexical"
        args: list[Any] = [match]
        where = ["lexical MATCH ?"]
        flt = self._dense_filter(filters)
        with self.reading():
            if flt is not None:
                sql += " JOIN chunks c ON c.id = lexical.rowid"
                for field, allowed in (("collection_id", flt.collection), ("column_id", flt.column),
                                       ("source_id", flt.source)):
                    if allowed is not None:
                        where.append(f"c.{field} IN ({','.join('?' * len(allowed))})")
                        args.extend(sorted(allowed))
                if flt.date_from:
                    where.append("c.date >= ?")
                    args.append(flt.date_from)
                if flt.date_to:
                    where.append("c.date > 0 AND c.date <= ?")
                    args.append(flt.date_to)
            sql += " WHERE " + " AND ".join(where) + " ORDER BY s LIMIT ?"
            args.append(k)
            rows = self._conn().execute(sql, args).fetchall()
            chunks = self._hydrate([r[0] for r in rows])
            # FTS5's bm25() is negative (smaller is better); flip it to "higher is better".
            return [(chunks[r[0]], -float(r[1])) for r in rows if r[0] in chunks]

    def dense_scores(self, query_vec: np.ndarray, chunks: Sequence[Chunk]) -> list[float]:
        """Cosines of given chunks from their stored vectors (no re-embedding)."""
        q = np.asarray(query_vec, np.float32).reshape(-1)
        with self.reading():
            rows = dict(self._conn().execute(
                f"SELECT chunk_id, vector FROM chunks WHERE chunk_id IN ({','.join('?' * len(chunks))})",
                [c.id for c in chunks]).fetchall()) if chunks else {}
        return [float(np.frombuffer(rows[c.id], np.float32) @ q) if c.id in rows else 0.0 for c in chunks]

    def get_article(self, doc_id: str) -> Article | None:
        row = self._conn().execute("SELECT doc_id, title, text, source_path, meta FROM articles WHERE doc_id = ?",
                                   (doc_id,)).fetchone()
        if row is None:
            return None
        return Article(row[0], row[1], row[2], row[3], frozen_meta(json.loads(row[4])), given_id=True)

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The article's current chunks in text order (what retrieval can return of it)."""
        rows = self._conn().execute(_HYDRATE.split(" WHERE ")[0] + " WHERE a.doc_id = ? ORDER BY c.char_start, c.id",
                                    (doc_id,)).fetchall()
        return [self._chunk(r) for r in rows]

    _INFO = ("SELECT a.doc_id, a.title, length(a.text), a.collection, a.source_key, a.origin, a.content_hash, "
             "(SELECT count(*) FROM chunks c WHERE c.article = a.id), a.meta FROM articles a")

    @staticmethod
    def _info(r: Sequence[Any]) -> ArticleInfo:
        return ArticleInfo(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], json.loads(r[8]))

    def list_articles(self, offset: int = 0, limit: int = 100, filters: Filters | None = None,
                      title_contains: str = "", person: str = "") -> list[ArticleInfo]:
        where: list[str] = []
        args: list[Any] = []
        if title_contains:  # instr, not LIKE: no wildcard characters to escape in what staff type
            where.append("instr(a.title, ?) > 0")
            args.append(title_contains)
        if person:  # a reporter's or photographer's articles: their names are metadata lists
            # instr first: json_each on every article's metadata took 0.3 s over 100,000
            # articles, the plain substring test ahead of it 0.035 s (the metadata is stored as
            # written, not \u-escaped); the people answer asks this of every "X是谁"
            where.append("instr(a.meta, ?) > 0 AND (" + " OR ".join(
                f"EXISTS (SELECT 1 FROM json_each(a.meta, '$.{k}') WHERE value = ?)" for k in PEOPLE_KEYS) + ")")
            args.extend([person] * (1 + len(PEOPLE_KEYS)))
        if filters is not None:
            for field, values in (("collection", filters.collections), ("col", filters.columns),
                                  ("source", filters.sources)):
                if values:
                    where.append(f"a.{field} IN ({','.join('?' * len(values))})")
                    args.extend(values)
            if filters.date_from:
                where.append("a.date >= ?")
                args.append(date_key(filters.date_from))
            if filters.date_to:
                where.append("a.date > 0 AND a.date <= ?")
                args.append(date_key(filters.date_to))
        sql = self._INFO + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY a.id LIMIT ? OFFSET ?"
        return [self._info(r) for r in self._conn().execute(sql, [*args, limit, offset])]

    def iter_articles(self) -> Iterator[tuple[Article, ArticleInfo]]:
        """Every article with its listing facts, in insertion order (for re-embedding and export)."""
        last = 0
        while True:
            rows = self._conn().execute(
                "SELECT a.id, a.doc_id, a.title, a.text, a.source_path, a.meta, a.collection, a.source_key, a.origin, "
                "a.content_hash FROM articles a WHERE a.id > ? ORDER BY a.id LIMIT 500", (last,)).fetchall()
            if not rows:
                return
            for r in rows:
                meta = json.loads(r[5])
                yield (Article(r[1], r[2], r[3], r[4], frozen_meta(meta), given_id=True),
                       ArticleInfo(r[1], r[2], len(r[3]), r[6], r[7], r[8], r[9], 0, meta))
            last = rows[-1][0]

    def iter_writes(self) -> Iterator[ArticleWrite]:
        """Every article as it was written: its chunks and their stored vectors, so another
        store can be filled without chunking or embedding again (``zhrag migrate``)."""
        for a, info in self.iter_articles():
            rows = self._conn().execute(
                "SELECT c.chunk_id, c.vector FROM chunks c JOIN articles a ON a.id = c.article WHERE a.doc_id = ?",
                (a.doc_id,)).fetchall()
            vec = dict(rows)
            chunks = self.chunks_of(a.doc_id)
            vectors = (np.stack([np.frombuffer(vec[c.id], np.float32) for c in chunks]) if chunks
                       else np.zeros((0, self.dim), np.float32))
            yield ArticleWrite(a, tuple(chunks), vectors, info.collection, info.source_key, info.content_hash,
                               info.origin)

    def source_hashes(self, collection: str, source_keys: Sequence[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        keys = list(dict.fromkeys(source_keys))
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            out.update(self._conn().execute(
                f"SELECT source_key, content_hash FROM articles WHERE collection = ? AND source_key IN "
                f"({','.join('?' * len(part))})", [collection, *part]).fetchall())
        return out

    def stats(self) -> dict[str, Any]:
        conn = self._conn()
        with self.reading():
            articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            colls = dict(conn.execute("SELECT collection, count(*) FROM articles GROUP BY collection").fetchall())
        return {"articles": articles, "chunks": chunks, "collections": colls, "seq": self._applied}

    # ------------------------------------------------------------------ maintenance

    def check(self) -> list[str]:
        """A full check: SQLite's integrity check, the lexical index, every vector's CRC."""
        conn = self._conn()
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall() if r[0] != "ok"]
        try:
            conn.execute("INSERT INTO lexical(lexical, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"lexical index: {exc}")
        bad = [r[0] for r in conn.execute("SELECT chunk_id, vector, crc FROM chunks") if zlib.crc32(r[1]) != r[2]]
        if bad:
            problems.append(f"{len(bad)} vectors fail their checksum: chunks {', '.join(bad[:5])}")
        return problems

    def rebuild_lexical(self) -> int:
        """Re-analyse every chunk into a fresh lexical index (after damage or an analyzer change)."""
        with self._writing(same_analyzer=False) as conn:
            conn.execute("INSERT INTO lexical(lexical) VALUES ('delete-all')")
            n = 0
            for r in conn.execute(_HYDRATE.format("SELECT id FROM chunks")).fetchall():
                conn.execute("INSERT INTO lexical(rowid, terms) VALUES (?, ?)", (r[0], self._terms(self._chunk(r))))
                n += 1
            conn.execute("UPDATE meta SET value = ? WHERE key = 'analyzer'", (self.analyzer.name,))
        self.analyzer_matches = True
        return n

    def backup(self, dest: Path) -> None:
        """A consistent copy while the service runs (SQLite's online backup)."""
        dest = Path(dest)
        tmp = dest.with_name(dest.name + ".partial")
        tmp.unlink(missing_ok=True)
        out = sqlite3.connect(tmp)
        try:
            self._conn().backup(out)
            # A copy is another database from here on: a saved dense index of this one must not match it.
            out.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('uid', ?)", (uuid.uuid4().hex,))
            out.commit()
        finally:
            out.close()
        os.replace(tmp, dest)

    def dense_bytes(self) -> int:
        return self._dense.nbytes()


__all__ = ["DB_NAME", "DEFAULT_COLLECTION", "FORMAT_VERSION", "SQLiteStore", "check_text"]
