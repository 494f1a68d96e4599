import math

import pytest

from eval.metrics import (
    char_f1,
    citation_precision,
    contains_answer,
    dedupe,
    exact_match,
    hit_at_k,
    mean_scores,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    recall_at_k,
    supported_precision,
)


def test_ranking_metrics_by_hand():
    ranked = ["a", "b", "c", "d"]
    gold = {"c", "x"}
    assert hit_at_k(ranked, gold, 2) == 0.0 and hit_at_k(ranked, gold, 3) == 1.0
    assert recall_at_k(ranked, gold, 10) == 0.5
    assert mrr_at_k(ranked, gold, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(ranked, gold, 2) == 0.0
    # DCG = 1/log2(4); ideal for two relevant = 1 + 1/log2(3)
    assert ndcg_at_k(ranked, gold, 10) == pytest.approx((1 / math.log2(4)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["c"], {"c"}, 10) == 1.0


def test_dedupe_keeps_first_occurrence():
    assert dedupe(["d1", "d2", "d1", "d3", "d2"]) == ["d1", "d2", "d3"]


def test_answer_normalisation_and_scores():
    assert normalize_answer(" 光荣和ω-Force。") == "光荣和ωforce"
    assert exact_match("《光荣和ω-force》", ["光荣和ω-force"]) == 1.0
    assert exact_match("光荣", ["光荣和ω-force"]) == 0.0
    # prediction 4 chars "160厘米", gold "160-162" -> normalised "160162": common 1,6,0 = 3
    p, r = 3 / 5, 3 / 6
    assert char_f1("160厘米", ["160-162"]) == pytest.approx(2 * p * r / (p + r))
    assert char_f1("无关", ["160-162", "一百六"]) == 0.0
    assert contains_answer("身高是160-162厘米。", ["160-162"]) == 1.0


def test_citation_precision_and_means():
    assert citation_precision(["g", "x", "g"], {"g"}) == pytest.approx(2 / 3)
    assert citation_precision([], {"g"}) is None
    assert mean_scores([{"a": 1.0, "b": None}, {"a": 0.0, "b": 0.5}]) == {"a": 0.5, "b": 0.5}


def test_supported_precision_counts_quotes_that_state_the_answer():
    cited = [("g", "无关的句子。"), ("x", "爬行垫XPE材质的好。"), ("y", "爬行垫有很多种。")]
    # the gold page counts whatever it quotes; another page only when its quote holds the answer
    assert supported_precision(cited, {"g"}, [["XPE"]]) == pytest.approx(2 / 3)
    assert citation_precision([d for d, _ in cited], {"g"}) == pytest.approx(1 / 3)
    # grouped answers: every group must be in the quote
    assert supported_precision([("x", "2018年在北京")], set(), [["2018年"], ["上海"]]) == 0.0
    assert supported_precision([], {"g"}, [["XPE"]]) is None
