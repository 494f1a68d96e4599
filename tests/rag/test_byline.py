import pytest

from rag.byline import asks_for_byline, asks_for_photographer, asks_for_source


@pytest.mark.parametrize(("question", "asks"), [
    ("首开集团那篇报道的记者是谁", True),
    ("密云区总工会那篇文章是哪位记者写的", True),
    ("谁写的东城区总工会那篇报道", True),
    ("谁报道了苏家坨镇的慰问活动", True),  # to report is a reporter's work
    ("谁是东城区那篇报道的记者", True),
    ("东城区总工会加大经费支持是谁报道的", True),
    ("《论自由》的作者是谁", False),  # a book's author, not a report's
    ("冬天来了春天还会远吗 是谁写的", False),  # a poet (DuReader)
    ("记者在首开书院看到了什么", False),  # what the reporter saw
    ("首开集团工会主席叫什么名字", False),
])
def test_a_byline_question_is_one_about_a_reporter_or_a_reports_writer(question, asks):
    assert asks_for_byline(question) is asks


@pytest.mark.parametrize(("question", "asks"), [
    ("谁拍摄了通州那篇报道的照片", True),
    ("“业工融合”那篇文章的照片是谁拍的", True),
    ("通州那篇新闻的摄影是谁", True),
    ("业工融合的照片是谁拍的", True),  # the photographs of a subject the articles name
    ("谁拍的业工融合照片", True),
    ("谁拍的那组照片", False),
    ("这张照片是谁拍的", False),  # a famous picture, not a report's
    ("谁拍摄了电影《英雄》", False),
    ("首开集团那篇报道的记者是谁", False),
])
def test_a_photographer_question_is_one_about_a_reports_photographs(question, asks):
    assert asks_for_photographer(question) is asks


@pytest.mark.parametrize(("question", "asks"), [
    ("长春市总工会那篇文章转自哪里", True),
    ("长春那篇报道的来源是什么", True),
    ("这句话出自哪里", False),
    ("长江的来源是什么", False),  # not a report's
])
def test_a_source_question_is_one_about_where_a_report_was_reprinted_from(question, asks):
    assert asks_for_source(question) is asks


def test_the_source_is_answered_from_the_reprint_line_ingest_kept_and_an_own_report_is_said_to_be_one(
        hashing_engine):
    ans = _ask(hashing_engine, "长春市总工会那篇文章转自哪里")
    assert not ans.refused and ans.short == "中工网"
    assert ans.text == "中工网[1]。《长春市总工会建立全链条技能人才培养工作体系》转自《中工网》。[1]"
    assert "中工网" not in hashing_engine.store.get_article(ans.citations[0].chunk.doc_id).text
    own = _ask(hashing_engine, "首开集团那篇报道转自哪里")
    assert own.text == "《首开集团工会高标准打造职工服务阵地》署名本报记者刘欣欣，没有转载来源。[1]"


def test_the_photographers_are_answered_from_the_photo_credit_of_the_article_the_text_names(hashing_engine):
    """The 通州 item is titled by its theme ("“业工融合”助力企业发展") and names 通州 in its text;
    its credit line ("本报记者 宗晓畅 通讯员 高岩 摄影报道") is metadata, not text."""
    ans = _ask(hashing_engine, "谁拍摄了通州那篇报道的照片")
    assert not ans.refused and ans.short == "宗晓畅、高岩" and ans.text.startswith("宗晓畅、高岩[1]。")
    (cited,) = ans.citations
    assert cited.chunk.title == "“业工融合”助力企业发展" and cited.chunk.meta["photographers"] == ["宗晓畅", "高岩"]
    assert "高岩" not in hashing_engine.store.get_article(cited.chunk.doc_id).text
    # an article with no photo credit gets no one's names
    assert _ask(hashing_engine, "业工融合的照片是谁拍的").short == "宗晓畅、高岩"
    other = _ask(hashing_engine, "谁拍摄了首开集团那篇报道的照片")
    assert "宗晓畅" not in other.text and "高岩" not in other.text, other.text
    # a reporter asked of the item whose title does not name 通州: found by its text too
    who = _ask(hashing_engine, "通州那篇报道的记者是谁")
    assert who.short == "宗晓畅" and who.citations[0].chunk.title == "“业工融合”助力企业发展"


def _ask(engine, question):
    """With the engine's own composer and its default settings (gate and cosine floor included)."""
    return engine.composer.compose(question, engine.retriever.search(question, 5))


@pytest.mark.parametrize(("question", "reporter", "title"), [
    ("首开集团那篇报道的记者是谁", "刘欣欣", "首开集团工会高标准打造职工服务阵地"),
    ("密云区总工会那篇文章是哪位记者写的", "王路曼", "密云区总工会多措并举培育高技能人才队伍"),
    # answered "总工会" by the reader before: the article's subject named, not the article
    ("谁报道了苏家坨镇的慰问活动", "宗晓畅", "海淀区苏家坨镇总工会开展情暖职工慰问活动"),
])
def test_the_reporter_is_answered_from_the_articles_dateline_and_cited_to_it(hashing_engine, question, reporter,
                                                                             title):
    hits = hashing_engine.retriever.search(question, 5)
    ans = hashing_engine.composer.compose(question, hits)
    assert not ans.refused and ans.short == reporter and ans.text.startswith(f"{reporter}[1]。")
    (cited,) = ans.citations
    assert cited.chunk.title == title and reporter in cited.chunk.meta["reporters"]
    # cited to the article's opening among the passages found, where its dateline stood
    assert cited.chunk.char_start == min(h.chunk.char_start for h in hits if h.chunk.title == title)
    # the dateline is kept as metadata, not text: nothing is quoted that the article does not hold
    assert not cited.quotes and reporter not in hashing_engine.store.get_article(cited.chunk.doc_id).text


def test_no_byline_is_given_for_an_article_the_question_does_not_name_and_a_reprint_is_said_to_have_none(
        hashing_engine, seed_articles):
    reporters = {n for a in seed_articles for n in a.meta.get("reporters") or ()}
    assert {"刘欣欣", "王路曼"} <= reporters
    subway = _ask(hashing_engine, "谁写的北京地铁那篇报道")
    assert not any(name in subway.text for name in reporters), subway.text
    # the 长春 article is reprinted "转自《中工网》" and names no reporter: not another article's
    reprint = _ask(hashing_engine, "谁写的长春市总工会那篇报道")
    assert not any(name in reprint.text for name in reporters), reprint.text
    assert not reprint.refused and reprint.text == "《长春市总工会建立全链条技能人才培养工作体系》没有记者署名，转自《中工网》。[1]"
    assert reprint.citations[0].chunk.title == "长春市总工会建立全链条技能人才培养工作体系"


def test_an_article_naming_neither_reporter_nor_source_is_not_said_to_be_unsigned(hashing_engine):
    """An encyclopedia's page, or a dateline ingest did not read: no claim about its byline."""
    from rag.byline import find_byline
    from rag.types import Chunk, Hit

    text = "朱启钤是北洋政府官员，曾主持北京正阳门改造。"
    hit = Hit(Chunk(id="z#0", doc_id="z", title="朱启钤", text=text, char_start=0, char_end=len(text)), 1.0,
              dense_score=0.9)
    assert find_byline("《朱启钤：「被抹掉的奠基人」》这篇文章的作者是谁?", [hit]) is None


@pytest.mark.slow
def test_the_api_answers_who_wrote_an_article_and_streams_it(tmp_path, e5):
    """Over HTTP with the real model (the hashing embedder's cosines refuse everything): the
    answer and its citation pass the edge's schema, a citation quoting nothing included."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import hashing_settings

    with TestClient(create_app(hashing_settings(tmp_path, embed_model="e5-small"))) as c:
        body = c.post("/ask", json={"question": "首开集团那篇报道的记者是谁"}).json()
        assert not body["refused"] and body["answer"].startswith("刘欣欣[1]。")
        (cited,) = body["citations"]
        assert cited["title"] == "首开集团工会高标准打造职工服务阵地" and cited["meta"]["reporters"] == ["刘欣欣"]
        r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": "谁写的长春市总工会那篇报道"}]})
        assert r.status_code == 200 and "没有记者署名" in r.text and "中工网" in r.text


def test_the_generator_path_answers_a_byline_question_from_the_dateline_without_asking_the_model(hashing_engine):
    """The model reads passages, and the dateline is not in them: asked, it could only refuse or guess."""
    from fastapi import FastAPI

    from rag.generate import CheckedGenerator, OpenAIChatBackend, stream_answer
    from rag.types import Answer
    from tests.conftest import LiveServer

    asked: list = []
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(body: dict):
        asked.append(body)
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": "记者是张三[1]。"}}]}

    question = "首开集团那篇报道的记者是谁"
    hits = hashing_engine.retriever.search(question, 5)
    with LiveServer(app) as up:
        gen = CheckedGenerator(OpenAIChatBackend(up.url + "/v1", "m"), fallback=hashing_engine.composer)
        whole = gen.compose(question, hits)
        *pieces, last = list(stream_answer(gen, question, hits))
    assert not whole.refused and whole.short == "刘欣欣" and whole.text.startswith("刘欣欣[1]。")
    assert "张三" not in whole.text and not asked
    assert isinstance(last, Answer) and "".join(pieces) == last.text == whole.text
    assert gen.paths["about_articles"] == 2
