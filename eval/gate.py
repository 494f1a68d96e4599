"""Fitting and judging an answerability gate from ``zhrag eval`` results.

An evaluation run with ``--answers N --unanswerable N`` keeps, for every question, the
features an answerability gate can read from the retrieved passages alone
(``rag.compose.gate_features``, and the reader's margin on the composed answer), once with the gold article in the index (should answer)
and once without it (should refuse). Here a logistic model is fitted on the *training*
runs (DRCD, never a reported set), its threshold is chosen there as the strictest one
that keeps false refusals at or under a budget, and held-out runs are judged with it.

    zhrag gate-fit results/curve-drcd-dev.json --out rag/gate_model.json
    zhrag gate-report results/curve-dureader.json ... --model rag/gate_model.json
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.compose import PASSAGE_FEATURES, READ_FEATURES, AnswerGate, ComposeParams, read_features

FALSE_REFUSAL_BUDGET = 0.05

log = logging.getLogger(__name__)


def rows(result_path: Path, features: Sequence[str] = PASSAGE_FEATURES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels (1 = the gold article is indexed) and the refusals a learned gate keeps:
    the cosine floor and the composer's other reasons.

    The reader's features (:data:`READ_FEATURES`) need a run in which every question was
    read: one with ``ZHRAG_ANSWER_GATE=off`` (another gate's refusals were never read)."""
    r = json.loads(Path(result_path).read_text(encoding="utf-8"))
    pq = r["per_query"]
    items = [(q, 1) for q in pq.get("answers", [])] + [(q, 0) for q in pq.get("unanswerable", [])]
    if not items or "gate" not in items[0][0]:
        raise ValueError(f"{result_path} has no gate features: run zhrag eval with --answers and --unanswerable")
    gate_mode = r.get("config", {}).get("answer_gate")
    if set(READ_FEATURES) & set(features) and gate_mode != "off":
        raise ValueError(f"{result_path} was run with the {gate_mode} gate, whose refusals were never read: "
                         "run zhrag eval with ZHRAG_ANSWER_GATE=off")
    if set(READ_FEATURES) & set(features) and r.get("config", {}).get("name_check"):
        # With the name check on, the answer a run records may be a second one, composed from the
        # passages that name the question's names; the gate judges the first (rag/names.py).
        raise ValueError(f"{result_path} was run with the name check on, so its rows are not the answers "
                         "the gate judges: run zhrag eval with ZHRAG_ANSWER_GATE=off ZHRAG_NAME_CHECK=false")
    x = np.array([[(q["gate"] | read_features(q.get("span_margin")))[f] for f in features] for q, _ in items],
                 dtype=np.float64)
    y = np.array([label for _, label in items], dtype=np.float64)
    refused = np.array([bool(q["refused"]) for q, _ in items])
    p = ComposeParams()
    cos = np.array([q["gate"]["cos1"] for q, _ in items])
    if gate_mode == "off" or all("reason" in q for q, _ in items):
        # The gate's own refusals ("not_relevant" above the cosine floor) are the ones a new
        # gate replaces; the others (nothing names the question's focus...) stay.
        gated = np.array([q.get("reason") == "not_relevant" for q, _ in items])
        return x, y, (refused & ~gated) | (cos < p.refuse_below)
    # A run with the rule gate: a refusal the rule made is not one the learned gate would
    # make, so only the other refusals stay. The rule is read back from the features it uses
    # (rag/compose.py: is_answerable).
    cov = np.array([q["gate"]["cov_top"] for q, _ in items])
    by_rule = (cos < p.refuse_below) | ((cos < p.confident_above) & (cov < p.min_term_coverage))
    return x, y, (refused & ~by_rule) | (cos < p.refuse_below)


def fit(x: np.ndarray, y: np.ndarray, features: Sequence[str] = PASSAGE_FEATURES, *, l2: float = 1e-2,
        steps: int = 3000, lr: float = 0.5) -> AnswerGate:
    """Logistic regression on standardised features, by plain gradient descent (a few
    hundred rows, ten features: no library needed). Give it the rows the gate decides: not
    those refused for another reason first (:func:`rows`' ``refused``), which the composer
    never read, and which would teach it that a question not read is one to refuse."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = (x - mean) / std
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        g = p - y
        w -= lr * (z.T @ g / len(y) + l2 * w)
        b -= lr * float(g.mean())
    return AnswerGate(tuple(mean), tuple(std), tuple(w), b, 0.0, tuple(features))


def fit_decided(x: np.ndarray, y: np.ndarray, refused: np.ndarray, features: Sequence[str]) -> AnswerGate:
    """The gate fitted on the rows it decides (:func:`fit`), or on every row when those hold
    one class only (a run of a handful of questions)."""
    rows_ = ~refused if len(set(y[~refused].tolist())) == 2 else np.ones(len(y), bool)
    return fit(x[rows_], y[rows_], features)


def rates(gate: AnswerGate, x: np.ndarray, y: np.ndarray, refused: np.ndarray, t: float) -> dict[str, float]:
    score = np.array([gate.score_vector(v) for v in x])
    out = refused | (score < t)
    ans, una = y == 1, y == 0
    return {"threshold": t, "false_refusals": float(out[ans].mean()) if ans.any() else float("nan"),
            "refusal_when_unanswerable": float(out[una].mean()) if una.any() else float("nan")}


def _highest_within_budget(score: np.ndarray, y: np.ndarray, refused: np.ndarray, budget: float) -> float:
    """The highest threshold (in steps of 0.01) at which the answerable rows refused, by the
    gate's ``score`` or for another reason, stay within ``budget``."""
    best = 0.0
    for t in np.linspace(0.0, 0.99, 100):
        if (refused | (score < t))[y == 1].mean() <= budget:
            best = float(t)
    return round(best, 2)


def choose_threshold(gate: AnswerGate, x: np.ndarray, y: np.ndarray, refused: np.ndarray,
                     budget: float = FALSE_REFUSAL_BUDGET) -> AnswerGate:
    """The highest threshold whose false refusals on the training rows stay within budget."""
    score = np.array([gate.score_vector(v) for v in x])
    return replace(gate, threshold=_highest_within_budget(score, y, refused, budget))


def questions(result_path: Path) -> np.ndarray:
    """Each row's question id, in :func:`rows`' order: a question's answerable and unanswerable
    rows belong to one fold."""
    pq = json.loads(Path(result_path).read_text(encoding="utf-8"))["per_query"]
    return np.array([q["qid"] for part in ("answers", "unanswerable") for q in pq.get(part, [])])


def cross_validated_threshold(x: np.ndarray, y: np.ndarray, refused: np.ndarray, groups: np.ndarray,
                              features: Sequence[str], *, folds: int = 5, seed: int = 0,
                              budget: float = FALSE_REFUSAL_BUDGET) -> float:
    """The highest threshold whose false refusals stay within budget on questions the gate
    did not see: every row is scored by a gate fitted on the other folds (folds by question).
    Chosen on the fitted rows themselves, the threshold spends the budget on rows it has
    learnt, and questions it has not seen are refused more often than the budget allows."""
    ids = np.unique(groups)
    np.random.default_rng(seed).shuffle(ids)
    fold_of = {q: i % folds for i, q in enumerate(ids)}
    fold = np.array([fold_of[q] for q in groups])
    score = np.zeros(len(y))
    for k in range(folds):
        train = (fold != k) & ~refused
        if len(set(y[train].tolist())) < 2:  # a handful of questions: no folds to hold out
            log.warning("too few questions for %d folds: the threshold is chosen on the fitted rows", folds)
            return choose_threshold(fit_decided(x, y, refused, features), x, y, refused, budget).threshold
        gate = fit(x[train], y[train], features)
        score[fold == k] = [gate.score_vector(v) for v in x[fold == k]]
    return _highest_within_budget(score, y, refused, budget)


def curve(gate: AnswerGate, result_path: Path,
          thresholds: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)) -> list[dict[str, float]]:
    x, y, refused = rows(result_path, gate.features)
    return [rates(gate, x, y, refused, t) for t in sorted({*thresholds, gate.threshold})]
