"""The in-memory dense index: unit vectors in one matrix, searched exactly.

It is derived data: the database holds every vector, and this matrix is filled from it
on open and kept up to date from the database's change sequence. Deletes only clear a
row's ``alive`` bit, so a delete costs nothing here and a search in progress never sees
a half-moved matrix; dead rows are squeezed out once they are a quarter of the matrix.

Each row also carries its filter fields (collection, column, source as label ids, date
as yyyymmdd), so a filter becomes a boolean mask applied *before* the top-k is taken:
a filtered query still finds its passages however few match.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

FILTER_FIELDS = ("collection", "column", "source", "date")


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
        self._fields = {f: np.zeros(0, np.int32) for f in FILTER_FIELDS}
        self._pos: dict[int, int] = {}
        self._dead = 0

    def __len__(self) -> int:
        return self._n - self._dead

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
        changes (a replaced chunk gets a new id), so it is the same row replayed."""
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        with self._lock:
            fresh = [j for j, i in enumerate(ids) if int(i) not in self._pos]
            if not fresh:
                return
            n0 = self._n
            self._grow(n0 + len(fresh))
            self._append_vectors(n0, vecs[fresh])
            for k, j in enumerate(fresh):
                pos = n0 + k
                self._pos[int(ids[j])] = pos
                self._ids[pos] = ids[j]
                self._alive[pos] = True
                for f in FILTER_FIELDS:
                    self._fields[f][pos] = fields[f][j]
            self._n = n0 + len(fresh)

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


class QuantizedDenseIndex(DenseIndex):
    """For big indexes: vectors as 8-bit scalar codes (FAISS ``IndexScalarQuantizer``), a
    quarter of float32's memory (384 MB instead of 1.5 GB at 1M chunks of 384 dimensions).

    Scores are approximate: the store asks for a few times more candidates than it needs
    and re-scores them exactly from the float32 vectors it keeps, so the final ranking is
    exact among the candidates (recall against flat search in ``bench/store.py``).
    Deleted rows stay as codes behind a mask until the next open; FAISS is not safe to
    search while it grows, so here the lock covers the search too.
    """

    approximate = True
    compacts = False  # codes cannot be squeezed without re-encoding: dead rows wait for the next open

    def __init__(self, dim: int) -> None:
        import faiss

        super().__init__(dim)
        self._sq = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)

    def _grow_vectors(self, cap: int) -> None:
        pass  # the codes live in FAISS, which grows by itself

    def _append_vectors(self, start: int, vecs: np.ndarray) -> None:
        if not self._sq.is_trained:  # the first rows added (all of them, on open) set the ranges
            self._sq.train(vecs[:200_000])
        self._sq.add(vecs)  # FAISS numbers rows in order, so its row numbers are our positions

    def search(self, query: np.ndarray, k: int, flt: DenseFilter | None = None) -> list[tuple[int, float]]:
        import faiss

        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        with self._lock:
            n = self._n
            if k <= 0 or n == 0:
                return []
            params = None
            if flt is not None or self._dead:
                mask = self._mask(flt)
                if not mask.any():
                    return []
                bits = np.packbits(mask, bitorder="little")
                params = faiss.SearchParameters()
                params.sel = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bits))
            scores, pos = self._sq.search(q, min(k, n), params=params)
            ids = self._ids
            return [(int(ids[p]), float(s)) for s, p in zip(scores[0], pos[0], strict=True) if p >= 0]

    def nbytes(self) -> int:
        return int(self._sq.sa_code_size() * self._n + self._ids.nbytes + self._alive.nbytes
                   + sum(a.nbytes for a in self._fields.values()))
