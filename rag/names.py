"""Names the knowledge base has never seen: a question about them is refused.

Asked "广茂铁路全长多少公里" over an archive that holds no article on the 广茂 railway, the
composer found the 沪通铁路 page's "线路全长111.8公里" close enough and answered from it. The
passages were near the topic (a railway's length), so neither the relevance gate nor the
question's focus (公里) could tell. What tells is the name: no article of the knowledge base
contains "广茂". A question naming a person, place, body or other proper noun that no article
names cannot be answered from the articles, so it is refused (reason ``name_unknown``).

Measured on training data first (eval/RESULTS.md, "Names no article contains"): it refuses
none of the 777 answerable DRCD questions of the eval runs (with the 5,000 distractors), and
over all 7,017 DRCD questions at most 16 name something their articles never write (jieba's
odd cuts, Taiwanese spellings). Latin words are not read as names (rag/question.py).

The check asks the store's lexical search for the name and reads what comes back, so it needs
nothing more of a store than searching (SQLite and Milvus alike); a name found among the
retrieved passages costs no search at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from index.store import Store
from rag.compose import NAME_UNKNOWN, AnswerGenerator, refusal
from rag.lexical import plain
from rag.question import question_names
from rag.types import Answer, Hit

log = logging.getLogger(__name__)

# Passages the store's lexical search returns for a name: the ones containing it rank first.
NAME_SEARCH_K = 10


def named_in(name: str, text: str) -> bool:
    """Whether ``text`` (already :func:`~rag.lexical.plain`: spaces and punctuation do not
    separate a name) names ``name``, allowing for jieba's cut: a name of
    three characters or more may carry one character of its neighbour (白岳峰现, 成苏镜宇), and
    a long compound may be named in parts (国家自然科学基金: 国家自然 and 科学基金)."""
    if name in text:
        return True
    if len(name) >= 3 and (name[:-1] in text or name[1:] in text):
        return True
    half = len(name) // 2
    return len(name) >= 4 and name[:half] in text and name[half:] in text


class NameCheck:
    """An :class:`~rag.compose.AnswerGenerator` that refuses a question naming something no
    article of ``store`` names, and otherwise lets ``inner`` answer."""

    def __init__(self, inner: AnswerGenerator, store: Store) -> None:
        self.inner = inner
        self.store = store

    def unknown_names(self, question: str, hits: Sequence[Hit]) -> tuple[str, ...]:
        names = question_names(question)
        if not names:
            return ()
        seen = "\x00".join(plain(h.chunk.embedding_text()) for h in hits)
        missing = [n for n in names if not named_in(n, seen)]
        unknown = []
        for name in missing:
            found = self.store.search_lexical(name, NAME_SEARCH_K)
            if not named_in(name, "\x00".join(plain(c.embedding_text()) for c, _ in found)):
                unknown.append(name)
        if unknown:
            log.debug("no article names %s", "、".join(unknown))
        return tuple(unknown)

    def name_refusal(self, question: str, hits: Sequence[Hit]) -> Answer | None:
        """The refusal naming what no article names, or None when the articles name it all.
        With no passages at all the inner generator says so ("no_passages"): an empty
        knowledge base names nothing, and that is the plainer reason."""
        unknown = self.unknown_names(question, hits) if hits else ()
        if not unknown:
            return None
        return refusal(hits, "name_unknown", NAME_UNKNOWN.format(names="、".join(f"“{n}”" for n in unknown)))

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        return self.name_refusal(question, hits) or self.inner.compose(question, hits)

    def compose_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        from rag.generate import stream_answer

        if (refused := self.name_refusal(question, hits)) is not None:
            yield refused
            return
        yield from stream_answer(self.inner, question, hits)

    def __getattr__(self, attr: str) -> object:
        # What the evaluation reads of a generator (its paths counter, its params) is the inner one's.
        return getattr(self.inner, attr)
