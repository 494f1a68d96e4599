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
    # The gate and the name check off (the cosine floor only): every question is composed once, as
    # a gate's training run is.
    result = run_eval(cfg, hashing_settings(tmp_path, answer_gate="off", name_check=False), embedder=HashingEmbedder(),
                      use_cache=False)
    assert result["config"]["answer_gate"] == "off"
    # every fusion number the run used is on record, the cover gain too
    assert result["config"]["fusion_cover_gain"] == hashing_settings(tmp_path).fusion_cover_gain
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
    r = result["refusal"]
    assert r["n"] + r["left_out_answer_elsewhere"] == 6 and sum(r["reasons"].values()) == r["n"]
    assert "unanswerable" in format_table(result)
    # The refusal curve, and a gate fitted on the result and judged on it (the CLI's path).
    curve = result["refusal"]["curve"]
    assert [c["refuse_below"] for c in curve] == sorted(c["refuse_below"] for c in curve)
    assert all(0.0 <= c["false_refusals"] <= 1.0 for c in curve) and "refuse below cosine" in format_table(result)
    from rag.cli import main

    assert main(["gate-fit", str(tmp_path / "r.json"), "--out", str(tmp_path / "gate.json")]) == 0
    assert main(["gate-report", str(tmp_path / "r.json"), "--model", str(tmp_path / "gate.json")]) == 0
    assert json.loads((tmp_path / "gate.json").read_text())["fitted_on"] == ["r.json"]
    # A run made with the learned gate never read its refusals: both commands say so (exit 2, no traceback).
    learned = json.loads((tmp_path / "r.json").read_text())
    learned["config"]["answer_gate"] = "learned"
    (tmp_path / "learned.json").write_text(json.dumps(learned), encoding="utf-8")
    for command in (["gate-report", str(tmp_path / "learned.json"), "--model", str(tmp_path / "gate.json")],
                    ["gate-fit", str(tmp_path / "learned.json"), "--out", str(tmp_path / "g2.json")]):
        assert main(command) == 2


@pytest.mark.slow
def test_the_reranked_mode_is_scored_beside_hybrid_and_answers_use_it_when_settings_say(tmp_path, model_cache):
    settings = hashing_settings(tmp_path, rerank="e5", cache_dir=model_cache)
    cfg = EvalConfig(set_dir=DUREADER, sample=10, max_docs=50, answers=3, modes=("hybrid", "hybrid-rerank"))
    result = run_eval(cfg, settings, embedder=HashingEmbedder(), use_cache=False)
    for mode in ("hybrid", "hybrid-rerank"):
        m = result["retrieval"][mode]
        assert 0.0 <= m["hit@1"] <= m["hit@5"] <= 1.0 and len(result["per_query"]["retrieval"][mode]) == 10
    # the reranker reorders only the top 5: what lies below stays, so hit@10 cannot move
    assert result["retrieval"]["hybrid-rerank"]["recall@10"] == result["retrieval"]["hybrid"]["recall@10"]
    assert result["config"]["rerank"] == "e5" and result["answers"]["n"] == 3
    assert "| hybrid-rerank |" in format_table(result)


@pytest.mark.slow
def test_small_eval_with_the_real_model(tmp_path, e5):
    cfg = EvalConfig(set_dir=DUREADER, sample=30, max_docs=150, answers=10)
    result = run_eval(cfg, hashing_settings(tmp_path), embedder=e5, use_cache=False)
    r = result["retrieval"]
    # Dense retrieval with e5 is strong on DuReader; hybrid keeps it there.
    assert r["dense"]["hit@5"] >= 0.9 and r["hybrid"]["hit@5"] >= 0.9
    assert result["answers"]["citation_precision"] >= 0.5


@pytest.mark.slow
def test_eval_answers_with_the_configured_generator_and_says_which_path_answered(tmp_path, e5):
    """ZHRAG_GENERATOR reaches `zhrag eval`: a chat server that copies the first sentence of
    passage [1] (a faithful, if lazy, model) is scored, with its time per answer and how
    many answers were its own checked sentences. (The real embedder: the hashing one's
    cosines are below every answer gate.)"""
    import re

    from fastapi import FastAPI

    from rag.chunking import split_sentences
    from tests.conftest import LiveServer

    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(body: dict):
        first = re.search(r"\[1\][^\n]*\n<<<\n(.*?)\n>>>", body["messages"][-1]["content"], re.S).group(1)
        s, e = split_sentences(first)[0]
        return {"choices": [{"index": 0, "message": {"role": "assistant", "content": first[s:e] + "[1]"}}]}

    with LiveServer(app) as up:
        settings = hashing_settings(tmp_path, generator="openai", llm_base_url=up.url + "/v1", llm_model="copier")
        cfg = EvalConfig(set_dir=DUREADER, sample=8, max_docs=40, answers=8, modes=("hybrid",))
        result = run_eval(cfg, settings, embedder=e5, use_cache=False)
    a = result["answers"]
    assert a["n"] == 8 and a["seconds"] > 0 and sum(a["paths"].values()) == 8 - round(8 * a["refused"])
    assert a["paths"].get("model", 0) >= 1  # some answers are the model's own, checked and cited
    assert result["config"]["generator"] == "openai" and "| openai | 8 |" in format_table(result)
    assert "answers from: " in format_table(result)
