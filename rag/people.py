"""Whose articles: "刘欣欣写了哪些报道", "宗晓畅拍摄了哪些照片", "哪篇文章转自中工网".

Editors look the archive up by its people as often as by its subjects. A reporter's name stands
in the dateline, which ingest moves out of the text into the article's metadata (``reporters``;
the photo credit's names are ``photographers``), so no passage holds it: retrieval finds nothing
by it, and the name check refused "刘欣欣写了哪些报道" saying no article names 刘欣欣. Here the
answer is the titles of the articles whose metadata names the person, from the whole archive
(``Store.list_articles(person=…)``), each cited to its opening passage.

Only questions asking what a person wrote or photographed, or who they are ("刘欣欣是哪家报社
的记者": 本报记者, from the datelines), are taken, and only when some article's metadata names
them; any other question about a person is answered as before. Articles
reprinted from another paper are listed the same way, by the source ingest keeps from their
"转自《中工网》" line (``Filters(sources=…)``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace

from index.store import ArticleInfo, Store
from index.types import PEOPLE_KEYS
from rag.compose import AnswerGenerator
from rag.types import Answer, Citation, Filters, Hit

# At most this many titles are listed; more are counted ("共12篇，列出前10篇"), up to _COUNTED.
MAX_LISTED = 10
_COUNTED = 1000

_ROLE = r"(?:摄影记者|记者|通讯员|摄影师)?"
_WHEN = r"(?:最近|近期|近来|今年|去年|都|一共|共|曾经|曾)?"
_NAME = r"(?P<name>[\u4e00-\u9fff]{2,4}?)"
_KIND = r"(?:文章|报道|稿件|稿子|新闻|作品|照片|图片)"
_SIGNED = (re.compile(_ROLE + _NAME + _WHEN + r"(?:写|采写|撰写|拍摄|拍|发表|发|署名)(?:了|过)?"
                      r"(?:哪些|哪几篇|什么|几篇|多少篇|哪篇)"),
           re.compile(f"{_ROLE}{_NAME}(?:写|拍|拍摄|署名)?的{_KIND}(?:有|是)?哪(?:些|几篇|篇)"))

_WHAT = {True: "摄影", False: "署名"}
_COUNT = re.compile(r"几篇|多少篇")


def signed_by(question: str) -> str | None:
    """The person whose articles the question asks for, as written: 刘欣欣 of "刘欣欣写了哪些
    报道", 宗晓畅 of "记者宗晓畅的报道有哪些"; None for any other question."""
    m = next((m for p in _SIGNED if (m := p.match(question.strip()))), None)
    return m.group("name") if m else None


# "哪篇文章转自中工网", "转自《中工网》的报道有哪些".
_FROM = (re.compile(r"(?:哪些|哪篇|哪几篇)" + _KIND + r"?(?:是)?转(?:载)?自《?(?P<source>[^《》？?，。]{2,20}?)》?[？?]?$"),
         re.compile(r"转(?:载)?自《?(?P<source>[^《》？?，。的]{2,20})》?的" + _KIND + r"(?:有)?(?:哪些|哪篇|哪几篇)"))


def reprinted_from(question: str) -> str | None:
    """The paper whose reprints the question asks for: 中工网 of "哪篇文章转自中工网"."""
    m = next((m for p in _FROM if (m := p.search(question.strip()))), None)
    return m.group("source") if m else None


# "刘欣欣是谁", "刘欣欣是哪家报社的记者", "高岩是做什么的": who a person of the paper is.
_WHO = re.compile(_ROLE + r"(?P<name>[\u4e00-\u9fff]{2,4}?)(?:是|为)(?:谁|什么人|干什么的|做什么的"
                  r"|哪(?:家|个|一家)(?:报社|报纸|媒体|单位|报)的(?:记者|通讯员|摄影师|人)?)[呀啊呢]?[？?]?$")
# The role each of the metadata's lists of people gives a name, as the paper writes it.
_ROLES = dict(zip(PEOPLE_KEYS, ("记者", "通讯员", "摄影"), strict=True))


# A name typed alone ("刘欣欣"), as into a search box: who they are, when the metadata names them.
_NAME_ALONE = re.compile(r"(?P<name>[\u4e00-\u9fff]{2,4})[？?]?$")


def who_is(question: str) -> str | None:
    """The person the question asks who they are: 刘欣欣 of "刘欣欣是哪家报社的记者", or of
    "刘欣欣" alone (any other word alone, "长春", names no one the metadata holds)."""
    m = _WHO.match(question.strip()) or _NAME_ALONE.fullmatch(question.strip())
    return m.group("name") if m else None


def people_answer(question: str, store: Store) -> Answer | None:
    """The articles the question's person signed or photographed, or that were reprinted from
    the paper it names, cited to their openings; None when the question asks no such thing or
    no article's metadata names the person or paper."""
    if (source := reprinted_from(question)) is not None:
        infos = [i for i in store.list_articles(limit=_COUNTED, filters=Filters(sources=(source,))) if i.chunks]
        return _listing(question, store, infos, f"转自《{source}》的文章")
    if (person := who_is(question)) is not None:
        return _role_answer(question, store, person)
    person = signed_by(question)
    if person is None:
        return None
    photos = bool(re.search("拍|摄影|照片|图片", question))
    # reprint records (no passages of their own) are not listed; for photographs, the credit's names only
    infos = [i for i in store.list_articles(limit=_COUNTED, person=person)
             if i.chunks and (not photos or person in (i.meta.get("photographers") or ()))]
    return _listing(question, store, infos, f"{person}{_WHAT[photos]}的文章")


def _role_answer(question: str, store: Store, person: str) -> Answer | None:
    """Who ``person`` is, as the paper's datelines and photo credits say ("本报记者"; of a
    reprint, its paper's), with the articles naming them so. None when no article's metadata
    names them: the question is then answered, or refused, as any other."""
    infos = [i for i in store.list_articles(limit=_COUNTED, person=person) if i.chunks]
    if not infos:
        return None
    roles: dict[str, None] = {}
    for info in infos:
        paper = f"《{info.meta['source']}》" if info.meta.get("source") else "本报"
        for key, role in _ROLES.items():
            if person in (info.meta.get(key) or ()):
                roles.setdefault(f"{paper}{role}" if role == "记者" else role, None)
    said = "、".join(roles)
    listed = _listing(question, store, infos, f"{person}是{said}，署名的文章")
    return None if listed is None else replace(listed, text=f"{said}[1]。{listed.text}", short=said)


def _listing(question: str, store: Store, infos: list[ArticleInfo], what: str) -> Answer | None:
    """The titles of ``infos`` (at most :data:`MAX_LISTED`), each cited to its article's opening."""
    if not infos:
        return None
    hits = []
    for info in infos[:MAX_LISTED]:
        chunks = store.chunks_of(info.doc_id)
        if chunks:
            hits.append(Hit(chunks[0], 1.0))
    if not hits:
        return None
    titles = "、".join(f"《{h.chunk.title}》[{n}]" for n, h in enumerate(hits, 1))
    total = f"{len(infos)}" if len(infos) < _COUNTED else f"{_COUNTED}以上"
    more = f"（共{total}篇，列出前{len(hits)}篇）" if len(infos) > len(hits) else ""
    if _COUNT.search(question):  # "刘欣欣写了几篇报道": the count first
        text, short = f"{total}篇[1]。{what}共{total}篇：{titles}。", f"{total}篇"
    else:
        text, short = f"{what}：{titles}。{more}", "、".join(f"《{h.chunk.title}》" for h in hits)
    return Answer(text=text, hits=tuple(hits), short=short,
                  citations=tuple(Citation(n=n, chunk=h.chunk, score=h.score) for n, h in enumerate(hits, 1)))


class Listings:
    """An :class:`~rag.compose.AnswerGenerator` that answers a question for a person's or a
    paper's articles from the store's listing (:func:`people_answer`), and lets ``inner`` answer
    any other. It stands outside the name check, which would refuse a name that only metadata
    holds."""

    def __init__(self, inner: AnswerGenerator, store: Store) -> None:
        self.inner = inner
        self.store = store

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        return people_answer(question, self.store) or self.inner.compose(question, hits)

    def compose_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        from rag.generate import answer_pieces, stream_answer

        listed = people_answer(question, self.store)
        yield from answer_pieces(listed) if listed is not None else stream_answer(self.inner, question, hits)

    def __getattr__(self, attr: str) -> object:
        # What the evaluation reads of a generator (its paths counter, its params) is the inner one's.
        return getattr(self.inner, attr)
