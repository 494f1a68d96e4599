"""The span reader: its training data, its decoding, its place in the answer, and (slow) the
trained weights on the project's own fixtures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from eval.reader_train import TrainParams, _paragraph_examples
from eval.sets import keyword_form
from rag.compose import build_answer, with_short_answer
from rag.reader import READER_DIR, Span, best_span, best_spans
from rag.span import with_unit
from rag.types import Answer, Chunk, Hit, Quote


def _qas(question: str, raw: str, answer: str) -> list[dict]:
    """One DRCD question on ``raw`` as drcd_examples hands it on: its answer's start and the
    raw text before it."""
    start = raw.index(answer)
    return [{"question": question, "answers": [{"text": answer, "answer_start": start, "_raw_prefix": raw[:start]}]}]


def test_training_examples_find_the_answer_again_after_conversion_to_simplified():
    import opencc

    t2s = opencc.OpenCC("t2s")
    raw = "在歐洲，梵語的學術研究，由德國學者陸特和漢斯雷頓開創。後來威廉·瓊斯發現印歐語系。"
    qas = _qas("誰開創了歐洲對梵語的學術研究？", raw, "陸特和漢斯雷頓")
    p = TrainParams(negative_share=1.0, neighbour_share=0.0)
    got = _paragraph_examples(t2s.convert(raw), qas, t2s, random.Random(0), p)
    pos = [x for x in got if x.answer is not None]
    neg = [x for x in got if x.answer is None]
    assert len(pos) == 1 and pos[0].question == "谁开创了欧洲对梵语的学术研究？"
    assert pos[0].context[slice(*pos[0].answer)] == "陆特和汉斯雷顿" == pos[0].answers[0]
    # the hard negative is another sentence of the paragraph, one without the answer
    assert len(neg) == 1 and "陆特" not in neg[0].context and neg[0].context in t2s.convert(raw)


def test_an_answer_across_a_sentence_end_gives_no_example():
    import opencc

    t2s = opencc.OpenCC("t2s")
    raw = "第一句到此。第二句開始"
    qas = _qas("哪裡？", raw, "此。第二")
    assert _paragraph_examples(raw, qas, t2s, random.Random(0), TrainParams(negative_share=0.0)) == []


def test_keyword_form_drops_the_question_word_and_names_the_kind_of_answer():
    assert keyword_form("柏林围墙在哪一年时倒塌？") == "柏林围墙倒塌时间"
    assert keyword_form("《论自由》的作者是谁?") == "《论自由》的作者"
    assert keyword_form("首开集团建了多少个工会驿站") == "首开集团建了工会驿站数量"
    assert keyword_form("军海医院在哪里？") == "军海医院地点"
    # nothing to drop, or too little left: the question as written
    assert keyword_form("中华民国政府为甚么退守台湾?") == "中华民国政府为甚么退守台湾?"
    assert keyword_form("是谁?") == "是谁?"


def test_keyword_share_rewrites_questions_but_not_their_answers():
    import opencc

    t2s = opencc.OpenCC("t2s")
    raw = "柏林圍牆於1989年倒塌。東西德隨後統一。"
    qas = _qas("柏林圍牆在哪一年時倒塌？", raw, "1989年")
    context = t2s.convert(raw)
    for share, question in ((0.0, "柏林围墙在哪一年时倒塌？"), (1.0, "柏林围墙倒塌时间")):
        p = TrainParams(keyword_share=share, negative_share=0.0, neighbour_share=0.0)
        (ex,) = _paragraph_examples(context, qas, t2s, random.Random(0), p, random.Random(1))
        assert ex.question == question and ex.context[slice(*ex.answer)] == "1989年"


def test_decoding_takes_the_best_span_in_the_context_and_its_margin_over_no_answer():
    import torch

    # <s> q </s> c0 c1 c2 </s>: the context starts at token 3
    offsets = [(0, 0), (0, 0), (0, 0), (0, 2), (2, 5), (5, 7), (0, 0)]
    start = torch.tensor([1.0, 9.0, 0.0, 0.5, 3.0, 0.0, 9.0])  # the question token and </s> are never chosen
    end = torch.tensor([1.0, 0.0, 9.0, 0.0, 1.0, 2.5, 9.0])
    s, e, margin = best_span(start, end, offsets, first=3, max_answer_tokens=5)
    assert (s, e) == (2, 7) and margin == pytest.approx(3.0 + 2.5 - 2.0)
    # an end before the start, or a span longer than allowed, is not a span
    assert best_span(start, end, offsets, first=3, max_answer_tokens=1)[:2] == (2, 5)


def test_decoding_lists_every_span_best_first_for_a_caller_that_wants_one_of_a_kind():
    import torch

    offsets = [(0, 0), (0, 0), (0, 0), (0, 2), (2, 5), (5, 7), (0, 0)]
    start = torch.tensor([1.0, 9.0, 0.0, 0.5, 3.0, 0.0, 9.0])
    end = torch.tensor([1.0, 0.0, 9.0, 0.0, 1.0, 2.5, 9.0])
    spans = best_spans(start, end, offsets, first=3, max_answer_tokens=5)
    assert spans[0] == best_span(start, end, offsets, first=3, max_answer_tokens=5)
    margins = [m for _, _, m in spans]
    assert margins == sorted(margins, reverse=True) and len(spans) == 6  # every start <= end of 3 tokens
    assert {(s, e) for s, e, _ in spans} == {(0, 2), (0, 5), (0, 7), (2, 5), (2, 7), (5, 7)}


class _Reader:
    """Stands in for the trained reader (the function under test is the answer's assembly)."""

    def __init__(self, span: Span | None) -> None:
        self.span = span
        self.seen: list[str] = []

    def read(self, question, sentences, accept=None):
        self.seen = list(sentences)
        return self.span


class _RankedReader:
    """Stands in for the trained reader with spans it scores in a fixed order (the function
    under test is the composer's choice among them): ``read`` as the Protocol says, the best
    span ``accept`` takes, else the best of all, with the best margin kept."""

    def __init__(self, spans: list[Span]) -> None:
        self.spans = sorted(spans, key=lambda x: -x.margin)

    def read(self, question, sentences, accept=None):
        top = self.spans[0]
        taken = next((x for x in self.spans if accept is None or accept(x.sentence, x.start, x.end)), top)
        return taken if taken == top else Span(taken.sentence, taken.start, taken.end, taken.margin, best=top)


def _one_sentence(title: str, sentence: str) -> tuple[list[tuple[Hit, Quote]], Answer]:
    """An article of one sentence, cited whole, and the answer built from it."""
    chunk = Chunk(id="d#0", doc_id="d", title=title, text=sentence, char_start=0, char_end=len(sentence))
    used = [(Hit(chunk, 1.0, dense_score=0.9), Quote(sentence, 0, len(sentence)))]
    return used, build_answer(used, [h for h, _ in used])


def test_the_readers_best_span_of_the_kind_asked_answers_and_the_gate_reads_its_best_margin():
    sentence = "病情分析：六岁的孩子水痘一般要有一周多时间恢复的，注意不要受风了。"
    used, ans = _one_sentence("水痘", sentence)
    at = sentence.index
    # the reader likes an age best ("六岁的" is no duration), a duration next
    reader = _RankedReader([Span(0, at("六岁的"), at("六岁的") + 3, 8.4), Span(0, at("一周"), at("一周") + 5, 7.0)])
    got = with_short_answer("水痘多久能好", ans, used, reader)
    assert got.short == "一周多时间" and got.text.startswith("一周多时间[1]。")
    assert got.span_margin == 8.4  # what the answer gate reads is the reader's best span, as before
    off = with_short_answer("水痘多久能好", ans, used, reader, fitting=False)
    assert off.short_answer is None and off.span_margin == 8.4


def test_a_place_the_reader_likes_less_is_not_given_for_where():
    sentence = "首开书院获评“北京市公共区域职工之家”，职工之家在首开大厦10层和12层。"
    used, ans = _one_sentence("首开书院", sentence)
    at = sentence.index
    quoted, floors = at("北京市公共"), at("首开大厦10层")
    # a quoted name is no place; the floors the reader likes next are another thing's
    reader = _RankedReader([Span(0, quoted, quoted + 11, 6.0), Span(0, floors, floors + 11, 4.0)])
    got = with_short_answer("首开书院在哪里", ans, used, reader)
    assert got.short_answer is None and got.span_margin == 6.0


def _used() -> list[tuple[Hit, Quote]]:
    a, b = "首开集团工会服务职工。5年来，共建设167个工会驿站。", "东城区工会建了50个驿站。"
    ca = Chunk(id="a#0", doc_id="a", title="首开集团工会", text=a, char_start=0, char_end=len(a))
    cb = Chunk(id="b#0", doc_id="b", title="另一篇", text=b, char_start=0, char_end=len(b))
    return [(Hit(ca, 1.0, dense_score=0.9), Quote("5年来，共建设167个工会驿站。", 11, 27)),
            (Hit(cb, 0.5, dense_score=0.8), Quote("东城区工会建了50个驿站。", 0, 13))]


def test_the_readers_span_leads_the_answer_cited_to_its_own_sentence():
    used = _used()
    ans = build_answer(used, [h for h, _ in used])
    reader = _Reader(Span(sentence=1, start=7, end=10, margin=2.0))
    got = with_short_answer("东城区工会建了多少个驿站", ans, used, reader)
    span, n = got.short_answer
    assert reader.seen == [q.text for _, q in used]
    assert got.short == span.text == "50个" and got.text.startswith(f"50个[{n}]。")
    cited = next(c for c in got.citations if c.n == n)
    assert cited.chunk.doc_id == "b" and cited.chunk.text[span.start:span.end] == "50个"


def test_a_bare_number_the_reader_picks_for_a_count_gets_the_unit_written_after_it():
    used = _used()
    ans = build_answer(used, [h for h, _ in used])
    got = with_short_answer("首开集团建了多少个工会驿站", ans, used, _Reader(Span(sentence=0, start=7, end=10, margin=2.0)))
    span, n = got.short_answer
    assert got.short == "167个" and got.text.startswith(f"167个[{n}]。")
    assert next(c for c in got.citations if c.n == n).chunk.text[span.start:span.end] == "167个"
    # not a count question, or not a bare number: the reader's span as it is, but for the clause
    # that leads up to a count's figure (rag/span.py: figure_start)
    for question, (start, end), short in (("首开集团建了什么", (7, 10), "167"), ("首开集团建了多少个工会驿站", (7, 13), "167个工会"),
                                          ("首开集团建了多少个工会驿站", (4, 11), "167个")):
        got = with_short_answer(question, ans, used, _Reader(Span(0, start, end, 2.0)))
        assert got.short == short
    # "about ten" keeps its 余 and gains the unit after it
    sentence = "开展技能竞赛10余场，参赛职工2万余人次。"
    assert sentence[6:with_unit("密云区开展了多少场技能竞赛", sentence, 6, 9)] == "10余场"
    assert sentence[15:with_unit("参赛职工有多少", sentence, 15, 18)] == "2万余人次"
    # any classifier is a unit after the figure the reader picked
    sentence = "洛杉矶曾经有两支橄榄球队。"
    assert sentence[6:with_unit("洛杉矶曾经有多少支球队", sentence, 6, 7)] == "两支"
    # "4个" the reader stopped at, of "4个半月": the time after 个 is the unit
    sentence = "怀孕4个半月以后开始补钙，3个小时内完成。"
    assert sentence[2:with_unit("孕妇几个月开始补钙", sentence, 2, 4)] == "4个半月"
    assert sentence[13:with_unit("需要几个小时", sentence, 13, 15)] == "3个小时"
    assert sentence[13:with_unit("有几个人", sentence, 13, 15)] == "3个"


def test_a_count_the_reader_takes_from_the_clause_of_another_thing_is_the_named_things_figure():
    text = "据机场集团消息，目前苏南硕放国际机场已累计开通国内客运航线62条，国际航线5条。"
    chunk = Chunk(id="a#0", doc_id="a", title="苏南硕放国际机场", text=text, char_start=0, char_end=len(text))
    quote = Quote(text[8:], 8, len(text))
    used = [(Hit(chunk, 1.0, dense_score=0.9), quote)]
    ans = build_answer(used, [h for h, _ in used])
    s = quote.text.index("62条")
    got = with_short_answer("苏南硕放国际机场开通了多少条国际航线", ans, used, _Reader(Span(0, s, s + 3, 2.0)))
    span, n = got.short_answer
    assert got.short == "5条" and got.text.startswith(f"5条[{n}]。") and text[span.start:span.end] == "5条"


def test_a_list_question_is_answered_with_the_list_a_cited_sentence_names_as_the_kind_asked():
    # The seed article on 苏家坨镇: the reader took the campaign's quoted name from the first
    # sentence; the second names the units visited, "…等单位".
    first = "海淀区苏家坨镇总工会开展“情暖职工 冬送温暖”慰问活动。"
    second = "该镇总工会走访慰问了苏家坨镇水务管理服务中心、农业综合服务中心（农服）和北京金地丰源科技有限公司等单位的一线职工。"
    text = first + second
    chunk = Chunk(id="a#0", doc_id="a", title="苏家坨镇总工会", text=text, char_start=0, char_end=len(text))
    used = [(Hit(chunk, 1.0, dense_score=0.9), Quote(first, 0, len(first))),
            (Hit(chunk, 1.0, dense_score=0.9), Quote(second, len(first), len(text)))]
    ans = build_answer(used, [h for h, _ in used])
    s = first.index("“情暖")
    got = with_short_answer("苏家坨镇总工会慰问了哪些单位", ans, used, _Reader(Span(0, s, s + 11, 2.0)))
    span, n = got.short_answer
    want = "苏家坨镇水务管理服务中心、农业综合服务中心（农服）和北京金地丰源科技有限公司"
    assert got.short == want and got.text.startswith(f"{want}[{n}]。") and text[span.start:span.end] == want
    # the reader unsure of any span: the named list all the same
    assert with_short_answer("苏家坨镇总工会慰问了哪些单位", ans, used, _Reader(None)).short == want
    assert with_short_answer("苏家坨镇总工会慰问了哪些单位", ans, used, _Reader(Span(0, s, s + 11, -9.0))).short == want
    # a question that does not ask for several things keeps the reader's span
    got = with_short_answer("苏家坨镇总工会开展了什么活动", ans, used, _Reader(Span(0, s, s + 11, 2.0)))
    assert got.short == "“情暖职工 冬送温暖”"


def test_no_short_answer_when_the_reader_finds_none_or_the_question_asks_how():
    used = _used()
    ans = build_answer(used, [h for h, _ in used])
    assert with_short_answer("首开集团建了多少个工会驿站", ans, used, _Reader(None)) is ans
    reader = _Reader(Span(0, 7, 11, 3.0))
    assert with_short_answer("首开集团怎么建设工会驿站", ans, used, reader) is ans and reader.seen == []


def test_a_why_question_gets_the_reason_first_and_a_how_question_the_sentences_alone():
    text = "首开集团工会因为职工分散，建设了167个工会驿站。"
    chunk = Chunk(id="a#0", doc_id="a", title="首开集团工会", text=text, char_start=0, char_end=len(text))
    used = [(Hit(chunk, 1.0, dense_score=0.9), Quote(text, 0, len(text)))]
    ans = build_answer(used, [h for h, _ in used])
    because = (text.index("职工分散"), text.index("，"))
    got = with_short_answer("首开集团为什么建设工会驿站", ans, used, _Reader(Span(0, *because, 3.0)))
    assert got.short == "职工分散" and got.text.startswith("职工分散[1]。") and got.text.endswith(ans.text)
    # the same span offered for a how question, or with reasons off, or by the rules: none
    reader = _Reader(Span(0, *because, 3.0))
    assert with_short_answer("首开集团怎么建设工会驿站", ans, used, reader) is ans and reader.seen == []
    assert with_short_answer("首开集团为什么建设工会驿站", ans, used, reader, reasons=False) is ans
    assert with_short_answer("首开集团为什么建设工会驿站", ans, used, None) is ans


def test_the_shipped_weights_are_megabytes_and_their_record_says_how_they_were_made():
    weights = READER_DIR / "adapter.safetensors"
    assert weights.stat().st_size < 10 * 2**20
    rec = json.loads((READER_DIR / "reader.json").read_text(encoding="utf-8"))
    assert rec["command"].startswith("zhrag train-reader")
    assert rec["data"]["files"] == ["DRCD_dev.json", "DRCD_test.json"]
    assert 0.0 < rec["held_out"]["f1"] <= 1.0 and rec["history"]


@pytest.fixture(scope="module")
def reader(model_cache):
    from rag.e5_convert import ensure_model
    from rag.reader import E5SpanReader

    return E5SpanReader(ensure_model(model_cache / "models"))


@pytest.mark.slow
def test_the_trained_reader_reads_the_seed_articles_facts(reader):
    got = reader.read("首开集团建了多少个工会驿站", ["5年来，首开集团工会共建设14个市级职工之家，167个工会驿站。"])
    assert got is not None and got.sentence == 0
    assert "5年来，首开集团工会共建设14个市级职工之家，167个工会驿站。"[got.start:got.end] in ("167", "167个")


@pytest.mark.slow
def test_the_trained_reader_picks_the_sentence_that_holds_the_answer(reader):
    sentences = ["长春市总工会举办职工技能大赛，吸引了众多职工参加。", "本届大赛共设置145个竞赛项目，覆盖多个行业。"]
    got = reader.read("长春市总工会设置了多少个竞赛项目", sentences)
    assert got is not None and got.sentence == 1 and sentences[1][got.start:got.end] in ("145", "145个")


@pytest.mark.slow
def test_the_trained_reader_finds_the_reason_a_why_question_asks_for(reader):
    sentence = "不过由于伤病困扰，他在2014下半赛季并没有得到出场机会。"
    got = reader.read("赵鹏在2014年下半赛季没有出场的原因是什么", [sentence])
    assert got is not None and "伤病" in sentence[got.start:got.end]
    assert len(sentence[got.start:got.end]) < len(sentence) // 2


@pytest.mark.slow
def test_the_trained_reader_gives_a_duration_when_asked_for_one_it_does_not_like_best(reader):
    from rag.compose import _fitting

    sentence = "病情分析: 您好,六岁的孩子水痘一般要有一周多时间恢复的,注意不要受风了,食物方面要清淡的。"
    question = "水痘多久能好"
    got = reader.read(question, [sentence], _fitting(question, [sentence]))
    assert got is not None and "一周" in sentence[got.start:got.end] and "岁" not in sentence[got.start:got.end]
    best = reader.read(question, [sentence])
    assert got.best_margin == pytest.approx(best.margin) and got.margin <= best.margin


@pytest.mark.slow
def test_the_words_the_reader_likes_best_grown_to_hold_a_numeral_are_not_a_count(reader):
    """A page's infobox: asked 身高, the reader likes "巨蟹座" best and next "王婧[1]国籍 … 巨蟹座",
    which holds a numeral but is the refused words grown; the rules' figure answers."""
    used, ans = _one_sentence("王妍之", "人物评价中文名 王妍之别名 王婧[1]国籍 中国 民族 汉 星座 巨蟹座身高 170cm|出生地 山西临汾")
    got = with_short_answer("王妍之身高", ans, used, reader)
    assert got.short == "170cm"


@pytest.mark.slow
def test_the_adapter_folded_into_the_encoder_reads_as_the_adapter_does(reader, model_cache):
    """The shipped reader merges its LoRA pairs into the encoder at load (the plain encoder's
    cost); the same adapter kept apart gives the same spans and margins."""
    from rag.e5_convert import ensure_model
    from rag.reader import E5SpanReader

    apart = E5SpanReader(ensure_model(model_cache / "models"), merge=False)
    assert not any("lora_" in name for name, _ in reader.model.named_parameters())
    assert any("lora_" in name for name, _ in apart.model.named_parameters())
    for question, sentences in (("首开集团建了多少个工会驿站", ["5年来，首开集团工会共建设14个市级职工之家，167个工会驿站。"]),
                                ("赵鹏在2014年下半赛季没有出场的原因是什么", ["不过由于伤病困扰，他在2014下半赛季并没有得到出场机会。"])):
        a, b = reader.read(question, sentences), apart.read(question, sentences)
        assert a is not None and b is not None and (a.sentence, a.start, a.end) == (b.sentence, b.start, b.end)
        assert a.margin == pytest.approx(b.margin, abs=1e-3)


@pytest.mark.slow
def test_weights_that_do_not_fit_the_model_are_refused(tmp_path, model_cache):
    from safetensors.torch import load_file, save_file

    from rag.e5_convert import ensure_model
    from rag.reader import E5SpanReader

    state = load_file(str(READER_DIR / "adapter.safetensors"))
    save_file({k: v for k, v in state.items() if not k.startswith("head.")}, str(tmp_path / "adapter.safetensors"))
    (tmp_path / "reader.json").write_text((READER_DIR / "reader.json").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ValueError, match="do not fit"):
        E5SpanReader(ensure_model(model_cache / "models"), Path(tmp_path))


def test_a_how_many_question_gets_no_short_answer_without_a_numeral_in_it():
    used = _used()
    ans = build_answer(used, [h for h, _ in used])
    # "工会驿站" (sentence 0, 11..15) holds no figure: the sentence's own count answers instead,
    # and where the sentence holds none either, the answer is the cited sentences alone
    got = with_short_answer("首开集团建了多少个工会驿站", ans, used, _Reader(Span(sentence=0, start=11, end=15, margin=4.0)))
    assert got.short == "167个" and got.span_margin == 4.0
    (hit, _), words = used[0], Quote("首开集团工会服务职工。", 0, 11)
    bare = [(hit, words)]
    plain = build_answer(bare, [hit])
    got = with_short_answer("首开集团建了多少个工会驿站", plain, bare, _Reader(Span(sentence=0, start=0, end=4, margin=4.0)))
    assert got.short_answer is None and got.text == plain.text and got.span_margin == 4.0
    # the same words answer a question that is not a count
    got = with_short_answer("首开集团建了什么", ans, used, _Reader(Span(sentence=0, start=11, end=15, margin=4.0)))
    assert got.short == "工会驿站"


def _two_sentences(first: str, second: str) -> tuple[list, object]:
    text = first + second
    chunk = Chunk(id="d#0", doc_id="d", title="东城区总工会", text=text, char_start=0, char_end=len(text))
    used = [(Hit(chunk, 1.0, dense_score=0.9), Quote(first, 0, len(first))),
            (Hit(chunk, 1.0, dense_score=0.9), Quote(second, len(first), len(text)))]
    return used, build_answer(used, [h for h, _ in used])


def test_a_list_of_another_kind_gives_way_to_the_list_named_as_the_kind_asked():
    # The seed article on 东城区: the reader took the people to be sent on rest leave, a list,
    # from the sentence before the one naming the platforms ("…等职工学习成长平台").
    first = "2025年，东城区总工会将组织全区劳模工匠、高技能人才疗休养。"
    second = "持续推进产业工人队伍建设改革，健全完善工匠学院、技能学历“双助推”等职工学习成长平台。"
    used, ans = _two_sentences(first, second)
    s, e = first.index("全区"), first.index("疗休养")
    question = "东城区总工会2025年要健全哪些平台"
    assert with_short_answer(question, ans, used, _Reader(Span(0, s, e, 2.0))).short == "工匠学院、技能学历“双助推”"
    # a list of the kind asked stays as the reader found it
    assert with_short_answer("东城区总工会将组织哪些人疗休养", ans, used,
                             _Reader(Span(0, s, e, 2.0))).short == "全区劳模工匠、高技能人才"


def test_one_item_is_given_with_the_rest_of_its_list_from_another_cited_sentence():
    # The reader took "全区中心工作" from the sentence that names it alone; the other names it
    # with the second field asked for ("投向哪些领域": the second item names the kind).
    first = "2024年，东城区总工会围绕全区中心工作，发挥工会的作用。"
    second = "东城区总工会加大经费支持力度，经费支出主要面向全区中心工作和重大领域倾斜。"
    used, ans = _two_sentences(first, second)
    s = first.index("全区")
    got = with_short_answer("东城区总工会2024年经费支出面向哪些领域", ans, used, _Reader(Span(0, s, s + 6, 2.0)))
    span, _ = got.short_answer
    assert got.short == "全区中心工作和重大领域" and (first + second)[span.start:span.end] == "全区中心工作和重大领域"
