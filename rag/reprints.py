"""Reprints: the same story in two editions, or 转自 another paper, is indexed once.

An article is compared by MinHash over character 5-shingles of its text (punctuation and
spaces dropped, so a re-typeset copy still matches), with banded LSH to find candidates
and the signatures' agreement as the estimate of their Jaccard similarity. At 0.8 or more
the newcomer is a reprint: it is kept as a record without chunks (``meta.reprint_of``),
so it is never retrieved twice, and the article that stays indexed lists it in
``meta.reprints`` (its source, date, title and id).

Why not exact hashes: reprints differ in a headline word, a byline or a trailing
"（转自…）". Why 5-shingles: Chinese news shares short phrases everywhere; 5 characters
are rare enough that two different stories on one topic stay well below 0.8.

The index lives in memory, built from the store on first use (a few seconds per 10,000
articles) and kept up to date by the indexer that owns it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

SHINGLE = 5
PERMUTATIONS = 128
BANDS, ROWS = 16, 8  # LSH: candidates from about 0.7 similarity up; the estimate then decides
THRESHOLD = 0.85
# Template reports (a stock's daily money flow, a weather bulletin) share nearly all their
# words and differ in the figures: the same story carries the same numbers.
MIN_NUMBER_AGREEMENT = 0.7
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
MIN_CHARS = 80  # shorter texts (notices, captions) share too much by chance to call reprints
_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20261124)  # fixed, so signatures agree between runs
_A = _rng.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)
_DROP = re.compile(r"[\s\W_]+", re.UNICODE)


def signature(text: str) -> np.ndarray | None:
    """The MinHash signature of a text, or None when it is too short to judge."""
    s = _DROP.sub("", text)
    if len(s) < MIN_CHARS:
        return None
    # blake2b-free and stable: the shingles' own code points, folded into 32 bits.
    codes = np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(codes) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    for i in range(SHINGLE):
        h = (h * np.uint64(1_000_003) + codes[i:i + n]) & np.uint64(0xFFFFFFFF)
    h = np.unique(h)
    # (a*h + b) mod p for every permutation, minimised over shingles; uint64 wraps, which
    # keeps the hashes well mixed (only consistency between signatures matters).
    sig = ((h[None, :] * _A[:, None] + _B[:, None]) % np.uint64(_PRIME)).min(axis=1)
    return sig.astype(np.uint32)  # 512 bytes an article: 150 MB for 300,000 articles


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(a == b))


def same_numbers(a: str, b: str) -> bool:
    """Whether two texts state (nearly) the same figures; texts with few figures pass."""
    x, y = set(_NUMBERS.findall(a)), set(_NUMBERS.findall(b))
    if min(len(x), len(y)) < 3:
        return True
    return len(x & y) / len(x | y) >= MIN_NUMBER_AGREEMENT


@dataclass
class ReprintIndex:
    """Signatures of the indexed articles, with LSH buckets to find near-duplicates."""

    def __post_init__(self) -> None:
        self._sigs: dict[str, np.ndarray] = {}
        self._numbers: dict[str, str] = {}  # the figures of each text, space-joined
        self._buckets: dict[tuple[int, bytes], set[str]] = {}

    def __len__(self) -> int:
        return len(self._sigs)

    def _keys(self, sig: np.ndarray) -> Iterable[tuple[int, bytes]]:
        for b in range(BANDS):
            yield b, sig[b * ROWS:(b + 1) * ROWS].tobytes()

    def add(self, doc_id: str, text: str) -> None:
        sig = signature(text)
        if sig is None:
            return
        self.remove(doc_id)
        self._sigs[doc_id] = sig
        self._numbers[doc_id] = " ".join(_NUMBERS.findall(text))
        for k in self._keys(sig):
            self._buckets.setdefault(k, set()).add(doc_id)

    def remove(self, doc_id: str) -> None:
        sig = self._sigs.pop(doc_id, None)
        self._numbers.pop(doc_id, None)
        if sig is not None:
            for k in self._keys(sig):
                self._buckets.get(k, set()).discard(doc_id)

    def find(self, text: str, *, exclude: str = "") -> tuple[str, float] | None:
        """The most similar indexed article at or above the threshold, other than ``exclude``."""
        sig = signature(text)
        if sig is None:
            return None
        seen: set[str] = set()
        for k in self._keys(sig):
            seen |= self._buckets.get(k, set())
        seen.discard(exclude)
        close = [(d, sim) for d in seen if (sim := similarity(sig, self._sigs[d])) >= THRESHOLD
                 and same_numbers(text, self._numbers[d])]
        return max(close, key=lambda p: p[1], default=None)
