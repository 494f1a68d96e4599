"""Core value types shared by every stage: the pipeline's own (hits, quotes, citations,
answers) and, re-exported, the ones storage keeps (articles, chunks, filters: defined in
``index/types.py`` so the store, the lowest layer, imports nothing from above it).

Frozen dataclasses so a chunk or hit handed to the API cannot be mutated behind the
index's back; pydantic lives only at the HTTP edge (``api/schemas.py``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

from index.types import Article, Chunk, Filters, date_key, frozen_meta, stable_id

__all__ = ["Answer", "Article", "Chunk", "Citation", "Filters", "Hit", "Quote", "RefusalReason", "clean_text",
           "date_key", "frozen_meta", "stable_id"]

# Why an answer refused, for machines (said once: the composer's refusals are typed with it, so
# mypy rejects a reason the API's schema, which uses it too, would not know):
# "no_passages"; "not_relevant" (nothing close to the question); "focus_missing" (close to the
# topic, but nothing names what was asked, or gives the date or count asked for); "entity_missing" (no passage names the question's
# places and bodies: ZHRAG_ENTITY_CHECK, off); "name_unknown" (the question names something no
# article names: rag/names.py); "name_missing" (some article names it, none of the passages
# close to the question does).
RefusalReason = Literal["no_passages", "not_relevant", "focus_missing", "entity_missing", "name_unknown",
                        "name_missing"]

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(v: str) -> str:
    """Every text the service takes from people (API fields, CLI questions): lone
    surrogates and control characters (other than tab and line breaks) are refused, saying
    where; the rest is NFC-normalised, so that the same words typed on two keyboards are
    the same text to search and to store."""
    if m := _SURROGATE.search(v):
        raise ValueError(f"contains an unencodable character (a lone surrogate) at position {m.start()}")
    if m := _CONTROL.search(v):
        raise ValueError(f"contains a control character U+{ord(m.group()):04X} at position {m.start()}")
    return unicodedata.normalize("NFC", v)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk and its score (higher is better; scale depends on the retriever)."""

    chunk: Chunk
    score: float
    dense_score: float | None = None  # cosine to the query, on one scale whatever the retriever
    bm25_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**_passage(self.chunk), "score": self.score, "dense_score": self.dense_score,
                "bm25_score": self.bm25_score}


@dataclass(frozen=True)
class Quote:
    """A sentence the answer used: ``article.text[start:end] == text``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """Source ``[n]`` of an answer: the passage, and the exact sentences taken from it."""

    n: int
    chunk: Chunk
    score: float
    quotes: tuple[Quote, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **_passage(self.chunk), "score": self.score,
                "quotes": [{"text": q.text, "char_start": q.start, "char_end": q.end} for q in self.quotes]}


@dataclass(frozen=True)
class Answer:
    """The composed answer. ``refused`` is True when the articles do not answer the question."""

    text: str
    citations: tuple[Citation, ...]
    refused: bool = False
    hits: tuple[Hit, ...] = ()
    short: str = ""  # the single best span (for span-scored evaluation and previews)
    refusal_reason: RefusalReason | None = None  # why it refused (:data:`RefusalReason`)
    # For a factoid question, the exact words that answer it ("167个"), which the answer
    # text starts with: a Quote in its article's offsets, and the citation [n] it is in.
    short_answer: tuple[Quote, int] | None = None
    # How clearly the cited sentences hold an answer: the span reader's best span score over
    # its no-answer score (rag/reader.py); None without a reader, or for how/why questions.
    span_margin: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape shared by the CLI's --json and the HTTP API."""
        s = self.short_answer
        return {"answer": self.text, "refused": self.refused, "refusal_reason": self.refusal_reason,
                "short_answer": {"text": s[0].text, "char_start": s[0].start, "char_end": s[0].end, "n": s[1]}
                if s else None,
                "citations": [c.to_dict() for c in self.citations]}


def _passage(c: Chunk) -> dict[str, Any]:
    return {"doc_id": c.doc_id, "chunk_id": c.id, "title": c.title, "text": c.text,
            "char_start": c.char_start, "char_end": c.char_end, "meta": dict(c.meta)}
