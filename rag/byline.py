"""Who wrote an article: "首开集团那篇报道的记者是谁".

Staff ask about the paper's own articles by their subject. The reporter is named in the
article's dateline ("本报讯（记者 刘欣欣）"), which ingest takes out of the text and keeps in
the article's metadata (``reporters``, on every passage). The span reader reads only the
text, so the question was refused. Here the answer is the metadata's names, cited to the
article's passage that the question found (the citation's metadata shows "记者：刘欣欣"); it
quotes no sentence, as the names stand in no sentence of the text.

Who took an article's photographs ("谁拍摄了通州那篇报道的照片") is answered the same way, from
the photo credit ingest keeps ("本报记者 宗晓畅 通讯员 高岩 摄影报道": ``photographers``).

Only questions about a reporter, a report's writer or its photographer are taken ("《论自由》的
作者是谁" asks about a book, "记者在首开书院看到了什么" about what was seen), and only from an
article that names the question's subject: in its title, or, when no article's title does, in its
passages found (a page's short items are titled by their theme, "“业工融合”助力企业发展", and
name the 通州 company in the text). A byline from an article on something else would be a
confident wrong answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.lexical import content_words
from rag.types import Answer, Citation, Hit

_BYLINE = re.compile(r"(?:哪位|哪个|哪一位|什么)记者|记者(?:是谁|叫什么|是哪位|为谁|姓名)|谁是\w{1,30}的记者"
                     r"|(?:报道|文章|稿件|稿子|新闻)的?(?:作者|撰稿人)")
# "谁写的" asks about a report only when the question says it is one ("冬天来了春天还会远吗是谁写的"
# asks for a poet).
_WHO_WROTE = re.compile(r"谁(?:写|采写|撰写)的")
_A_REPORT = re.compile(r"报道|稿件|稿子|新闻|那篇|这篇")
# "谁拍摄了…的照片", "…的照片是谁拍的", "…那篇报道的摄影是谁": the photographer.
_PHOTO = re.compile(r"谁(?:拍摄|拍|摄影|拍照)|(?:照片|图片|配图|摄影)(?:记者|师)?(?:是谁|是哪位|为谁|叫什么|是由谁|由谁)"
                    r"|(?:照片|图片|配图)(?:是)?(?:谁|哪位记者)拍")
_ITS_PHOTOS = re.compile(r"\w的(?:照片|图片|配图)|[\u4e00-\u9fff][^\W张幅组](?:照片|图片|配图)")  # not "这张照片"
# "…那篇文章转自哪里", "…报道的来源是什么": where the article was reprinted from.
_SOURCE = re.compile(r"转(?:载)?自(?:哪|什么|何)|(?:来源|出处)(?:是|为)?(?:哪|什么|何)")
# The question's words that only say it asks for a byline; the rest name the article's subject.
_BYLINE_WORDS = frozenset({"记者", "作者", "撰稿", "撰稿人", "报道", "文章", "稿件", "稿子", "新闻", "那篇", "这篇",
                           "一篇", "篇文章", "写", "采写", "撰写", "是谁", "哪位", "叫什么", "名字",
                           "拍摄", "拍照", "摄影", "摄影师", "照片", "图片", "配图", "拍的",
                           "转自", "转载", "来源", "出处", "哪里", "什么", "媒体", "网站"})


# "谁报道了苏家坨镇的慰问活动", "…是谁报道的": to report is what a reporter does.
_WHO_REPORTED = re.compile(r"谁(?:报道|报导)(?:了|的|过)")


def asks_for_byline(question: str) -> bool:
    """"…的记者是谁", "哪位记者写的…", "谁写的…那篇报道", "谁报道了…": the answer is the
    article's reporter."""
    return bool(_BYLINE.search(question) or _WHO_REPORTED.search(question)
                or _WHO_WROTE.search(question) and _A_REPORT.search(question))


def asks_for_photographer(question: str) -> bool:
    """"谁拍摄了通州那篇报道的照片", "业工融合的照片是谁拍的": the answer is the photo credit's
    names. About a report, or the photographs of a subject ("X的照片"; only an article whose
    metadata holds a photo credit answers, :func:`find_photographers`): "这张照片是谁拍的" asks
    about a famous picture, "谁拍摄了电影《英雄》" about a film."""
    return bool(_PHOTO.search(question)) and bool(_A_REPORT.search(question) or _ITS_PHOTOS.search(question))


def asks_for_source(question: str) -> bool:
    """"长春市总工会那篇文章转自哪里", "…报道的来源是什么": the answer is the paper it was
    reprinted from ("转自《中工网》", which ingest keeps as ``source``). Only about a report."""
    return bool(_SOURCE.search(question)) and bool(_A_REPORT.search(question))


def byline_answer(question: str, hits: Sequence[Hit]) -> Answer | None:
    """The answer to a question about an article's reporter: the reporters, or that the
    article names none and where it was reprinted from, cited to the article's opening
    passage; about its photographer, the photo credit's names; about its source, the paper it
    was reprinted from, or that it is the paper's own reporter's. None when the question asks no
    such thing or no article fits (:func:`find_byline`, :func:`find_photographers`)."""
    if asks_for_source(question):
        hit = _subject_article(question, hits)
        if hit is None or not (hit.chunk.meta.get("source") or hit.chunk.meta.get("reporters")):
            return None
        title, source = hit.chunk.title, hit.chunk.meta.get("source")
        if source:
            return _answer(hit, hits, source, f"《{title}》转自《{source}》。[1]")
        names = "、".join(hit.chunk.meta["reporters"])
        return _answer(hit, hits, "", f"《{title}》署名本报记者{names}，没有转载来源。[1]")
    if asks_for_photographer(question):
        shot = find_photographers(question, hits)
        if shot is None:
            return None
        hit, shooters = shot
        said = "、".join(shooters)
        return _answer(hit, hits, said, f"《{hit.chunk.title}》摄影：{said}。[1]")
    found = find_byline(question, hits) if asks_for_byline(question) else None
    if found is None:
        return None
    hit, reporters = found
    title, names = hit.chunk.title, "、".join(reporters)
    if reporters:
        return _answer(hit, hits, names, f"《{title}》署名记者：{names}。[1]")
    source = hit.chunk.meta.get("source")
    return _answer(hit, hits, "", f"《{title}》没有记者署名{f'，转自《{source}》' if source else ''}。[1]")


def _answer(hit: Hit, hits: Sequence[Hit], names: str, said: str) -> Answer:
    """The names first, cited to the article's passage, then what the article's metadata says."""
    text = f"{names}[1]。{said}" if names else said
    return Answer(text=text, citations=(Citation(n=1, chunk=hit.chunk, score=hit.score),), hits=tuple(hits),
                  short=names)


def _subject_article(question: str, hits: Sequence[Hit]) -> Hit | None:
    """The article the question names, as its opening passage among ``hits`` (where its dateline
    stood): the one whose title names most of the question's subject, the better ranked on a tie
    ("密云区总工会那篇文章" is not the 东城区总工会 one); when no title names any of it, the
    article whose passages found name all of it ("通州那篇报道": "通州商业资产运营集团有限公司工会…")."""
    subject = [w for w in content_words(question) if len(w) >= 2 and w not in _BYLINE_WORDS]
    best: tuple[int, Hit] | None = None
    for hit in hits:
        named = sum(w in hit.chunk.title for w in subject)
        if named and (best is None or named > best[0]):
            best = named, hit
    if best is None and subject:
        best = next(((len(subject), h) for h in hits if all(w in h.chunk.embedding_text() for w in subject)), None)
    if best is None:
        return None
    return min((h for h in hits if h.chunk.doc_id == best[1].chunk.doc_id), key=lambda h: h.chunk.char_start)


def find_byline(question: str, hits: Sequence[Hit]) -> tuple[Hit, tuple[str, ...]] | None:
    """The article the question names (:func:`_subject_article`) with its reporters (none for a
    reprint). None when no article fits, or its article names neither reporter nor source, so
    the question is answered as any other."""
    hit = _subject_article(question, hits)
    if hit is None:
        return None
    meta = hit.chunk.meta
    if not meta.get("reporters"):
        # A reprint ("转自《中工网》") is said to name none, and gets no other article's byline;
        # an article with neither (a dateline ingest did not read, an encyclopedia's page) is
        # answered as any other question.
        return (hit, ()) if meta.get("source") else None
    return hit, tuple(meta["reporters"])


def find_photographers(question: str, hits: Sequence[Hit]) -> tuple[Hit, tuple[str, ...]] | None:
    """The article the question names with the names of its photo credit; None when it has
    none (no credit, or an index built before ingest kept it), so the question is answered as
    any other."""
    hit = _subject_article(question, hits)
    if hit is None or not hit.chunk.meta.get("photographers"):
        return None
    return hit, tuple(hit.chunk.meta["photographers"])
