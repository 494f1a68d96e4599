"""Chunk: articles into bounded, overlapping, sentence-aligned spans with exact offsets.

Chinese has no spaces, so boundaries come from sentence-ending punctuation; a closing
quote or bracket after the mark stays with its sentence ("……说了算。”"). Offsets index
the article's text so a citation can quote the exact span and a test can rebuild the
article from its chunks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.types import Article, Chunk, frozen_meta, stable_id

# A sentence: anything up to a run of terminators, then any closing quotes/brackets; or up
# to a newline (a paragraph end without punctuation); or to the end of the text.
_SENTENCE = re.compile(r"[^\n。！？；!?;…]*(?:[。！？；!?;…]+[”’」』）)】》\"']*|\n|$)")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Half-open ``(start, end)`` spans of the sentences of ``text``, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


@dataclass(frozen=True)
class ChunkParams:
    """Chunk size and overlap in characters.

    300 characters keeps a chunk well under e5's 512-token limit (about 1 token per
    Chinese character plus the title), so nothing is silently truncated at embedding time.
    """

    size: int = 300
    overlap: int = 60

    def __post_init__(self) -> None:
        if self.size < 20:
            raise ValueError(f"chunk size must be at least 20 characters, got {self.size}")
        if self.overlap < 0:
            raise ValueError(f"chunk overlap must be >= 0, got {self.overlap}")
        if self.overlap >= self.size:
            raise ValueError(f"chunk overlap ({self.overlap}) must be smaller than chunk size ({self.size})")


def _pieces(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Sentence spans, with any sentence longer than ``size`` cut into overlapping windows."""
    pieces: list[tuple[int, int]] = []
    for s, e in split_sentences(text):
        if e - s <= size:
            pieces.append((s, e))
            continue
        step = size - overlap
        pos = s
        while pos < e:
            pieces.append((pos, min(pos + size, e)))
            if pos + size >= e:
                break
            pos += step
    return pieces


def chunk_text(text: str, params: ChunkParams = ChunkParams()) -> list[tuple[int, int]]:
    """Pack whole sentences into spans of at most ``params.size`` characters.

    Each new span starts with the trailing sentences of the previous one (up to
    ``params.overlap`` characters) so a fact that straddles a boundary is whole in one chunk.
    """
    pieces = _pieces(text, params.size, params.overlap)
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        start = pieces[i][0]
        j = i
        while j + 1 < len(pieces) and pieces[j + 1][1] - start <= params.size:
            j += 1
        spans.append((start, pieces[j][1]))
        if j + 1 >= len(pieces):
            break
        # Step back over whole sentences that fit in the overlap, but always advance.
        k = j + 1
        while k - 1 > i and pieces[j][1] - pieces[k - 1][0] <= params.overlap:
            k -= 1
        i = k
    return spans


def chunk_article(article: Article, params: ChunkParams = ChunkParams()) -> list[Chunk]:
    """Chunks of one article; ids are stable over rebuilds (article id + offsets)."""
    meta = {k: v for k, v in article.meta.items() if k in ("column", "source", "reporters", "photographers", "date", "file")}
    return [
        Chunk(
            id=stable_id(article.doc_id, s, e),
            doc_id=article.doc_id,
            title=article.title,
            text=article.text[s:e],
            char_start=s,
            char_end=e,
            meta=frozen_meta(meta),
        )
        for s, e in chunk_text(article.text, params)
    ]


def chunk_articles(articles: Iterable[Article], params: ChunkParams = ChunkParams()) -> list[Chunk]:
    return [c for a in articles for c in chunk_article(a, params)]
