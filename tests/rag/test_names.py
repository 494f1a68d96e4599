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
    ("广茂铁路全长多少公里？", ("广茂",)),
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


def test_a_question_about_an_unknown_name_is_refused_and_one_about_a_known_name_is_not(hashing_engine):
    engine = hashing_engine
    assert isinstance(engine.composer, NameCheck)
    _, hits = engine.retrieve((), "广茂铁路全长多少公里")
    assert hits  # the seed page's passages are retrieved, and none names 广茂
    refused = engine.compose("广茂铁路全长多少公里", hits)
    assert refused.refused and refused.refusal_reason == "name_unknown" and refused.citations == ()
    assert refused.text == "抱歉，现有文章中没有提到“广茂”，无法回答这个问题。"  # it says what it did not find

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
    assert check.unknown_names("广茂铁路全长多少公里", []) == ("广茂",)
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
        assert body["refused"] and body["refusal_reason"] == "name_unknown" and "“广茂”" in body["answer"]
        # the streamed chat says the same, then stops with the reason
        r = c.post("/v1/chat/completions", json={"stream": True, "messages": [
            {"role": "user", "content": "广茂铁路全长多少公里"}]})
        assert r.status_code == 200 and "“广茂”" in r.text and "name_unknown" in r.text
    with TestClient(create_app(hashing_settings(tmp_path / "off", name_check=False))) as c:
        body = c.post("/ask", json={"question": "广茂铁路全长多少公里"}).json()
        assert body["refusal_reason"] != "name_unknown"
