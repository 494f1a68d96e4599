import pytest

from rag.people import MAX_LISTED, people_answer, reprinted_from, signed_by, who_is


@pytest.mark.parametrize(("question", "person"), [
    ("刘欣欣写了哪些报道", "刘欣欣"),
    ("记者宗晓畅的报道有哪些", "宗晓畅"),
    ("宗晓畅拍摄了哪些照片", "宗晓畅"),
    ("王路曼写过什么文章", "王路曼"),
    ("刘欣欣最近写了几篇报道", "刘欣欣"),
    ("首开书院在哪里", None),
    ("谁写的首开集团那篇报道", None),  # a byline (rag/byline.py)
    ("哪篇文章提到了工匠学院", None),  # what articles mention (rag/mentions.py)
])
def test_a_question_for_a_persons_articles_names_the_person(question, person):
    assert signed_by(question) == person


@pytest.mark.parametrize(("question", "source"), [
    ("哪篇文章转自中工网", "中工网"),
    ("转自《中工网》的报道有哪些", "中工网"),
    ("长春市总工会那篇文章转自哪里", None),  # one article's source (rag/byline.py)
    ("首开书院在哪里", None),
])
def test_a_question_for_a_papers_reprints_names_the_paper(question, source):
    assert reprinted_from(question) == source


def test_a_papers_reprints_are_listed_from_the_source_ingest_kept(hashing_engine):
    ans = _ask(hashing_engine, "哪篇文章转自中工网")
    assert ans.text == "转自《中工网》的文章：《长春市总工会建立全链条技能人才培养工作体系》[1]。"
    assert "中工网" not in hashing_engine.store.get_article(ans.citations[0].chunk.doc_id).text
    assert people_answer("哪些报道转自人民日报", hashing_engine.store) is None


def test_listings_answer_with_the_name_check_off_too(tmp_path):
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    engine = load_engine(hashing_settings(tmp_path, name_check=False))
    ans = engine.composer.compose("刘欣欣写了哪些报道", engine.retriever.search("刘欣欣写了哪些报道", 5))
    assert ans.text == "刘欣欣署名的文章：《首开集团工会高标准打造职工服务阵地》[1]。"


def _ask(engine, question):
    return engine.composer.compose(question, engine.retriever.search(question, 5))


def test_a_reporters_articles_are_listed_from_the_metadata_and_cited_to_their_openings(hashing_engine):
    """刘欣欣 stands in no passage (her dateline is metadata): the name check refused this."""
    store = hashing_engine.store
    ans = _ask(hashing_engine, "刘欣欣写了哪些报道")
    assert not ans.refused
    assert ans.text == "刘欣欣署名的文章：《首开集团工会高标准打造职工服务阵地》[1]。"
    (cited,) = ans.citations
    assert cited.chunk.char_start == 0 and "刘欣欣" in cited.chunk.meta["reporters"]
    assert "刘欣欣" not in store.get_article(cited.chunk.doc_id).text
    both = _ask(hashing_engine, "记者宗晓畅的报道有哪些")
    assert {c.chunk.title for c in both.citations} == {"海淀区苏家坨镇总工会开展情暖职工慰问活动", "“业工融合”助力企业发展"}
    # photographs: the photo credit's articles only, not the ones she wrote
    shot = _ask(hashing_engine, "宗晓畅拍摄了哪些照片")
    assert shot.text == "宗晓畅摄影的文章：《“业工融合”助力企业发展》[1]。"
    # a count asked: the count first
    count = _ask(hashing_engine, "宗晓畅写了几篇报道")
    assert count.short == "2篇" and count.text.startswith("2篇[1]。宗晓畅署名的文章共2篇：")


@pytest.mark.parametrize(("question", "person"), [
    ("刘欣欣是哪家报社的记者", "刘欣欣"),
    ("宗晓畅是谁", "宗晓畅"),
    ("记者宗晓畅是谁？", "宗晓畅"),
    ("高岩是做什么的", "高岩"),
    ("刘欣欣", "刘欣欣"),  # a name typed alone, as into a search box
    ("首开集团工会主席是谁", None),  # the article's text, not its metadata (rag/question.py)
    ("刘欣欣写了哪些报道", None),
])
def test_a_question_who_a_person_is_names_the_person(question, person):
    assert who_is(question) == person


def test_who_a_person_of_the_paper_is_comes_from_the_datelines_and_photo_credits(hashing_engine):
    """"刘欣欣是哪家报社的记者" was refused: no passage names her (her dateline is metadata)."""
    ans = _ask(hashing_engine, "刘欣欣是哪家报社的记者")
    assert not ans.refused and ans.short == "本报记者"
    assert ans.text == "本报记者[1]。刘欣欣是本报记者，署名的文章：《首开集团工会高标准打造职工服务阵地》[1]。"
    assert "刘欣欣" in ans.citations[0].chunk.meta["reporters"]
    # the photo credit "本报记者 宗晓畅 通讯员 高岩 摄影报道"
    assert _ask(hashing_engine, "高岩是做什么的").text.startswith("通讯员、摄影[1]。高岩是通讯员、摄影，署名的文章：《“业工融合”")
    both = _ask(hashing_engine, "宗晓畅是谁")
    assert both.short == "本报记者、摄影" and len(both.citations) == 2
    # a name typed alone; a word alone that names no one of the paper is answered as any other
    assert _ask(hashing_engine, "刘欣欣").text == ans.text
    assert people_answer("长春", hashing_engine.store) is None
    # no article's metadata names him: refused by the name check as before
    assert people_answer("张三是谁", hashing_engine.store) is None
    assert _ask(hashing_engine, "张三是谁").refusal_reason == "name_unknown"


def test_someone_no_article_names_is_refused_as_before(hashing_engine):
    assert people_answer("张三写了哪些报道", hashing_engine.store) is None
    ans = _ask(hashing_engine, "张三写了哪些报道")
    assert ans.refused and ans.refusal_reason == "name_unknown"


def test_a_long_list_is_cut_and_counted(tmp_path, seed_articles):
    from dataclasses import replace

    from rag.embedding import HashingEmbedder
    from rag.types import Article
    from tests.conftest import store_of

    base = next(a for a in seed_articles if a.title.startswith("首开集团"))
    many = [Article.make(f"报道{i}", f"第{i}篇。{base.text}", source_path=f"p{i}.txt",
                         meta={**dict(base.meta), "reporters": ["刘欣欣"]}) for i in range(MAX_LISTED + 3)]
    store = store_of(tmp_path / "kb", HashingEmbedder(), [replace(a, doc_id=f"d{i}") for i, a in enumerate(many)])
    ans = people_answer("刘欣欣写了哪些报道", store)
    assert len(ans.citations) == MAX_LISTED and ans.text.endswith(f"（共{MAX_LISTED + 3}篇，列出前{MAX_LISTED}篇）")
    store.close()


def test_the_api_lists_a_reporters_articles_and_streams_them(tmp_path):
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.conftest import hashing_settings

    with TestClient(create_app(hashing_settings(tmp_path))) as c:
        body = c.post("/ask", json={"question": "王路曼写过什么文章"}).json()
        assert not body["refused"] and body["answer"] == "王路曼署名的文章：《密云区总工会多措并举培育高技能人才队伍》[1]。"
        assert body["citations"][0]["meta"]["reporters"] == ["王路曼"]
        r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": "王路曼写过什么文章"}]})
        assert r.status_code == 200 and "密云区总工会多措并举培育高技能人才队伍" in r.text
