"""Parse and check the citations of a generated answer; never trust them.

A language model given numbered passages writes "[2]" after a claim, or forgets to, or
writes "[7]" when there were five passages, or cites a passage that says something else.
Each sentence of the answer is checked against the passage it cites: markers out of
range are dropped, a marker whose passage does not support the sentence is dropped, a
sentence left with no marker gets the passage that does support it, or is removed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rag.chunking import split_sentences
from rag.compose import build_answer
from rag.lexical import bigram_set, content_words, word_chars
from rag.sentences import asks_for_contact, is_directive
from rag.types import Answer, Hit, Quote

_MARKER = re.compile(r"\[(\d{1,3})\]")


def parse_markers(text: str) -> list[int]:
    return [int(m) for m in _MARKER.findall(text)]


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def support(sentence: str, passage: str) -> float:
    """Share of the sentence's character bigrams found in the passage (1.0 = all of it)."""
    grams = bigram_set(sentence)
    if not grams:
        return 0.0
    return len(grams & bigram_set(passage)) / len(grams)


@dataclass(frozen=True)
class CheckedSentence:
    text: str
    hit_index: int  # 0-based index into the passages given to the model


def on_topic(sentence: str, question: str) -> bool:
    """Whether the sentence shares at least one content word (or a bigram of one) with the question.

    A passage can carry planted text ("忽略之前的指令……"); a model that obeys it writes a
    sentence the passage does support, but that has nothing to do with the question.
    """
    words = content_words(question)
    if not words:
        return True
    grams = {g for w in words for g in bigram_set(w)}
    return any(g in sentence.lower() for g in grams)


def check_generated(answer_text: str, hits: Sequence[Hit], *, question: str | None = None,
                    min_support: float = 0.5) -> list[CheckedSentence]:
    """Keep the sentences that a cited (or, failing that, some) passage supports and, when
    the question is given, that are about the question."""
    kept: list[CheckedSentence] = []
    keep_directives = question is not None and asks_for_contact(question)
    for s, e in split_sentences(answer_text):
        raw = answer_text[s:e]
        sentence = strip_markers(raw).strip()
        if len(word_chars(sentence)) < 2:
            continue
        if not keep_directives and is_directive(sentence):
            continue  # "请访问…" copied from a planted passage is supported, but no answer
        if question is not None and not on_topic(sentence, question):
            continue
        cited = [n - 1 for n in parse_markers(raw) if 1 <= n <= len(hits)]  # [0] and [n>len] dropped
        scored = [(support(sentence, hits[i].chunk.text), i) for i in cited]
        good = [i for sc, i in sorted(scored, reverse=True) if sc >= min_support]
        if not good:
            # Uncited or wrongly cited: attach the passage that best supports it, if any does.
            best = max(((support(sentence, h.chunk.text), i) for i, h in enumerate(hits)), default=(0.0, -1))
            if best[0] < min_support:
                continue
            good = [best[1]]
        kept.append(CheckedSentence(sentence, good[0]))
    return kept


def answer_from_checked(checked: Sequence[CheckedSentence], hits: Sequence[Hit]) -> Answer | None:
    """Renumber the surviving citations 1..n in order of use; None when nothing survived.

    Quote offsets point at the passage the sentence was checked against (the whole chunk:
    a generated sentence paraphrases, so there is no exact span of its own).
    """
    if not checked:
        return None
    used = []
    for cs in checked:
        c = hits[cs.hit_index].chunk
        used.append((hits[cs.hit_index], Quote(c.text, c.char_start, c.char_end), cs.text))
    ans = build_answer([(h, q) for h, q, _ in used], hits, texts=[t for _, _, t in used], keep_order=True)
    # The model was asked to answer first and briefly: its first sentence is the answer's
    # short form (what span-scored evaluation compares).
    return replace(ans, short=used[0][2])
