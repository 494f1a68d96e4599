"""Reading the previous index format (a directory of files, format 2) for migration.

Format 2 kept ``manifest.json``, ``dense.faiss`` (FAISS IDMap over flat inner product),
``chunks.jsonl`` (with each chunk's FAISS id) and ``articles.jsonl``. Its articles,
chunks and vectors are read back as they are, with no re-embedding, so an upgrade
keeps every article a user added. Nothing here chunks or embeds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from index.store import DEFAULT_COLLECTION, ArticleWrite, IndexDamagedError
from index.types import Article, Chunk, frozen_meta

log = logging.getLogger(__name__)

LEGACY_FILES = ("manifest.json", "dense.faiss", "chunks.jsonl", "articles.jsonl", "bm25")


def read_manifest(directory: Path) -> dict | None:
    """The format-2 manifest, or None when the directory holds no such index."""
    path = Path(directory) / "manifest.json"
    if not path.is_file():
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise IndexDamagedError(f"the old index manifest {path} cannot be read ({exc}); move the folder aside "
                                f"and rebuild with 'zhrag build FILES...'") from exc
    return m if isinstance(m, dict) and m.get("format_version") == 2 else None


def read_legacy(directory: Path, *, seed_names: frozenset[str] = frozenset()) -> Iterator[ArticleWrite]:
    """Every article of a format-2 index with its stored chunks and vectors.

    ``origin`` is ``seeds`` only for articles that came from a seed file of an index the
    old version built from the seeds; everything else (API and CLI additions) is ``user``.
    """
    import faiss

    directory = Path(directory)
    m = read_manifest(directory)
    if m is None:
        raise FileNotFoundError(f"no format-2 index at {directory}")
    try:
        index = faiss.read_index(str(directory / "dense.faiss"))
        by_doc: dict[str, list[tuple[Chunk, int]]] = {}
        with (directory / "chunks.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                by_doc.setdefault(rec["doc_id"], []).append((Chunk.from_record(rec), int(rec["faiss_id"])))
        with (directory / "articles.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                a = Article(rec["doc_id"], rec["title"], rec["text"], rec.get("source_path", ""),
                            frozen_meta(rec.get("meta")), given_id=True)
                pairs = by_doc.get(a.doc_id, [])
                vecs = (np.stack([index.reconstruct(fid) for _, fid in pairs]).astype(np.float32)
                        if pairs else np.zeros((0, int(m["dimension"])), np.float32))
                origin = "seeds" if m.get("origin") == "seeds" and a.source_path in seed_names else "user"
                yield ArticleWrite(a, tuple(c for c, _ in pairs), vecs, DEFAULT_COLLECTION,
                                   f"legacy:{a.source_path}:{a.doc_id}", "", origin)
    except (OSError, RuntimeError, KeyError, ValueError) as exc:
        raise IndexDamagedError(f"the old index at {directory} cannot be read for migration ({exc}); "
                                f"its files are left untouched") from exc
