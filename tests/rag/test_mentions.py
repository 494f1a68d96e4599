import pytest

from rag.mentions import _subject, asks_for_articles


@pytest.mark.parametrize(("question", "subject"), [
    ("哪篇文章提到了工匠学院", ["工匠学院"]),
    ("关于苏家坨镇的报道有哪些", ["苏家坨镇"]),
    ("哪些报道提到了首开集团和职工之家", ["首开集团", "职工之家"]),
    ("首开书院在哪里", None),  # a fact, not articles
    ("首开集团那篇报道的记者是谁", None),  # a byline (rag/byline.py)
    ("1986年迟子建在《人民文学》上发表哪篇文章而成名？", None),  # the title of a work the text names (CMRC)
    ("这段话出自哪一篇文章?", None),  # DRCD
])
def test_a_question_for_articles_names_what_they_mention(question, subject):
    assert asks_for_articles(question) is (subject is not None)
    if subject is not None:
        assert _subject(question) == subject


def _ask(engine, question):
    return engine.composer.compose(question, engine.retriever.search(question, 5))


def test_the_articles_that_mention_the_subject_are_named_and_cited_to_the_sentence_that_does(hashing_engine):
    ans = _ask(hashing_engine, "哪篇文章提到了工匠学院")
    assert not ans.refused
    titles = [c.chunk.title for c in ans.citations]
    assert "密云区总工会多措并举培育高技能人才队伍" in titles
    assert ans.text.startswith("、".join(f"《{t}》[{n}]" for n, t in enumerate(titles, 1)) + "。")
    store = hashing_engine.store
    for c in ans.citations:
        (quote,) = c.quotes
        # the quote is the article's own sentence, where the subject stands
        assert "工匠学院" in quote.text and store.get_article(c.chunk.doc_id).text[quote.start:quote.end] == quote.text
        assert f"{quote.text}[{c.n}]" in ans.text
    # every article whose passages found name it is named, and none that does not
    named = {c.chunk.doc_id for c in ans.citations}
    hits = hashing_engine.retriever.search("哪篇文章提到了工匠学院", 5)
    assert named == {h.chunk.doc_id for h in hits if "工匠学院" in h.chunk.text}


def test_articles_are_not_named_for_a_subject_none_of_them_mentions(hashing_engine):
    from rag.mentions import mention_answer

    question = "哪篇报道提到了上海迪士尼乐园"
    hits = hashing_engine.retriever.search(question, 5)
    assert hits and mention_answer(question, hits) is None
    assert not _ask(hashing_engine, question).text.startswith("《")


def test_the_api_names_the_articles_and_streams_them(tmp_path):
    """Over HTTP: the answer and its citations pass the edge's schema, in /ask and the streaming chat."""
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import hashing_settings

    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        body = c.post("/ask", json={"question": "关于苏家坨镇的报道有哪些"}).json()
        assert not body["refused"] and body["answer"].startswith("《海淀区苏家坨镇总工会开展情暖职工慰问活动》[1]。")
        (cited,) = body["citations"]
        assert "苏家坨镇" in cited["quotes"][0]["text"]
        r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": "关于苏家坨镇的报道有哪些"}]})
        assert r.status_code == 200 and "海淀区苏家坨镇总工会开展情暖职工慰问活动" in r.text
