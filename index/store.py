"""The storage interface: what every knowledge-base backend keeps and finds.

Storage knows nothing of chunking or embedding: it is handed articles with their chunks
and vectors already made (``rag/indexing.py`` makes them), keeps them transactionally,
and finds chunks by vector or by words, under filters. A backend (``index/sqlite.py``
today, a Milvus one next) implements :class:`Store`; the rest of the service sees only
this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from index.types import Article, Chunk, Filters

DEFAULT_COLLECTION = "default"


class IndexStoreError(Exception):
    """Base for index problems that a user can act on; the message says how."""


class IndexNotFoundError(IndexStoreError):
    pass


class IndexMismatchError(IndexStoreError):
    """The index was built with another model, dimension, analyzer or format."""


class IndexDamagedError(IndexStoreError):
    """A check found damage; nothing is served from a damaged index."""


class Analyzer(Protocol):
    """Turns text into lexical terms; the same one must index and query."""

    @property
    def name(self) -> str: ...

    def __call__(self, text: str) -> list[str]: ...


def chunk_terms(analyzer: Analyzer, chunk: Chunk) -> list[str]:
    """What every backend indexes a chunk by: its title and text, analysed. One place, so
    that the embedded store and Milvus rank the same terms."""
    return analyzer(chunk.embedding_text())


def query_terms(analyzer: Analyzer, query: str) -> list[str]:
    """A query's terms that can match an indexed one (punctuation-only terms dropped)."""
    return [t for t in analyzer(query) if any(ch.isalnum() for ch in t)]


@dataclass(frozen=True)
class FunctionAnalyzer:
    name: str
    fn: Callable[[str], list[str]]

    def __call__(self, text: str) -> list[str]:
        return self.fn(text)


@dataclass(frozen=True)
class ArticleWrite:
    """One article to add or replace, with its chunks and their unit vectors (one row each).

    ``source_key`` names where it came from (a file path relative to the folder given, or
    ``api``); ``content_hash`` lets a re-ingest skip what has not changed; ``origin`` is
    ``seeds`` for the automatic seed index and ``user`` for everything people add.
    """

    article: Article
    chunks: tuple[Chunk, ...]
    vectors: np.ndarray
    collection: str = DEFAULT_COLLECTION
    source_key: str = ""
    content_hash: str = ""
    origin: str = "user"

    def __post_init__(self) -> None:
        if self.vectors.shape[0] != len(self.chunks):
            raise ValueError(f"{len(self.chunks)} chunks but {self.vectors.shape[0]} vectors")
        if any(c.doc_id != self.article.doc_id for c in self.chunks):
            raise ValueError("every chunk must belong to the article it is written with")


def last_of_each(writes: Sequence[ArticleWrite]) -> tuple[dict[str, ArticleWrite], tuple[str, ...]]:
    """Every backend's policy for an id given twice in one batch: the last one wins, and
    the ids given more than once are returned so the report can name them."""
    last: dict[str, ArticleWrite] = {}
    dup: list[str] = []
    for w in writes:
        if w.article.doc_id in last:
            dup.append(w.article.doc_id)
        last[w.article.doc_id] = w
    return last, tuple(dict.fromkeys(dup))


@dataclass(frozen=True)
class WriteReport:
    added: int = 0
    replaced: int = 0
    removed: int = 0  # articles dropped because their source no longer holds them
    chunks: int = 0
    duplicates: tuple[str, ...] = ()  # ids given more than once in the batch: the last one won
    seq: int = 0  # the change sequence number that holds this write
    # Articles a backend without transactions (Milvus) could not write, with the reason; the
    # others of the batch are written. The embedded store writes all or nothing, so never any.
    failed: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ArticleInfo:
    """An article as listed: no text, its size and where it belongs."""

    doc_id: str
    title: str
    chars: int
    collection: str
    source_key: str
    origin: str
    content_hash: str
    chunks: int
    meta: dict[str, Any]


class Store(Protocol):
    """Keep articles, chunks and vectors; find chunks. Every write is one transaction."""

    model: str
    dim: int

    def write(self, writes: Sequence[ArticleWrite], *,
              replace_sources: Sequence[tuple[str, str]] = ()) -> WriteReport: ...

    def delete(self, doc_ids: Sequence[str]) -> list[str]: ...

    def reading(self) -> AbstractContextManager[None]: ...

    def search_dense(self, query_vec: np.ndarray, k: int,
                     filters: Filters | None = None) -> list[tuple[Chunk, float]]: ...

    def search_lexical(self, query: str, k: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]: ...

    def dense_scores(self, query_vec: np.ndarray, chunks: Sequence[Chunk]) -> list[float]: ...

    def get_article(self, doc_id: str) -> Article | None: ...

    def chunks_of(self, doc_id: str) -> list[Chunk]: ...

    def list_articles(self, offset: int = 0, limit: int = 100, filters: Filters | None = None,
                      title_contains: str = "", person: str = "") -> list[ArticleInfo]: ...

    def iter_articles(self) -> Iterator[tuple[Article, ArticleInfo]]: ...

    def source_hashes(self, collection: str, source_keys: Sequence[str]) -> dict[str, str]: ...

    def stats(self) -> dict[str, Any]: ...

    def close(self) -> None: ...
