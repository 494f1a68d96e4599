"""The names a question is about: an answer must come from an article that names them.

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

A facility's name is jieba's two words, a name and the kind of facility ("嘉兴|南站", "余杭|站",
"龙烟|铁路"): each may stand in some article (嘉兴 in one, 南昌南站 in another) while no article
names the station. So the two joined are a name too, and are found only whole
(rag/question.py, ``facility_names``). On CMRC's unanswerable questions it refuses 8 more (嘉兴南站,
龙烟铁路…) and no answerable question of any set; over DRCD's questions it adds one name no article
names (黑龙江铁路; eval/RESULTS.md, "Stations, open lists and search-box times").

A name some article does name can still be missed by the answer. Asked "莱索托有几个国际机场"
over an archive whose one article on 莱索托 is about its football team, the composer answered
"5条" from an article on an airport in 无锡 that never says 莱索托. So when the article an answer
leads with names none of the question's names, the answer is composed again from the retrieved
passages whose articles do name one; when none does, the question is refused (reason
``name_missing``). A question whose only names are as common as 中国, 美国 or 东西 (jieba's word
frequency :data:`COMMON_NAME_FREQ` or more) is left alone: articles leave their own country
implicit, and 东西 is mostly "thing". On training data (DRCD with the 5,000 distractors,
eval/RESULTS.md "The answer's article names the question's name") it refuses 11 more of 675
unanswerable questions and 2 more of 777 answerable ones (4 without the frequency limit).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

from index.store import Store
from rag.compose import NAME_MISSING, NAME_UNKNOWN, AnswerGenerator, refusal
from rag.lexical import plain
from rag.question import named_in, question_names, specific_names
from rag.types import Answer, Article, Hit

log = logging.getLogger(__name__)

# Passages the store's lexical search returns for a name: the ones containing it rank first.
NAME_SEARCH_K = 10


def _quoted(names: Sequence[str]) -> str:
    """The names as a refusal says them: “莱索托”、“德龙烟”."""
    return "、".join(f"“{n}”" for n in names)


def article_words(article: Article) -> str:
    """An article as a name is looked for in it: title and text, each :func:`~rag.lexical.plain`,
    kept apart (a name is not found across the title's end and the text's start)."""
    return f"{plain(article.title)}\x00{plain(article.text)}"


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
        # "嘉兴南站" unknown says all that "嘉兴" and "南站" unknown would
        unknown = [n for n in unknown if not any(n != other and n in other for other in unknown)]
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
        return refusal(hits, "name_unknown", NAME_UNKNOWN.format(names=_quoted(unknown)))

    def articles_naming(self, doc_ids: Sequence[str], names: Sequence[str]) -> set[str]:
        """Those of ``doc_ids`` whose article (title and whole text, not only a passage: the
        passage that answers may say 他 where the article's first line says 白岳峰) names one of
        ``names``."""
        out = set()
        for doc_id in dict.fromkeys(doc_ids):
            article = self.store.get_article(doc_id)
            if article is not None and any(named_in(n, article_words(article)) for n in names):
                out.add(doc_id)
        return out

    def narrowed(self, question: str, hits: Sequence[Hit], ans: Answer) -> Answer | list[Hit] | None:
        """None when ``ans`` stands: refused, its leading article names one of the question's
        names, or the question names nothing specific. Otherwise the passages to answer from again (those
        whose article names one), or the refusal when no passage's article does."""
        if ans.refused or not ans.citations or not specific_names(question):
            return None
        names, lead = question_names(question), ans.citations[0].chunk.doc_id
        if self.articles_naming([lead], names):
            return None
        # the leading article, just read, is not read again
        naming = self.articles_naming([h.chunk.doc_id for h in hits if h.chunk.doc_id != lead], names)
        keep = [h for h in hits if h.chunk.doc_id in naming]
        if keep:
            log.debug("answer's article names none of %s; answering from %d passages that do",
                      "、".join(names), len(keep))
            return keep
        return refusal(hits, "name_missing", NAME_MISSING.format(names=_quoted(names)))

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        if (refused := self.name_refusal(question, hits)) is not None:
            return refused
        ans = self.inner.compose(question, hits)
        again = self.narrowed(question, hits, ans)
        if again is None:
            return ans
        return again if isinstance(again, Answer) else self.inner.compose(question, again)

    def compose_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """As :meth:`compose`. Whether the answer's article names the question's names is known
        only once it is composed, so a question with names is composed whole before the first
        piece is sent: the extractive composer takes tens of milliseconds; a local model that
        streams tokens is held back until it is done, so its answer is checked like any other."""
        from rag.generate import answer_pieces, stream_answer

        if (refused := self.name_refusal(question, hits)) is not None:
            yield refused
            return
        if not specific_names(question):
            yield from stream_answer(self.inner, question, hits)
            return
        pieces = list(stream_answer(self.inner, question, hits))
        ans = pieces[-1]
        assert isinstance(ans, Answer)
        again = self.narrowed(question, hits, ans)
        if again is None:
            yield from pieces
        elif isinstance(again, Answer):
            yield from answer_pieces(again)
        else:
            yield from stream_answer(self.inner, question, again)

    def __getattr__(self, attr: str) -> object:
        # What the evaluation reads of a generator (its paths counter, its params) is the inner one's.
        return getattr(self.inner, attr)
