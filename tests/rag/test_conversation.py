import pytest

from rag.conversation import Turn, is_followup, standalone_question


@pytest.mark.parametrize("q", ["那它的导师有哪些人？", "他们有多少人参赛？", "还有别的吗", "其中有几个市级职工之家？", "多少人？"])
def test_followups_are_detected(q):
    assert is_followup(q)


@pytest.mark.parametrize("q", ["密云区工匠学院怎么运作", "长春市总工会设置了多少个竞赛项目", "首开书院有哪些功能区"])
def test_self_contained_questions_are_not(q):
    assert not is_followup(q)


def test_chain_of_followups_keeps_the_first_subject():
    history = [Turn("user", "密云区工匠学院怎么运作"), Turn("assistant", "……[1]"),
               Turn("user", "那它的导师有哪些人？"), Turn("assistant", "……[1]")]
    assert standalone_question(history, "他们是谁聘请的？") == \
        "密云区工匠学院怎么运作 那它的导师有哪些人？ 他们是谁聘请的？"
    # A new, self-contained question starts afresh.
    assert standalone_question(history, "东城区总工会2025年有什么打算") == "东城区总工会2025年有什么打算"
    assert standalone_question([], "那它呢？") == "那它呢？"


def test_x_ne_asks_the_earlier_question_again_about_x():
    history = [Turn("user", "首开集团建了多少个工会驿站"), Turn("assistant", "167个[1]。……[1]")]
    assert is_followup("密云区呢") and is_followup("那市级职工之家呢？")
    # a body or place takes the place of the earlier question's own
    assert standalone_question(history, "密云区呢") == "密云区建了多少个工会驿站"
    assert standalone_question(history, "东城区总工会呢？") == "东城区总工会建了多少个工会驿站"
    # anything else takes the place of what the question word asked for
    assert standalone_question(history, "那市级职工之家呢？") == "首开集团建了多少个市级职工之家"
    # a chain: the second "X呢" rewrites the first one's rewritten question
    chain = [*history, Turn("user", "密云区呢"), Turn("assistant", "……[1]")]
    assert standalone_question(chain, "那东城区呢") == "东城区建了多少个工会驿站"
    # a pronoun, or nothing to put X in place of: the two questions are searched together
    assert standalone_question(history, "那它呢？") == "首开集团建了多少个工会驿站 那它呢？"
    how = [Turn("user", "密云区工匠学院怎么运作"), Turn("assistant", "……[1]")]
    assert standalone_question(how, "那导师呢") == "密云区工匠学院怎么运作 那导师呢"
    # a question of its own is left alone
    assert standalone_question(history, "长春呢？设置了多少个竞赛项目") == "长春呢？设置了多少个竞赛项目"


@pytest.mark.parametrize(("earlier", "question", "want"), [
    # a pronoun for the earlier question's subject: the composer reads one question
    ("密云区工匠学院的院长是谁", "它有多少名导师", "密云区工匠学院有多少名导师"),
    ("密云区工匠学院怎么运作", "那它的导师有哪些人？", "密云区工匠学院的导师有哪些人？"),
    ("首开书院在哪里", "该书院面向谁开放", "首开书院面向谁开放"),
    ("刘欣欣是哪家报社的记者", "她写了哪些报道", "刘欣欣写了哪些报道"),
    # no subject of its own: asked about the earlier one's
    ("苏家坨镇总工会慰问了哪些单位", "送了什么", "苏家坨镇总工会送了什么"),
    # 他 after a question about a body is its answer (the 院长), not the body: searched together
    ("密云区工匠学院的院长是谁", "他还担任什么职务", "密云区工匠学院的院长是谁 他还担任什么职务"),
    # 它们 is as likely the answer's things (the 驿站), 其中 a part of them: searched together
    ("首开集团建了多少个工会驿站", "它们都在哪里", "首开集团建了多少个工会驿站 它们都在哪里"),
    ("长春市总工会解决了多少项难题", "其中技术难题有多少", "长春市总工会解决了多少项难题 其中技术难题有多少"),
])
def test_a_pronoun_is_replaced_by_the_subject_it_stands_for(earlier, question, want):
    history = [Turn("user", earlier), Turn("assistant", "……[1]")]
    assert standalone_question(history, question) == want
