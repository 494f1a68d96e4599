"""Which articles say something: "哪篇文章提到了工匠学院".

Editors look for the paper's own articles by what they mention. The composer would answer
with the sentences most like the question, and the gate, which judges whether a sentence
answers, refused: no sentence says which article it is in. Here the answer is the titles of
the articles found that name the question's subject, each cited to its first sentence that
names it ("《密云区总工会多措并举培育高技能人才队伍》[1]、《长春市总工会…》[2]。").

Only the articles among the passages retrieved are named (as many as the composer reads); a
full list over the archive is a search (``zhrag search``, the staff pages), not an answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.chunking import split_sentences
from rag.types import Answer, Citation, Hit, Quote

_WHICH_ARTICLE = re.compile(r"哪(?:篇|几篇|些|一篇)(?:文章|报道|稿件|稿子|新闻)|(?:文章|报道|稿件|新闻)(?:有|是)?哪(?:篇|几篇|些)")
# What only asks which article ("哪篇文章", "提到了", "关于…的"); the rest names what it mentions.
_MENTION_VERBS = r"提到|提及|讲到|谈到|写到|说到|涉及"
_ASKING = re.compile(r"(?:是|有)?" + _WHICH_ARTICLE.pattern + r"(?:里|中|上)?"
                     r"|(?:" + _MENTION_VERBS + r"|介绍|报道|讲|写|说)(?:了|过|到)?|关于|有关"
                     r"|[的了过吗呢？?。，,！!\s]")


# Asks which articles mention something, not which work a text names: "发表哪篇文章而成名" and
# "这段话出自哪一篇文章" (CMRC, DRCD) want the title a passage gives.
_MENTIONS = re.compile(_MENTION_VERBS + r"|(?:讲|写|说|介绍|报道)了|关于|有关")


def asks_for_articles(question: str) -> bool:
    """"哪篇文章提到了工匠学院", "关于苏家坨镇的报道有哪些": the answer is articles, not a fact."""
    return bool(_WHICH_ARTICLE.search(question)) and bool(_MENTIONS.search(question))


# Where a subject joins several things: spaces, 、, and 和/与/及 between words of two characters
# or more ("首开集团和职工之家"), not the 和 of a name ("和平里").
_JOINS = re.compile(r"[\s、]+|(?<=[\u4e00-\u9fff]{2})[和与及](?=[\u4e00-\u9fff]{2})")


def _subject(question: str) -> list[str]:
    """What the articles should mention: the question less its asking words, split where it
    joins several ("哪些报道提到了首开集团和职工之家": 首开集团, 职工之家)."""
    return [w for w in _JOINS.split(_ASKING.sub(" ", question)) if len(w) >= 2]


def mention_answer(question: str, hits: Sequence[Hit]) -> Answer | None:
    """The articles among ``hits`` that name every word of the question's subject, in rank
    order, each cited to its first sentence naming the first of them. None when the question
    asks no such thing or names no subject, or no article found names it (the question is
    then answered, or refused, as any other)."""
    if not asks_for_articles(question) or not (subject := _subject(question)):
        return None
    found: dict[str, tuple[Hit, Quote]] = {}
    rank: dict[str, int] = {}  # an article's rank: that of its best passage
    for i, h in enumerate(hits):
        rank.setdefault(h.chunk.doc_id, i)
    for hit in sorted(hits, key=lambda h: (rank[h.chunk.doc_id], h.chunk.char_start)):
        doc = hit.chunk.doc_id
        text = hit.chunk.text
        if doc in found or not all(w in text for w in subject):
            continue
        at = text.find(subject[0])
        s, e = next(((s, e) for s, e in split_sentences(text) if s <= at < e), (at, at + len(subject[0])))
        found[doc] = hit, Quote(text[s:e], hit.chunk.char_start + s, hit.chunk.char_start + e)
    if not found:
        return None
    cited = list(found.values())
    titles = "、".join(f"《{hit.chunk.title}》[{n}]" for n, (hit, _) in enumerate(cited, 1))
    text = f"{titles}。" + "".join(f"{quote.text}[{n}]" for n, (_, quote) in enumerate(cited, 1))
    return Answer(text=text, hits=tuple(hits), short="、".join(f"《{hit.chunk.title}》" for hit, _ in cited),
                  citations=tuple(Citation(n=n, chunk=hit.chunk, score=hit.score, quotes=(quote,))
                                  for n, (hit, quote) in enumerate(cited, 1)))
