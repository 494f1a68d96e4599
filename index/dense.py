"""The in-memory dense index: unit vectors in one matrix, searched exactly; for big
indexes, an inverted file of 8-bit codes that can be saved and read back.

It is derived data: the database holds every vector, and this matrix is filled from it
on open and kept up to date from the database's change sequence. Deletes only clear a
row's ``alive`` bit, so a delete costs nothing here and a search in progress never sees
a half-moved matrix; dead rows are squeezed out once they are a quarter of the matrix.

Each row also carries its filter fields (collection, column, source as label ids, date
as yyyymmdd), so a filter becomes a boolean mask applied *before* the top-k is taken:
a filtered query still finds its passages however few match.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FILTER_FIELDS = ("collection", "column", "source", "date")
# The inverted file for big indexes: list count by size, lists probed per query, chosen in bench/store.py.
MIN_LISTS, MAX_LISTS = 256, 4096
# Share of the lists a query probes. Measured at 1M chunks (bench/store.py: copies of real
# chunk vectors jittered to a cosine of 0.9, 100 real questions; recall@10 after exact
# re-scoring): 1/32 of the lists 0.80, 1/16 0.92, 1/8 0.96, 1/4 0.99.
PROBE_SHARE = 0.25
RANGE_MARGIN = 0.2  # share of each dimension's sampled range added on either side of it
SNAPSHOT_VERSION = 1


class SnapshotError(Exception):
    """A saved dense index that cannot be used (unreadable, damaged, or of another database)."""


ROW_FIELDS = {**{f: np.int32 for f in FILTER_FIELDS}, "crc": np.uint32}


@dataclass(frozen=True)
class DenseFilter:
    """Label ids allowed per field (None = any) and an inclusive yyyymmdd date range."""

    collection: frozenset[int] | None = None
    column: frozenset[int] | None = None
    source: frozenset[int] | None = None
    date_from: int | None = None
    date_to: int | None = None


class DenseIndex:
    """Exact inner-product search over unit vectors, with tombstones and filter masks.

    ``approximate`` is False: its scores are the exact cosines.

    One lock guards the bookkeeping; appends go past the rows readers use, growth and
    compaction build new arrays, so a reader holding the old ones stays consistent.
    """

    approximate = False
    compacts = True  # squeeze dead rows out once they are a quarter of the matrix

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._lock = threading.Lock()
        self._n = 0
        self._vecs = np.zeros((0, dim), np.float32)
        self._ids = np.zeros(0, np.int64)
        self._alive = np.zeros(0, bool)
        self._fields = {f: np.zeros(0, t) for f, t in ROW_FIELDS.items()}
        self._pos: dict[int, int] = {}
        self._dead = 0

    def __len__(self) -> int:
        return len(self._pos)  # the live rows

    def _grow(self, need: int) -> None:
        cap = len(self._ids)
        if need <= cap:
            return
        cap = max(need, 2 * cap, 1024)
        self._grow_vectors(cap)
        self._ids = np.resize(self._ids, cap)
        alive = np.zeros(cap, bool)
        alive[: self._n] = self._alive[: self._n]
        self._alive = alive
        self._fields = {f: np.resize(a, cap) for f, a in self._fields.items()}

    def _grow_vectors(self, cap: int) -> None:
        vecs = np.zeros((cap, self.dim), np.float32)
        vecs[: self._n] = self._vecs[: self._n]
        self._vecs = vecs

    def _append_vectors(self, start: int, vecs: np.ndarray) -> None:
        self._vecs[start:start + len(vecs)] = vecs

    def add(self, ids: Sequence[int], vecs: np.ndarray, fields: Mapping[str, Sequence[int]]) -> None:
        """Append rows. An id already present is left as it is: a stored chunk row never
        changes (a replaced chunk gets a new id), so it is the same row replayed.

        ``fields`` holds each filter field and ``crc`` (the stored vector's checksum, kept so
        a saved snapshot can be matched against the database)."""
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        with self._lock:
            fresh = np.fromiter((j for j, i in enumerate(ids) if int(i) not in self._pos), np.int64)
            if not len(fresh):
                return
            n0, m = self._n, len(fresh)
            self._grow(n0 + m)
            self._append_vectors(n0, vecs[fresh])
            new_ids = np.asarray(ids, np.int64)[fresh]
            self._ids[n0:n0 + m] = new_ids
            self._alive[n0:n0 + m] = True
            for f, a in self._fields.items():
                a[n0:n0 + m] = np.asarray(fields[f], a.dtype)[fresh]
            self._pos.update(zip(new_ids.tolist(), range(n0, n0 + m), strict=True))
            self._n = n0 + m

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                pos = self._pos.pop(int(i), None)
                if pos is not None and self._alive[pos]:
                    self._alive[pos] = False
                    self._dead += 1
            if self.compacts and self._dead > 1000 and self._dead * 4 > self._n:
                self._compact()

    def _compact(self) -> None:
        keep = np.flatnonzero(self._alive[: self._n])
        self._vecs = self._vecs[keep].copy()
        self._ids = self._ids[keep].copy()
        self._fields = {f: a[keep].copy() for f, a in self._fields.items()}
        self._alive = np.ones(len(keep), bool)
        self._n = len(keep)
        self._dead = 0
        self._pos = {int(i): p for p, i in enumerate(self._ids.tolist())}

    def _mask(self, flt: DenseFilter | None) -> np.ndarray:
        m = self._alive[: self._n].copy()
        if flt is None:
            return m
        for f in ("collection", "column", "source"):
            allowed = getattr(flt, f)
            if allowed is not None:
                m &= np.isin(self._fields[f][: self._n], np.fromiter(allowed, np.int32, len(allowed)))
        dates = self._fields["date"][: self._n]
        if flt.date_from is not None:
            m &= dates >= flt.date_from
        if flt.date_to is not None:
            m &= (dates <= flt.date_to) & (dates > 0)
        return m

    def search(self, query: np.ndarray, k: int, flt: DenseFilter | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (id, cosine) pairs, best first, among live rows that pass the filter.

        The lock covers only taking the arrays and the mask; the matrix product runs
        outside it (rows below ``n`` never change in place), so searches run in parallel.
        """
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(-1)
        with self._lock:
            n = self._n
            if k <= 0 or n == 0:
                return []
            vecs, ids = self._vecs, self._ids
            mask = self._mask(flt) if (flt is not None or self._dead) else None
        if mask is not None:
            rows = np.flatnonzero(mask)
            if not len(rows):
                return []
            # A selective filter scores only its rows; otherwise score all and mask.
            if len(rows) * 4 < n:
                scores, ids = vecs[rows] @ q, ids[rows]
            else:
                scores, ids = np.where(mask, vecs[:n] @ q, -np.inf), ids[:n]
        else:
            scores, ids = vecs[:n] @ q, ids[:n]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(ids[t]), float(scores[t])) for t in top if np.isfinite(scores[t])]

    def nbytes(self) -> int:
        return int(self._vecs.nbytes + self._ids.nbytes + self._alive.nbytes
                   + sum(a.nbytes for a in self._fields.values()))


class IVFDenseIndex(DenseIndex):
    """For big indexes: an inverted file of 8-bit codes (FAISS ``IndexIVFScalarQuantizer``).

    Memory is a quarter of float32's (about 420 MB at 1M chunks of 384 dimensions), and a
    query scans only the lists nearest to it (a quarter of them: ``PROBE_SHARE``) instead
    of all of them. Scores are approximate: the store asks for a few times more candidates
    than it needs and re-scores them exactly from the float32 vectors it keeps, so the final
    ranking is exact among the candidates (recall against flat search: ``bench/store.py``).

    A filter narrows the rows with a bitmap and widens the probe in proportion (a filter
    that keeps 1% of rows probes every list), so a filtered query still finds its passages.
    Deleted rows stay behind the mask until the index is saved, when they are dropped.
    FAISS is not safe to search while it grows, so here the lock covers the search too.

    The index is derived data, but training and filling it take a minute at 1M chunks, so
    :meth:`save` writes it beside the database and :meth:`load` reads it back, checked
    against per-array CRCs; the store replays changes made since (its change sequence).
    """

    approximate = True
    compacts = False  # positions are the ids inside FAISS: dead rows are removed on save, not squeezed

    def __init__(self, dim: int, nlist: int) -> None:
        import faiss

        super().__init__(dim)
        self.nlist = nlist
        self._quantizer: Any = faiss.IndexFlatIP(dim)  # FAISS's classes are untyped: Any, not a false promise
        self._ivf: Any = faiss.IndexIVFScalarQuantizer(self._quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                  faiss.METRIC_INNER_PRODUCT)
        # Each dimension's code range is its range in the training sample, widened on both sides:
        # vectors added years later fall outside a sample's exact range and would be clipped.
        self._ivf.sq.rangestat = faiss.ScalarQuantizer.RS_minmax
        self._ivf.sq.rangestat_arg = RANGE_MARGIN

    @staticmethod
    def lists_for(n: int) -> int:
        """About 1,000 rows a list: k-means trains in seconds and a probe stays small."""
        by_size = min(MAX_LISTS, max(MIN_LISTS, 2 ** round(np.log2(max(n, 1) / 1000))))
        return int(max(1, min(by_size, n // 40)))  # k-means wants ~40 training rows a list

    def train(self, sample: np.ndarray) -> None:
        """Cluster a sample of the vectors into the lists (before the first add)."""
        self._ivf.train(np.ascontiguousarray(sample, dtype=np.float32))

    def _grow_vectors(self, cap: int) -> None:
        pass  # the codes live in FAISS, which grows by itself

    def _append_vectors(self, start: int, vecs: np.ndarray) -> None:
        if not self._ivf.is_trained:  # only when nothing trained it first: the first rows set the lists
            self._ivf.train(vecs)
        self._ivf.add_with_ids(vecs, np.arange(start, start + len(vecs), dtype=np.int64))

    def search(self, query: np.ndarray, k: int, flt: DenseFilter | None = None) -> list[tuple[int, float]]:
        import faiss

        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        with self._lock:
            n = self._n
            if k <= 0 or n == 0:
                return []
            params = faiss.SearchParametersIVF()
            params.nprobe = probe = max(1, round(self.nlist * PROBE_SHARE))
            if flt is not None or self._dead:
                mask = self._mask(flt)
                kept = int(mask.sum())
                if not kept:
                    return []
                bits = np.packbits(mask, bitorder="little")
                params.sel = faiss.IDSelectorBitmap(len(bits), faiss.swig_ptr(bits))  # its size is in bytes
                params.nprobe = min(self.nlist, int(np.ceil(probe * n / kept)))
            scores, pos = self._ivf.search(q, min(k, n), params=params)
            ids = self._ids
            return [(int(ids[p]), float(s)) for s, p in zip(scores[0], pos[0], strict=True) if p >= 0]

    def nbytes(self) -> int:
        return int(self._ivf.sa_code_size() * self._ivf.ntotal + 8 * self._ivf.ntotal + self._ids.nbytes
                   + self._alive.nbytes + sum(a.nbytes for a in self._fields.values()))

    # ------------------------------------------------------------------ snapshot

    def save(self, path: Path, stamp: Mapping[str, Any]) -> None:
        """Write the index to ``path`` atomically (temporary file, fsync, rename), stamped
        with what the caller needs to match it against the database later."""
        import faiss

        with self._lock:
            n = self._n
            if self._dead:  # dropped for good from the codes; the positions stay unused
                # swig_ptr keeps no reference: the array must outlive the selector's constructor.
                dead = np.flatnonzero(~self._alive[:n]).astype(np.int64)
                self._ivf.remove_ids(faiss.IDSelectorBatch(len(dead), faiss.swig_ptr(dead)))
                self._dead = 0
            arrays: dict[str, np.ndarray] = {"index": faiss.serialize_index(self._ivf), "ids": self._ids[:n].copy(),
                      "alive": self._alive[:n].copy(), **{f: a[:n].copy() for f, a in self._fields.items()}}
        header = {**stamp, "snapshot_version": SNAPSHOT_VERSION, "dim": self.dim, "nlist": self.nlist, "n": n,
                  "crc": {k: zlib.crc32(a.tobytes()) for k, a in arrays.items()}}
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
        try:
            with open(tmp, "wb") as f:
                savez: Any = np.savez  # typed as if every keyword were allow_pickle
                savez(f, header=np.frombuffer(json.dumps(header).encode(), np.uint8), **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("dense index saved: %d rows in %s (%.0f MB)", n, path, path.stat().st_size / 1e6)

    @classmethod
    def load(cls, path: Path) -> tuple[IVFDenseIndex, dict[str, Any]]:
        """The saved index and its stamp; :class:`SnapshotError` if it is unreadable or damaged."""
        import faiss

        try:
            with np.load(path, allow_pickle=False) as z:
                header = json.loads(bytes(z["header"]))
                arrays = {k: z[k] for k in header["crc"]}
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise SnapshotError(f"cannot read {path}: {exc}") from exc
        if header.get("snapshot_version") != SNAPSHOT_VERSION:
            raise SnapshotError(f"{path} has snapshot version {header.get('snapshot_version')}")
        bad = [k for k, a in arrays.items() if zlib.crc32(a.tobytes()) != header["crc"][k]]
        if bad:
            raise SnapshotError(f"{path}: {', '.join(bad)} fail their checksum")
        self = cls.__new__(cls)
        DenseIndex.__init__(self, int(header["dim"]))
        self.nlist = int(header["nlist"])
        try:
            self._ivf = faiss.deserialize_index(arrays["index"])  # already the IVF class; it owns its memory
        except RuntimeError as exc:
            raise SnapshotError(f"{path}: the FAISS index does not load ({exc})") from exc
        self._quantizer = self._ivf.quantizer
        self._ids, self._alive = arrays["ids"], arrays["alive"]
        self._fields = {f: arrays[f].astype(t, copy=False) for f, t in ROW_FIELDS.items()}
        self._n = len(self._ids)
        live = np.flatnonzero(self._alive)
        self._pos = dict(zip(self._ids[live].tolist(), live.tolist(), strict=True))
        return self, header

    def sample(self, k: int, seed: int = 0) -> list[tuple[int, int]]:
        """Up to ``k`` random live rows as (id, vector crc): to match the index against the database."""
        with self._lock:
            live = np.flatnonzero(self._alive[: self._n])
            pick = np.random.default_rng(seed).choice(live, min(k, len(live)), replace=False) if len(live) else live
            return [(int(self._ids[p]), int(self._fields["crc"][p])) for p in pick]
