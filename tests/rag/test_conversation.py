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
