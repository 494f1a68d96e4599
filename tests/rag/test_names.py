"""A question naming something no article names is refused (rag/names.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from rag.compose import ComposeParams, ExtractiveComposer
from rag.names import NameCheck, named_in
from rag.question import question_names
from rag.types import Answer
from tests.conftest import hashing_settings


@pytest.mark.parametrize("question,names", [
    ("广茂铁路全长多少公里？", ("广茂", "广茂铁路")),  # the facility named whole too
    ("嘉兴南站有几条线？", ("嘉兴", "南站", "嘉兴南站")),
    ("余杭站位于哪里？", ("余杭", "余杭站")),  # jieba tags this 站 a verb
    ("龙烟铁路什么时候开通运营？", ("龙烟铁路",)),  # 龙烟: no dictionary word, and no name to jieba
    ("楼曾瑞毕业于哪个大学？", ("楼曾瑞",)),
    ("长春市总工会建了多少个工会驿站", ("长春市",)),
    ("2017年国家自然科学基金什么时候出结果", ("国家自然科学基金",)),
    # no proper noun; Latin words (model numbers, misspellings, spam) are not read as names
    ("首开集团工会主席叫什么名字", ()),
    ("i77700k配什么主板", ()),
])
def test_the_names_a_question_is_about(question, names):
    assert question_names(question) == names


def test_a_name_is_found_across_jiebas_cut_and_punctuation():
    assert named_in("白岳峰", "白岳峰现效力于天津泰达")
    assert named_in("白岳峰现", "足球运动员白岳峰")  # jieba took one character of the next word
    assert named_in("国家自然科学基金", "国家自然基金委和科学基金网络")  # a long compound, in parts
    assert not named_in("广茂", "沪通铁路线路全长111.8公里")
    assert not named_in("徐晓飞", "徐俊敏在昆山fc效力")
    # a facility is named whole: 嘉兴 and 南站 apart (南昌南站) do not name 嘉兴南站
    assert named_in("嘉兴南站", "嘉兴南站位于南湖区")
    assert not named_in("嘉兴南站", "嘉兴市的南昌南站")
    assert not named_in("余杭站", "位于杭州余杭区的省福彩中心")


def test_a_station_no_article_names_is_refused_though_its_parts_are_named(hashing_engine):
    """"嘉兴南站": an article on 嘉兴 and another on 南昌南站 name both words, and neither the station;
    the refusal names the station, not its parts."""
    from rag.types import Article

    hashing_engine.add_articles([
        Article(doc_id="jx-1", title="嘉兴旅游", text="嘉兴市位于浙江省东北部，南湖是当地名胜。"),
        Article(doc_id="nc-1", title="南昌南站改造", text="南昌南站位于南昌县，衔接京九铁路等5条干线。"),
    ])
    check = hashing_engine.composer
    assert check.unknown_names("嘉兴南站有几条线？", []) == ("嘉兴南站",)
    assert check.unknown_names("南昌南站有几条线？", []) == ()
    _, hits = hashing_engine.retrieve((), "嘉兴南站有几条线？")
    ans = hashing_engine.compose("嘉兴南站有几条线？", hits)
    assert ans.refused and ans.refusal_reason == "name_unknown" and "“嘉兴南站”" in ans.text


def test_a_question_about_an_unknown_name_is_refused_and_one_about_a_known_name_is_not(hashing_engine):
    engine = hashing_engine
    from rag.people import Listings

    assert isinstance(engine.composer, Listings) and isinstance(engine.composer.inner, NameCheck)
    _, hits = engine.retrieve((), "广茂铁路全长多少公里")
    assert hits  # the seed page's passages are retrieved, and none names 广茂
    refused = engine.compose("广茂铁路全长多少公里", hits)
    assert refused.refused and refused.refusal_reason == "name_unknown" and refused.citations == ()
    assert refused.text == "抱歉，现有文章中没有提到“广茂铁路”，无法回答这个问题。"  # it says what it did not find

    # 密云 is named by the seed page: the composer answers, untouched by the check (a composer
    # without the relevance gate, which the hashing embedder's cosines do not pass).
    question = "密云区工匠学院怎么运作"
    assert question_names(question) == ("密云",)
    inner = ExtractiveComposer(engine.embedder, ComposeParams(refuse_below=0.0, confident_above=0.0))
    _, hits = engine.retrieve((), question)
    checked = NameCheck(inner, engine.store).compose(question, hits)
    assert checked == inner.compose(question, hits) and not checked.refused and checked.citations
    assert "密云" in checked.text


def test_a_name_only_in_articles_not_retrieved_is_known_through_the_store(hashing_engine):
    from rag.types import Article

    check = hashing_engine.composer
    assert check.unknown_names("广茂铁路全长多少公里", []) == ("广茂铁路",)
    hashing_engine.add_articles([Article(doc_id="gm-1", title="广茂铁路",
                                         text="广茂铁路是广东省境内一条铁路，全长364公里，连接广州与茂名。")])
    # no passage handed over names it, but the knowledge base does
    assert check.unknown_names("广茂铁路全长多少公里", []) == ()


def test_no_passages_at_all_is_still_no_passages(hashing_engine):
    """An empty result (a filter that matches nothing) is refused as before, not as an unknown name."""
    ans = hashing_engine.compose("广茂铁路全长多少公里", [])
    assert ans.refused and ans.refusal_reason == "no_passages"


def test_the_streamed_answer_refuses_the_same_way(hashing_engine):
    _, hits = hashing_engine.retrieve((), "广茂铁路全长多少公里")
    pieces = list(hashing_engine.compose_stream("广茂铁路全长多少公里", hits))
    assert len(pieces) == 1 and isinstance(pieces[0], Answer) and pieces[0].refusal_reason == "name_unknown"


def test_the_api_gives_the_reason_and_the_check_can_be_turned_off(tmp_path):
    with TestClient(create_app(hashing_settings(tmp_path / "on"))) as c:
        body = c.post("/ask", json={"question": "广茂铁路全长多少公里"}).json()
        assert body["refused"] and body["refusal_reason"] == "name_unknown" and "“广茂铁路”" in body["answer"]
        # the streamed chat says the same, then stops with the reason
        r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": "广茂铁路全长多少公里"}]})
        assert r.status_code == 200 and "“广茂铁路”" in r.text and "name_unknown" in r.text
    with TestClient(create_app(hashing_settings(tmp_path / "off", name_check=False))) as c:
        body = c.post("/ask", json={"question": "广茂铁路全长多少公里"}).json()
        assert body["refusal_reason"] != "name_unknown"


AIRPORT = ("苏南硕放国际机场", "据无锡苏南国际机场集团有限公司此前发布的消息称，目前苏南硕放国际机场已累计开通国内客运航线"
           "62条，国际航线5条。无锡有几个国际机场？只有苏南硕放国际机场1个国际机场。")
LESOTHO = ("莱索托国家足球队", "莱索托国家足球队是莱索托的国家足球队，由莱索托足球协会管理。莱索托至今仍未参加过任何国际大赛的决赛周。")
LESOTHO_Q = "莱索托有几个国际机场"


def _airport_and_lesotho(engine):
    from rag.types import Article

    engine.add_articles([Article.make(*AIRPORT, doc_id="airport"), Article.make(*LESOTHO, doc_id="lesotho")])
    _, hits = engine.retrieve((), LESOTHO_Q)
    assert {"airport", "lesotho"} <= {h.chunk.doc_id for h in hits}
    # a composer without the relevance gate (the hashing embedder's cosines do not pass it)
    return ExtractiveComposer(engine.embedder, ComposeParams(refuse_below=0.0, confident_above=0.0)), hits


def test_an_answer_whose_article_never_names_the_name_is_composed_from_the_articles_that_do(hashing_engine):
    """莱索托 is named by the football page; the airport page answers "几个国际机场" without it."""
    inner, hits = _airport_and_lesotho(hashing_engine)
    unchecked = inner.compose(LESOTHO_Q, hits)
    assert not unchecked.refused and unchecked.citations[0].chunk.doc_id == "airport"  # what happened before
    check = NameCheck(inner, hashing_engine.store)
    ans = check.compose(LESOTHO_Q, hits)
    assert ans == inner.compose(LESOTHO_Q, [h for h in hits if h.chunk.doc_id == "lesotho"])
    assert all(c.chunk.doc_id == "lesotho" for c in ans.citations) and "苏南" not in ans.text
    # streamed, the same answer
    assert list(check.compose_stream(LESOTHO_Q, hits))[-1] == ans


def test_when_no_passage_close_to_the_question_names_it_the_refusal_says_so(hashing_engine):
    inner, hits = _airport_and_lesotho(hashing_engine)
    airport_only = [h for h in hits if h.chunk.doc_id == "airport"]
    check = NameCheck(inner, hashing_engine.store)
    assert check.unknown_names(LESOTHO_Q, airport_only) == ()  # the store does name 莱索托
    ans = check.compose(LESOTHO_Q, airport_only)
    assert ans.refused and ans.refusal_reason == "name_missing" and ans.citations == ()
    assert ans.text == "抱歉，与这个问题相关的文章都没有提到“莱索托”，无法回答这个问题。"
    pieces = list(check.compose_stream(LESOTHO_Q, airport_only))
    assert pieces == [ans]
    # an answer whose article names the name stands as the composer gave it
    q = "苏南硕放国际机场开通了多少条国际航线"
    assert check.compose(q, airport_only) == inner.compose(q, airport_only)
    assert not check.compose(q, airport_only).refused


def test_names_every_article_leaves_implicit_do_not_hold_an_answer():
    from rag.names import specific_names

    assert question_names("中国最长的河流是哪一条") == ("中国",) and specific_names("中国最长的河流是哪一条") == ()
    assert specific_names("台湾最长的河流是哪一条") == ("台湾",)
    assert specific_names(LESOTHO_Q) == ("莱索托",)


@pytest.mark.slow
def test_the_api_refuses_with_name_missing_and_answers_from_the_page_that_names_it(tmp_path, e5):
    """Over HTTP with the real model (the hashing embedder's cosines refuse everything): the
    airport page is in one collection, the 莱索托 page in another."""
    docs = {"news": {"doc_id": "airport", "title": AIRPORT[0], "text": AIRPORT[1]},
            "sports": {"doc_id": "lesotho", "title": LESOTHO[0], "text": LESOTHO[1]}}
    only_news = {"question": LESOTHO_Q, "filters": {"collections": ["news"]}}
    for check, sub in ((True, "on"), (False, "off")):
        with TestClient(create_app(hashing_settings(tmp_path / sub, embed_model="e5-small", name_check=check))) as c:
            for collection, doc in docs.items():
                assert c.post("/documents", json={"collection": collection, "documents": [doc]}).status_code == 201
            body = c.post("/ask", json=only_news).json()
            if not check:  # what the check is for: the airport page answers a question about 莱索托
                assert not body["refused"] and body["citations"][0]["doc_id"] == "airport"
                continue
            assert body["refused"] and body["refusal_reason"] == "name_missing" and "“莱索托”" in body["answer"]
            r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
                {"role": "user", "content": LESOTHO_Q}], "filters": {"collections": ["news"]}})
            assert r.status_code == 200 and "name_missing" in r.text and "“莱索托”" in r.text
            # across both collections no answer cites the airport page
            body = c.post("/ask", json={"question": LESOTHO_Q}).json()
            assert all(x["doc_id"] != "airport" for x in body["citations"])
            good = c.post("/ask", json={"question": "苏南硕放国际机场开通了多少条国际航线"}).json()
            assert not good["refused"] and good["citations"][0]["doc_id"] == "airport" and "5条" in good["answer"]
