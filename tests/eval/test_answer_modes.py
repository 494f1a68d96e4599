"""Evaluation-set handling that needs no public data: answer modes and per-stage results."""

import json

import pytest

from eval.run import EvalConfig, run_eval
from rag.embedding import HashingEmbedder
from tests.conftest import hashing_settings


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
