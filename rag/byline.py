"""Who wrote an article: "首开集团那篇报道的记者是谁".

Staff ask about the paper's own articles by their subject. The reporter is named in the
article's dateline ("本报讯（记者 刘欣欣）"), which ingest takes out of the text and keeps in
the article's metadata (``reporters``, on every passage). The span reader reads only the
text, so the question was refused. Here the answer is the metadata's names, cited to the
article's passage that the question found (the citation's metadata shows "记者：刘欣欣"); it
quotes no sentence, as the names stand in no sentence of the text.

Only questions about a reporter or a report's writer are taken ("《论自由》的作者是谁" asks
about a book, "记者在首开书院看到了什么" about what was seen), and only from an article whose
title names the question's subject: a byline from an article on something else would be a
confident wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lexical import content_words
from rag.types import Answer, Citation, Hit

_BYLINE = re.compile(r"(?:哪位|哪个|哪一位|什么)记者|记者(?:是谁|叫什么|是哪位|为谁|姓名)"
                     r"|(?:报道|文章|稿件|稿子|新闻)的?(?:作者|撰稿人)")
# "谁写的" asks about a report only when the question says it is one ("冬天来了春天还会远吗是谁写的"
# asks for a poet).
_WHO_WROTE = re.compile(r"谁(?:写|采写|撰写)的")
_A_REPORT = re.compile(r"报道|稿件|稿子|新闻|那篇|这篇")
# The question's words that only say it asks for a byline; the rest name the article's subject.
_BYLINE_WORDS = frozenset({"记者", "作者", "撰稿", "撰稿人", "报道", "文章", "稿件", "稿子", "新闻", "那篇", "这篇",
                           "一篇", "篇文章", "写", "采写", "撰写", "是谁", "哪位", "叫什么", "名字"})


def asks_for_byline(question: str) -> bool:
    """"…的记者是谁", "哪位记者写的…", "谁写的…那篇报道": the answer is the article's reporter."""
    return bool(_BYLINE.search(question) or _WHO_WROTE.search(question) and _A_REPORT.search(question))


def byline_answer(question: str, hits: Sequence[Hit]) -> Answer | None:
    """The answer to a question about an article's reporter: the reporters, or that the
    article names none and where it was reprinted from, cited to the article's opening
    passage. None when the question asks no such thing or no article fits (:func:`find_byline`)."""
    found = find_byline(question, hits) if asks_for_byline(question) else None
    if found is None:
        return None
    hit, reporters = found
    title, names = hit.chunk.title, "、".join(reporters)
    if reporters:
        text = f"{names}[1]。《{title}》署名记者：{names}。[1]"
    else:
        source = hit.chunk.meta.get("source")
        text = f"《{title}》没有记者署名{f'，转自《{source}》' if source else ''}。[1]"
    return Answer(text=text, citations=(Citation(n=1, chunk=hit.chunk, score=hit.score),), hits=tuple(hits),
                  short=names)


def find_byline(question: str, hits: Sequence[Hit]) -> tuple[Hit, tuple[str, ...]] | None:
    """The article whose title names most of the question's subject, the better ranked on a
    tie ("密云区总工会那篇文章" is not the 东城区总工会 one), as its opening passage among ``hits``,
    with its reporters (none for a reprint). None when no title names the subject, or its
    article names neither reporter nor source, so the question is answered as any other."""
    subject = [w for w in content_words(question) if len(w) >= 2 and w not in _BYLINE_WORDS]
    best: tuple[int, Hit] | None = None
    for hit in hits:
        named = sum(w in hit.chunk.title for w in subject)
        if named and (best is None or named > best[0]):
            best = named, hit
    if best is None:
        return None
    # cited to the article's opening among the passages found: where its dateline stood
    hit = min((h for h in hits if h.chunk.doc_id == best[1].chunk.doc_id), key=lambda h: h.chunk.char_start)
    meta = hit.chunk.meta
    if not meta.get("reporters"):
        # A reprint ("转自《中工网》") is said to name none, and gets no other article's byline;
        # an article with neither (a dateline ingest did not read, an encyclopedia's page) is
        # answered as any other question.
        return (hit, ()) if meta.get("source") else None
    return hit, tuple(meta["reporters"])
