"""The values storage keeps and filters by: articles, their chunks, and filters.

They live at the bottom (in ``index/``) because the store is the lowest layer and must not
import from the pipeline above it; ``rag.types`` re-exports them beside the pipeline's own
types (hits, citations, answers). Frozen dataclasses, so nothing handed out can be mutated
behind the store's back.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


def stable_id(*parts: object, length: int = 16) -> str:
    """A short id that is the same on every run and machine.

    sha256, not hash(): Python's hash() of str is salted per process, and citations
    must survive an index rebuild.
    """
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8"))
    return digest.hexdigest()[:length]


def frozen_meta(meta: dict[str, Any] | None) -> MappingProxyType[str, Any]:
    return MappingProxyType(dict(meta or {}))


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def date_key(value: object) -> int:
    """A publication date as yyyymmdd (0 when absent or unreadable), for range filters.

    Accepts 2025-01-09, 2025/1/9, 2025.01.09, 2025年1月9日 and ISO datetimes.
    """
    m = _DATE.search(str(value)) if value else None
    if not m:
        return 0
    y, mo, d = (int(g) for g in m.groups())
    return y * 10000 + mo * 100 + d if 1 <= mo <= 12 and 1 <= d <= 31 else 0


@dataclass(frozen=True)
class Article:
    """One article after ingest: repaired text plus metadata (reporter, column, source...).

    ``given_id`` says the id was chosen by the user (a JSONL ``doc_id``, an API field);
    otherwise indexing derives it from the article's collection and source, so that
    re-ingesting an edited file replaces the article instead of adding a second copy.
    """

    doc_id: str
    title: str
    text: str
    source_path: str = ""
    meta: MappingProxyType[str, Any] = field(default_factory=lambda: frozen_meta(None))
    given_id: bool = False

    @staticmethod
    def make(title: str, text: str, *, source_path: str = "", doc_id: str | None = None,
             meta: dict[str, Any] | None = None) -> Article:
        """Build an article; without a given id, a provisional one from its source and content."""
        return Article(
            doc_id=doc_id or stable_id(source_path, title, text),
            title=title,
            text=text,
            source_path=source_path,
            meta=frozen_meta(meta),
            given_id=doc_id is not None,
        )


# The metadata that names an article's people (ingest: the dateline's reporters, the photo
# credit's names): what ``Store.list_articles(person=…)`` looks in.
PEOPLE_KEYS = ("reporters", "correspondents", "photographers")


def names_person(meta: Any, person: str) -> bool:
    """Whether an article's metadata names ``person`` among its people (:data:`PEOPLE_KEYS`)."""
    return any(person in (meta.get(k) or ()) for k in PEOPLE_KEYS)


@dataclass(frozen=True)
class Filters:
    """Which articles a search may return. Empty fields mean "any"; dates are inclusive.

    Applied by the store to dense and lexical candidates before either takes its top k.
    """

    collections: tuple[str, ...] = ()
    columns: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    def __post_init__(self) -> None:
        for name in ("date_from", "date_to"):
            v = getattr(self, name)
            if v is not None and not date_key(v):
                raise ValueError(f"{name} {v!r} is not a date (expected YYYY-MM-DD)")

    def is_empty(self) -> bool:
        return not (self.collections or self.columns or self.sources or self.date_from or self.date_to)


@dataclass(frozen=True)
class Chunk:
    """A span of an article: ``article.text[char_start:char_end] == text``."""

    id: str
    doc_id: str
    title: str
    text: str
    char_start: int
    char_end: int
    meta: MappingProxyType[str, Any] = field(default_factory=lambda: frozen_meta(None))

    def embedding_text(self) -> str:
        """Title first so a passage that never names its subject still matches questions about it."""
        return f"{self.title}\n{self.text}" if self.title else self.text

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "title": self.title,
            "text": self.text,
            "char_start": self.char_start,
            "char_end": self.char_end,
            "meta": dict(self.meta),
        }

    @staticmethod
    def from_record(rec: dict[str, Any]) -> Chunk:
        return Chunk(
            id=rec["id"],
            doc_id=rec["doc_id"],
            title=rec["title"],
            text=rec["text"],
            char_start=int(rec["char_start"]),
            char_end=int(rec["char_end"]),
            meta=frozen_meta(rec.get("meta")),
        )
