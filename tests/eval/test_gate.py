"""The learned answerability gate: fitted on eval results, saved, loaded, and used by the composer."""

from __future__ import annotations

import numpy as np
import pytest

from eval.gate import FALSE_REFUSAL_BUDGET, choose_threshold, fit, rates
from rag.compose import GATE_FEATURES, AnswerGate, ComposeParams, gate_features, is_answerable
from rag.types import Chunk, Hit


def hit(text: str, cos: float, bm25: float = 5.0) -> Hit:
    return Hit(Chunk(f"c{hash(text) & 0xffff}", "d", "题", text, 0, len(text)), 0.1, cos, bm25)


def rows(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Answerable questions whose passages hold their words, unanswerable ones whose do not."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % 2).astype(float)
    x = np.column_stack([0.86 + 0.03 * y + rng.normal(0, 0.02, n), rng.normal(0.85, 0.02, n), rng.normal(0.02, 0.01, n),
                         0.4 + 0.4 * y + rng.normal(0, 0.1, n), 0.5 + 0.4 * y + rng.normal(0, 0.1, n),
                         rng.uniform(0, 1, n), rng.normal(2.5, 0.3, n), rng.normal(2.0, 0.2, n)])
    return x, y


def test_fit_separates_and_the_threshold_keeps_the_false_refusal_budget(tmp_path):
    x, y = rows(400)
    refused = np.zeros(len(y), bool)
    gate = choose_threshold(fit(x, y), x, y, refused)
    r = rates(gate, x, y, refused, gate.threshold)
    assert r["false_refusals"] <= FALSE_REFUSAL_BUDGET and r["refusal_when_unanswerable"] >= 0.8
    gate.save(tmp_path / "g.json", fitted_on=["synthetic"])
    assert AnswerGate.load(tmp_path / "g.json") == gate
    xt, yt = rows(400, seed=4)  # held out
    assert rates(gate, xt, yt, refused, gate.threshold)["refusal_when_unanswerable"] >= 0.7


def test_the_composer_refuses_what_the_gate_scores_low(seed_articles):
    a = seed_articles[0]
    q = "首开集团在建设职工服务阵地方面做了哪些工作"
    close = [hit(a.text[:300], 0.87)]
    far = [hit("天气晴朗，气温回升，市民出门踏青赏花，公园游客明显增加。" * 3, 0.87)]
    f_close, f_far = gate_features(q, close), gate_features(q, far)
    assert f_close["cov_best"] > f_far["cov_best"] and set(f_close) == set(GATE_FEATURES)
    weights = tuple(1.0 if k == "cov_best" else 0.0 for k in GATE_FEATURES)
    gate = AnswerGate(tuple(0.0 for _ in GATE_FEATURES), tuple(1.0 for _ in GATE_FEATURES), weights, -0.3, 0.5)
    p = ComposeParams(gate=gate)
    assert is_answerable(q, close, p) and not is_answerable(q, far, p)
    assert not is_answerable(q, [hit(a.text[:300], 0.70)], p), "the cosine floor still holds"


def test_a_gate_fitted_on_other_features_is_refused(tmp_path):
    (tmp_path / "g.json").write_text('{"features": ["cos1"], "mean": [0], "std": [1], "weights": [1], "bias": 0, '
                                     '"threshold": 0.5}')
    with pytest.raises(ValueError, match="fit it again"):
        AnswerGate.load(tmp_path / "g.json")
