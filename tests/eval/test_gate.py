"""The learned answerability gate: fitted on eval results, saved, loaded, and used by the composer."""

from __future__ import annotations

import numpy as np
import pytest

from eval.gate import (
    FALSE_REFUSAL_BUDGET,
    choose_threshold,
    cross_validated_threshold,
    fit,
    fit_decided,
    rates,
)
from rag.compose import (
    GATE_FEATURES,
    PASSAGE_FEATURES,
    REFUSAL,
    AnswerGate,
    ComposeParams,
    gate_features,
    is_answerable,
)
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


def test_a_threshold_chosen_on_held_out_folds_keeps_more_of_the_budget_on_new_questions():
    """Chosen on the rows the gate was fitted on, the threshold spends the budget on questions
    it has learnt; chosen on folds it did not see, it refuses fewer new answerable questions."""
    names = [f"f{i}" for i in range(8)]
    for seed in range(5):
        x, y = rows(120, seed=seed)
        refused, groups = np.zeros(len(y), bool), np.arange(len(y)) // 2
        gate = fit(x, y, names)
        in_sample = choose_threshold(gate, x, y, refused).threshold
        held_out = cross_validated_threshold(x, y, refused, groups, names)
        xt, yt = rows(4000, seed=100 + seed)  # new questions
        new = np.zeros(len(yt), bool)
        assert held_out <= in_sample
        assert (rates(gate, xt, yt, new, held_out)["false_refusals"]
                <= rates(gate, xt, yt, new, in_sample)["false_refusals"])


def test_the_gate_is_not_fitted_on_questions_refused_before_it_reads():
    """Questions refused for another reason (a name no article names) are never read and are
    nearly all unanswerable; fitted on them, the gate learnt that a question not read (how
    questions) is one to refuse (nineteenth session)."""
    rng = np.random.default_rng(7)
    n = 600
    y = (np.arange(n) % 2).astype(float)
    signal = y + rng.normal(0, 0.7, n)
    not_read = (rng.uniform(size=n) < 0.15).astype(float)  # how questions, answerable or not alike
    refused = np.zeros(n, bool)
    refused[:120] = True
    y[:120], not_read[:120] = 0.0, 1.0  # refused before reading: unanswerable, not read
    x = np.column_stack([signal, not_read])
    names = ("cov_best", "not_read")
    assert fit(x, y, names).weights[1] < -0.3
    assert abs(fit_decided(x, y, refused, names).weights[1]) < 0.15


def test_the_composer_refuses_what_the_gate_scores_low(seed_articles):
    a = seed_articles[0]
    q = "首开集团在建设职工服务阵地方面做了哪些工作"
    close = [hit(a.text[:300], 0.87)]
    far = [hit("天气晴朗，气温回升，市民出门踏青赏花，公园游客明显增加。" * 3, 0.87)]
    f_close, f_far = gate_features(q, close), gate_features(q, far)
    assert f_close["cov_best"] > f_far["cov_best"] and set(f_close) == set(PASSAGE_FEATURES)
    weights = tuple(1.0 if k == "cov_best" else 0.0 for k in PASSAGE_FEATURES)
    gate = AnswerGate(tuple(0.0 for _ in PASSAGE_FEATURES), tuple(1.0 for _ in PASSAGE_FEATURES), weights, -0.3, 0.5)
    p = ComposeParams(gate=gate)
    assert is_answerable(q, close, p) and not is_answerable(q, far, p)
    assert not is_answerable(q, [hit(a.text[:300], 0.70)], p), "the cosine floor still holds"


def test_a_gate_fitted_on_other_features_is_refused(tmp_path):
    (tmp_path / "g.json").write_text('{"features": ["cos1"], "mean": [0], "std": [1], "weights": [1], "bias": 0, '
                                     '"threshold": 0.5}')
    with pytest.raises(ValueError, match="fit it again"):
        AnswerGate.load(tmp_path / "g.json")


class _MarginReader:
    """Stands in for the trained span reader (the function under test is the gate): finds
    ``word`` where it stands and reports ``margin`` for it."""

    def __init__(self, word: str, margin: float) -> None:
        self.word, self.margin = word, margin

    def read(self, question, sentences, accept=None):
        from rag.reader import Span

        for k, s in enumerate(sentences):
            if self.word in s:
                return Span(k, s.index(self.word), s.index(self.word) + len(self.word), self.margin)
        return Span(0, 0, 1, -self.margin)


def _reading_gate(threshold: float = 0.5) -> AnswerGate:
    """Weights only on the reader's margin: answer when it is over 0."""
    weights = tuple(1.0 if k == "read_margin" else 0.0 for k in GATE_FEATURES)
    return AnswerGate(tuple(0.0 for _ in GATE_FEATURES), tuple(1.0 for _ in GATE_FEATURES), weights, 0.0,
                      threshold, GATE_FEATURES)


def test_a_gate_that_reads_refuses_passages_that_hold_no_answer_and_is_saved_with_its_features(tmp_path,
                                                                                             hashing_engine):
    from rag.compose import ExtractiveComposer

    gate = _reading_gate()
    assert gate.reads and not AnswerGate((0.0,) * 10, (1.0,) * 10, (0.0,) * 10, 0.0, 0.5).reads
    gate.save(tmp_path / "g.json")
    assert AnswerGate.load(tmp_path / "g.json") == gate
    text = "首开集团工会共建设167个工会驿站。工会驿站为职工提供休息场所。"
    hits = [Hit(Chunk("a#0", "a", "首开集团工会", text, 0, len(text)), 1.0, 0.9, 5.0)]
    p = ComposeParams(gate=gate)
    assert is_answerable("首开集团建了多少个工会驿站", hits, p), "before reading only the cosine floor applies"
    found = ExtractiveComposer(hashing_engine.embedder, p, reader=_MarginReader("167个", 6.0)).compose(
        "首开集团建了多少个工会驿站", hits)
    assert not found.refused and found.short == "167个" and found.span_margin == 6.0
    # The same passage read for a question it shares words with but does not answer. (Not a
    # date or a count: those the composer refuses itself when nothing of the kind is read,
    # ComposeParams.typed_missing.)
    missed = ExtractiveComposer(hashing_engine.embedder, p, reader=_MarginReader("年", 6.0)).compose(
        "首开集团的工会驿站由谁设计", hits)
    assert missed.refused and missed.refusal_reason == "not_relevant" and missed.span_margin == -6.0
    assert not missed.citations and missed.text == REFUSAL


def test_reading_features_come_only_from_runs_where_every_question_was_read(tmp_path):
    import json

    from eval.gate import rows

    row = {"refused": 0.0, "reason": None, "span_margin": 2.5, "gate": dict.fromkeys(PASSAGE_FEATURES, 0.9)}
    un = {"refused": 1.0, "reason": "not_relevant", "span_margin": None, "gate": dict.fromkeys(PASSAGE_FEATURES, 0.9)}
    for mode in ("off", "learned"):
        (tmp_path / f"{mode}.json").write_text(json.dumps({"config": {"answer_gate": mode},
                                                           "per_query": {"answers": [row], "unanswerable": [un]}}))
    x, y, refused = rows(tmp_path / "off.json", GATE_FEATURES)
    assert x[:, GATE_FEATURES.index("read_margin")].tolist() == [2.5, 0.0]
    assert x[:, GATE_FEATURES.index("not_read")].tolist() == [0.0, 1.0]
    assert y.tolist() == [1.0, 0.0] and refused.tolist() == [False, False], "the old gate's refusal is not kept"
    assert rows(tmp_path / "learned.json")[0].shape == (2, len(PASSAGE_FEATURES))
    with pytest.raises(ValueError, match="ZHRAG_ANSWER_GATE=off"):
        rows(tmp_path / "learned.json", GATE_FEATURES)
    # with the name check on, a run records the answer composed again from the passages that
    # name the question's names, not the one the gate judges
    (tmp_path / "named.json").write_text(json.dumps({"config": {"answer_gate": "off", "name_check": True},
                                                     "per_query": {"answers": [row], "unanswerable": [un]}}))
    with pytest.raises(ValueError, match="ZHRAG_NAME_CHECK=false"):
        rows(tmp_path / "named.json", GATE_FEATURES)
    assert rows(tmp_path / "named.json")[0].shape == (2, len(PASSAGE_FEATURES)), "the passages alone may be read"


def test_without_a_reader_a_gate_that_reads_lets_the_passages_decide(seed_articles, hashing_engine):
    """ZHRAG_SHORT_ANSWERS=rules: the reader's features count as their training mean."""
    from rag.compose import ExtractiveComposer

    a = seed_articles[0]
    q = "首开集团在建设职工服务阵地方面做了哪些工作"
    close = [hit(a.text[:300], 0.87)]
    far = [hit("天气晴朗，气温回升，市民出门踏青赏花，公园游客明显增加。" * 3, 0.87)]
    weights = tuple({"cov_best": 1.0, "read_margin": 5.0, "not_read": -5.0}.get(k, 0.0) for k in GATE_FEATURES)
    mean = tuple({"read_margin": 4.0, "not_read": 0.1}.get(k, 0.0) for k in GATE_FEATURES)
    gate = AnswerGate(mean, tuple(1.0 for _ in GATE_FEATURES), weights, -0.3, 0.5, GATE_FEATURES)
    p = ComposeParams(gate=gate)
    assert is_answerable(q, close, p, reader=False) and not is_answerable(q, far, p, reader=False)
    composer = ExtractiveComposer(hashing_engine.embedder, p)  # no reader
    assert not composer.compose(q, close).refused
    assert composer.compose(q, far).refusal_reason == "not_relevant"
