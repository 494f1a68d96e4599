"""A small end-to-end evaluation on a sample of a real public set (read in place)."""

import json

import pytest

from eval.data import DEFAULT_DATA, load_queries
from eval.run import EvalConfig, format_table, run_eval, write_result
from rag.embedding import HashingEmbedder
from tests.conftest import hashing_settings

DUREADER = DEFAULT_DATA / "dureader-robust-dev"
pytestmark = pytest.mark.skipif(not (DUREADER / "queries.jsonl").is_file(), reason="../shared/eval-data not present")


def test_sampling_is_seeded():
    a = [q.qid for q in load_queries(DUREADER, sample=15)]
    assert a == [q.qid for q in load_queries(DUREADER, sample=15)] and len(a) == 15


def test_small_eval_with_the_hashing_embedder(tmp_path):
    cfg = EvalConfig(set_dir=DUREADER, sample=12, max_docs=60, answers=5, unanswerable=6)
    result = run_eval(cfg, hashing_settings(tmp_path), embedder=HashingEmbedder(), use_cache=False)
    assert result["counts"]["queries"] == 12 and result["counts"]["articles"] == 60
    for mode in ("dense", "bm25", "hybrid"):
        m = result["retrieval"][mode]
        assert 0.0 <= m["hit@1"] <= m["hit@5"] <= 1.0
    # BM25 over words finds most gold passages among 60 web passages.
    assert result["retrieval"]["bm25"]["hit@5"] >= 0.5
    assert result["answers"]["n"] == 5
    write_result(result, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["set"] == "dureader-robust-dev"
    assert "| hybrid |" in format_table(result)
    assert result["refusal"]["n"] == 6 and sum(result["refusal"]["reasons"].values()) == 6
    assert "unanswerable" in format_table(result)


@pytest.mark.slow
def test_small_eval_with_the_real_model(tmp_path, e5):
    cfg = EvalConfig(set_dir=DUREADER, sample=30, max_docs=150, answers=10)
    result = run_eval(cfg, hashing_settings(tmp_path), embedder=e5, use_cache=False)
    r = result["retrieval"]
    # Dense retrieval with e5 is strong on DuReader; hybrid keeps it there.
    assert r["dense"]["hit@5"] >= 0.9 and r["hybrid"]["hit@5"] >= 0.9
    assert result["answers"]["citation_precision"] >= 0.5


def _write_set(d, queries):
    d.mkdir()
    (d / "corpus.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"doc_id": "d1", "title": "篮球赛", "text": "朝阳区工会举办篮球赛，三十支队伍参赛，冠军是电力队。"},
        {"doc_id": "d2", "title": "读书会", "text": "海淀区工会举办读书会，二百名职工参加。"}]), encoding="utf-8")
    (d / "queries.jsonl").write_text("\n".join(json.dumps(q, ensure_ascii=False) for q in queries), encoding="utf-8")


def test_unknown_answer_mode_is_refused_at_load_with_its_name(tmp_path):
    from eval.data import load_queries

    _write_set(tmp_path / "s", [{"qid": "1", "question": "谁赢了", "answers": ["电力队"], "gold_doc_ids": ["d1"],
                                 "answer_mode": "regex"}])
    with pytest.raises(ValueError, match="unknown answer_mode 'regex'"):
        load_queries(tmp_path / "s")


def test_grouped_answers_need_every_group_and_results_are_written_per_stage(tmp_path):
    _write_set(tmp_path / "s", [
        {"qid": "1", "question": "朝阳区篮球赛有多少队伍参赛，冠军是谁", "gold_doc_ids": ["d1"], "answer_mode": "all_groups",
         "answers": [["三十支", "30支"], ["电力队"]]},
        {"qid": "2", "question": "朝阳区篮球赛冠军是谁", "gold_doc_ids": ["d1"], "answer_mode": "all_groups",
         "answers": [["电力队"], ["足球"]]}])
    out = tmp_path / "r.json"
    cfg = EvalConfig(set_dir=tmp_path / "s", answers=2, modes=("bm25",))
    result = run_eval(cfg, hashing_settings(tmp_path), embedder=HashingEmbedder(), use_cache=False, out=out)
    assert {r["qid"] for r in result["per_query"]["answers"]} == {"1", "2"}
    saved = json.loads(out.read_text())
    assert saved["complete"] is True and "bm25" in saved["retrieval"]
    from eval.data import load_queries
    from eval.metrics import contains_all_groups, grouped_f1

    q1, q2 = load_queries(tmp_path / "s")
    text = "朝阳区工会举办篮球赛，三十支队伍参赛，冠军是电力队。"
    assert contains_all_groups(text, q1.answer_groups()) == 1.0
    assert contains_all_groups(text, q2.answer_groups()) == 0.0  # "足球" is not in it
    assert grouped_f1("电力队", q2.answer_groups()) == 0.5
