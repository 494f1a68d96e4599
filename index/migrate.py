"""Copy the embedded knowledge base into another store (Milvus) without re-embedding.

Every article goes with its chunks and stored vectors, in batches; a batch is written
by the target's own write path, which is idempotent by id, so an interrupted migration
is simply run again: what was copied is overwritten with itself, the rest follows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tqdm import tqdm

from index.sqlite import SQLiteStore
from index.store import ArticleWrite, IndexMismatchError, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MigrationReport:
    articles: int
    chunks: int
    failed: tuple[tuple[str, str], ...]


def copy_store(source: SQLiteStore, target: Store, *, batch: int = 64, progress: bool = False) -> MigrationReport:
    if (source.model, source.dim) != (target.model, target.dim):
        raise IndexMismatchError(f"the embedded index holds {source.model!r} vectors ({source.dim} dimensions); the "
                                 f"target was made for {target.model!r} ({target.dim})")
    total = source.stats()["articles"]
    articles = chunks = 0
    failed: list[tuple[str, str]] = []
    pending: list[ArticleWrite] = []
    bar = tqdm(total=total, desc="migrating", unit="article", disable=not progress)

    def flush() -> None:
        nonlocal articles, chunks
        rep = target.write(pending)
        failed.extend(rep.failed)
        articles += len(pending) - len(rep.failed)
        chunks += rep.chunks
        bar.update(len(pending))
        pending.clear()

    for w in source.iter_writes():
        pending.append(w)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    bar.close()
    return MigrationReport(articles, chunks, tuple(failed))
