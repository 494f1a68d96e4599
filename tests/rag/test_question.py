import pytest

from rag.question import mentions, question_entities, question_focus, question_names


@pytest.mark.parametrize("question,phrase,kind", [
    ("首开集团工会主席叫什么名字", "集团工会主席", "who"),
    ("密云区工匠学院的院长是谁", "院长", "who"),
    ("首开集团建了多少个工会驿站", "工会驿站", "count"),
    ("长春市总工会设置了多少个竞赛项目", "竞赛项目", "count"),
    # the count of things at the question's end, the things before it
    ("长春市的工匠学院有多少个", "工匠学院", "count"),
    ("首开集团工会驿站一共有几个？", "工会驿站", "count"),
    ("芝大运营的公立特许学校有几所？", "学校", "count"),  # DRCD
    ("九合空间在哪里", "九合空间", "where"),
    ("于明朝先后十次出巡奴儿干地方的人为谁", "人", "who"),  # jieba's 人为: 为 is the copula
    # "X的Y是什么": the attribute Y, after any figure ("的四个关键环节")
    ("首开集团的工作机制是什么", "工作机制", "what"),
    ("长春市总工会的四个关键环节是什么？", "关键环节", "what"),
])
def test_focus_of_factoid_questions(question, phrase, kind):
    f = question_focus(question)
    assert f is not None and (f.phrase, f.kind) == (phrase, kind)


@pytest.mark.parametrize("question,counted", [
    ("长春市总工会建了多少个工会驿站", True),
    ("额亦都一生有几位妻子", True),
    ("搭台马轮从南竿到东引区要花费多少时间", False),  # the kind of a quantity, not a thing counted
    ("超过多少百分比的学生来自全球110多个国家", False),
])
def test_a_count_asked_with_its_classifier_counts_a_thing(question, counted):
    f = question_focus(question)
    assert f is not None and f.kind == "count" and f.classified == counted


@pytest.mark.parametrize("question", ["密云区工匠学院怎么运作", "东城区总工会2025年有什么打算", "苏家坨镇总工会慰问了哪些单位",
                                      "哪几路公交车在余杭站北侧始发", "文周王是百济第多少代国王",
                                      # a count of years or days asks for a date: no thing is counted
                                      "南斯拉夫社会主义工人党于西元几年时所组成", "于民国几年嘉义正式升格为省辖市",
                                      "但几日内会在光照下变成什么", "他在多少年后回国",
                                      # what, but no "X的Y是什么"
                                      "反讽则是什么", "抱树运动指的是什么?", "明太祖采用什么战术",
                                      # a measure or a rank at the end, not a count of things
                                      "河茂铁路全长有多少公里？", "成都师范大学是几本", "越狱第五季一共几集"])
def test_how_and_type_word_questions_have_no_focus(question):
    assert question_focus(question) is None


def test_mentions_takes_the_phrase_or_its_head_noun():
    f = question_focus("首开集团工会主席叫什么名字")
    assert mentions("首开集团工会主席张三表示", f) and mentions("该集团的工会主席介绍", f)
    assert not mentions("首开集团工会相关负责人介绍", f)


def test_the_author_of_a_work_is_sought_where_the_work_is_named():
    f = question_focus("《政府论》的作者是谁?")
    assert f is not None and f.phrase == "《政府论》"
    assert mentions("哲学家约翰·洛克在其《政府论》中所提出", f)
    assert not mentions("约翰·洛克是英国哲学家，其作者身份", f)
    assert not mentions("《蒙古秘史》记载", question_focus("《世界征服者史》的作者是谁?"))  # a title is named whole


def test_a_one_character_focus_holds_no_passage_back():
    said = question_focus("「浙间妇女，虽有夫在，亦如无夫。」这句话是谁说的?")
    person = question_focus("474年以清君侧之名造反的人为谁?")
    assert said is not None and person is not None and (said.phrase, person.phrase) == ("话", "人")
    assert mentions("孔齐言于《至正直记》中记载浙间妇女", said)
    assert mentions("刘休范以清君侧之名起兵", person)


def test_a_kind_of_place_is_not_what_a_passage_must_name():
    born = question_focus("艾蒂安·保罗·马利·拉莫特的出生地是哪里？")
    head = question_focus("魏斯可金融公司总部位于哪里？")
    assert born is not None and born.kind == "where" and mentions("拉莫特生于比利时迪南", born)
    assert head is not None and mentions("魏斯可的总部设于加尼福尼亚州帕萨迪纳", head)
    seat = question_focus("九合空间在哪里")
    assert seat is not None and not mentions("苏家坨镇的职工服务中心", seat)  # a place itself still must be named


@pytest.mark.parametrize("question", ["「仁明英睿，事太后至孝，尤善抚下。」是在形容谁?", "刘备势力退出荆州是由于孙权派谁趁机夺取荆州?",
                                      "圣莫里斯花园的纪念石是为了纪念谁?"])
def test_who_as_a_verbs_object_has_no_focus(question):
    assert question_focus(question) is None


def test_entities_drop_administrative_suffixes():
    assert question_entities("长春市总工会的负责人叫什么名字") == ("长春",)


@pytest.mark.parametrize("question,phrase", [
    # jieba tags these classifiers a noun (条), a conjunction (所), a place word (间), a time (次)
    ("苏南硕放国际机场开通了多少条国际航线", "国际航线"),
    ("涿州市境内有多少所职教中心", "职教中心"),
    ("溧阳市境内有多少处国家森林公园", "国家森林公园"),
    ("高尔连任了多少届众议院议员", "众议院议员"),
])
def test_a_classifier_jieba_mistags_still_makes_the_count_one_of_things(question, phrase):
    f = question_focus(question)
    assert f is not None and f.kind == "count" and f.classified and f.phrase == phrase and f.counts_a_thing


@pytest.mark.parametrize("question,names", [
    # jieba's dictionary tags 荣誉 and 大儒 as people, 海洋 as a place: after "which / what" they
    # are the kind of thing asked for, and the answer names the honour, not 荣誉
    ("首开集团工会获得了哪些荣誉", ()),
    ("郑成功进入南京国子监深造，当时拜哪位大儒为师", ("郑成功", "南京", "国子监")),
    ("台东市的东边是什么海洋", ("台东市",)),
    # a name that goes on into a noun is still a name
    ("哪位美国总统发表了《国耻演说》", ("美国",)),
])
def test_the_kind_of_thing_asked_for_is_no_name(question, names):
    assert question_names(question) == names
