import pytest

from rag.script import simplified


@pytest.mark.parametrize(("typed", "read"), [
    ("首開集團建了多少個工會驛站", "首开集团建了多少个工会驿站"),
    ("密雲區工匠學院怎麼運作", "密云区工匠学院怎么运作"),
    # Simplified already, or one variant character (a name's own spelling, CMRC): as typed
    ("密云区工匠学院怎么运作", "密云区工匠学院怎么运作"),
    ("黄霑有哪些著名填词作品？", "黄霑有哪些著名填词作品？"),
    ("What is 工匠学院?", "What is 工匠学院?"),
])
def test_a_question_in_traditional_characters_is_read_in_simplified_ones(typed, read):
    assert simplified(typed) == read


def test_a_traditional_question_is_asked_as_its_simplified_form(hashing_engine):
    """Every question passes rag.pipeline.check_question: the traditional one retrieves and is
    answered exactly as its simplified form, and the name check finds its names."""
    question, hits = hashing_engine.search("首開集團的工會驛站", 3)
    assert question == "首开集团的工会驿站"
    assert [h.chunk.id for h in hits] == [h.chunk.id for h in hashing_engine.search("首开集团的工会驿站", 3)[1]]
    typed, read = hashing_engine.ask("首開集團建了多少個工會驛站"), hashing_engine.ask("首开集团建了多少个工会驿站")
    assert typed.refusal_reason != "name_unknown" and typed.text == read.text


def test_a_follow_up_of_a_traditional_question_is_asked_about_its_simplified_subject(hashing_engine):
    from rag.conversation import Turn

    history = [Turn("user", "密雲區工匠學院的院長是誰"), Turn("assistant", "首都经济贸易大学密云分校党委委员、副校长[1]。")]
    question, _ = hashing_engine.retrieve(history, "它有多少名导师")
    assert question == "密云区工匠学院有多少名导师"


def test_an_archive_in_traditional_characters_keeps_its_questions_as_typed(tmp_path):
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    engine = load_engine(hashing_settings(tmp_path, simplify_questions=False))
    assert engine.search("首開集團的工會驛站", 3)[0] == "首開集團的工會驛站"
    assert engine.ask("首開集團建了多少個工會驛站").refusal_reason == "name_unknown"  # the seed page says 首开集团
    engine.close()


@pytest.mark.slow
def test_a_traditional_question_is_answered_from_the_simplified_archive(tmp_path):
    """It was refused before: "现有文章中没有提到“首開集團”" (the name check reads the words)."""
    from rag.pipeline import load_engine
    from tests.conftest import hashing_settings

    engine = load_engine(hashing_settings(tmp_path, embed_model="e5-small"))
    ans = engine.ask("首開集團建了多少個工會驛站")
    assert not ans.refused and ans.short == "167个", ans.text
    assert ans.citations[0].chunk.title == "首开集团工会高标准打造职工服务阵地"
    engine.close()
