"""Fitting and judging the learned fusion.

For every query of a set, the dense and BM25 candidate lists are retrieved once; the
MRR@10 of mixing them at each dense share on a grid is tabulated, with the query's fusion
features. Fitting searches the linear weights (features -> share) that maximise the mean
MRR over the *training* sets' tables; judging a model on a held-out set reads its table,
so the leave-one-set-out protocol costs no further retrieval.

    zhrag fusion-fit results/sets/drcd-dev results/sets/drcd-dev-stress --distractors ../shared/eval-data/news-distractors
    zhrag fusion-loso SET... --distractors ...      # fit on all but one, report on that one
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from eval.data import load_corpus, load_queries
from eval.metrics import dedupe, mrr_at_k
from rag.embedding import CachedEmbedder, Embedder
from rag.retrieve import FEATURES, FusionParams, LearnedShare, fusion_features, mix, zscores
from rag.settings import Settings

log = logging.getLogger(__name__)

GRID = np.round(np.linspace(0.0, 1.0, 21), 3)


@dataclass(frozen=True)
class Table:
    """One set: features (queries x features) and MRR@10 at each grid share (queries x grid)."""

    name: str
    x: np.ndarray
    mrr: np.ndarray

    def save(self, path: Path) -> None:
        np.savez_compressed(path, x=self.x, mrr=self.mrr, name=self.name, features=np.array(FEATURES))

    @staticmethod
    def load(path: Path) -> Table:
        d = np.load(path)
        if list(d["features"]) != list(FEATURES):
            raise ValueError(f"{path} holds other features; collect it again")
        return Table(str(d["name"]), d["x"], d["mrr"])


def collect(set_dir: Path, emb: Embedder, settings: Settings, *, distractors: Path | None = None,
            sample: int | None = None, candidates: int = 50) -> Table:
    from eval.run import temporary_retriever

    queries = load_queries(set_dir, sample=sample)
    gold = frozenset(d for q in queries for d in q.gold)
    articles = load_corpus(set_dir, distractors=distractors, must_keep=gold)
    xs, rows = [], []
    with temporary_retriever(articles, emb, settings, "zhrag-fusion-") as retriever:
        store = retriever.store  # both lists, unfused
        for q in tqdm(queries, desc=f"lists {set_dir.name}", unit="q", leave=False):
            qvec = emb.embed_queries([q.question])[0]
            with store.reading():
                dense = store.search_dense(qvec, candidates)
                lexical = store.search_lexical(q.question, candidates)
            if not dense or not lexical:
                continue
            xs.append(fusion_features(q.question, dense, lexical))
            z = zscores(dense), zscores(lexical)
            rows.append([mrr_at_k(dedupe(c.doc_id for c, _ in mix(dense, lexical, float(w), z)), set(q.gold), 10)
                         for w in GRID])
    if isinstance(emb, CachedEmbedder):
        emb.save()
    name = set_dir.name + ("+distractors" if distractors else "")
    return Table(name, np.array(xs), np.array(rows))


def _idx(share: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(share * (len(GRID) - 1)).astype(int), 0, len(GRID) - 1)


def score(model: LearnedShare, t: Table) -> float:
    share = np.clip(t.x @ np.array(model.weights), model.lo, model.hi)
    return float(t.mrr[np.arange(len(t.mrr)), _idx(share)].mean())


def adaptive_score(t: Table, p: FusionParams | None = None) -> float:
    p = p or FusionParams()
    conf, gap = t.x[:, FEATURES.index("confidence")], t.x[:, FEATURES.index("cover_gap")]
    share = np.clip(p.dense_share + p.gain * conf + p.cover_gain * gap, p.min_share, p.max_share)
    return float(t.mrr[np.arange(len(t.mrr)), _idx(share)].mean())


def fit(tables: list[Table], *, seed: int = 0, rounds: int = 8) -> LearnedShare:
    """Coordinate search over the linear weights, each training set weighted equally (so a
    big set does not drown a small one). MRR is a step function of the weights, so each
    coordinate is searched over a wide grid rather than by small steps, which stall on its
    plateaus; random restarts around the best so far."""
    rng = np.random.default_rng(seed)
    xs = [t.x for t in tables]
    ms = [t.mrr for t in tables]

    def objective(w: np.ndarray) -> float:
        return float(np.mean([m[np.arange(len(m)), _idx(np.clip(x @ w, 0, 1))].mean()
                              for x, m in zip(xs, ms, strict=True)]))

    deltas = np.concatenate([-np.geomspace(2.0, 0.01, 20), [0.0], np.geomspace(0.01, 2.0, 20)])
    start = np.zeros(len(FEATURES))
    start[0] = 0.7  # the adaptive fusion's base share: the search starts from today's behaviour
    best_w, best = start.copy(), objective(start)
    for r in range(rounds):
        w = best_w + (rng.normal(0, 0.2, len(FEATURES)) if r else 0)
        cur = objective(w)
        for _ in range(4):  # sweeps
            moved = False
            for j in range(len(FEATURES)):
                vals = []
                for d in deltas:
                    cand = w.copy()
                    cand[j] += d
                    vals.append(objective(cand))
                k = int(np.argmax(vals))
                if vals[k] > cur + 1e-9:
                    w[j] += deltas[k]
                    cur, moved = vals[k], True
            if not moved:
                break
        if cur > best:
            best_w, best = w.copy(), cur
    log.info("fitted on %s: mean MRR@10 %.4f", [t.name for t in tables], best)
    return LearnedShare(tuple(float(v) for v in best_w), 0.0, 1.0, tuple(t.name for t in tables))


ADAPTIVE_SHARES = tuple(float(v) for v in np.round(np.arange(0.3, 0.91, 0.05), 2))
ADAPTIVE_GAINS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
ADAPTIVE_CLAMPS = ((0.4, 0.9), (0.3, 0.9), (0.2, 1.0), (0.0, 1.0))
ADAPTIVE_COVER_GAINS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def fit_adaptive(tables: list[Table]) -> tuple[FusionParams, float]:
    """The adaptive fusion's base share, gains and clamp that maximise the mean MRR@10 over
    the training tables (each set weighted equally), by exhaustive search over a small grid:
    five numbers, not one per feature, so little to overfit to the training sets' style.
    Returns the parameters and their training score."""
    best: tuple[float, FusionParams] | None = None
    for share in ADAPTIVE_SHARES:
        for gain in ADAPTIVE_GAINS:
            for cover in ADAPTIVE_COVER_GAINS:
                for lo, hi in ADAPTIVE_CLAMPS:
                    p = FusionParams(dense_share=share, gain=gain, cover_gain=cover, min_share=min(lo, share),
                                     max_share=max(hi, share))
                    m = float(np.mean([adaptive_score(t, p) for t in tables]))
                    if best is None or m > best[0] + 1e-12:
                        best = (m, p)
    assert best is not None
    log.info("adaptive fitted on %s: mean MRR@10 %.4f with %s", [t.name for t in tables], best[0], best[1])
    return best[1], best[0]


def loso(tables: list[Table], train_only: list[Table]) -> list[dict[str, float | str]]:
    """For each table: fit on every other table (and the training-only ones), report on it."""
    out: list[dict[str, float | str]] = []
    for i, held in enumerate(tables):
        model = fit([t for j, t in enumerate(tables) if j != i] + train_only)
        out.append({"set": held.name, "n": len(held.mrr), "dense": float(held.mrr[:, -1].mean()),
                    "bm25": float(held.mrr[:, 0].mean()), "adaptive": adaptive_score(held),
                    "learned": score(model, held), "best fixed share": float(held.mrr.mean(0).max())})
    return out


def format_rows(rows: list[dict[str, float | str]]) -> str:
    lines = ["| held-out set | n | dense | BM25 | adaptive (today) | learned | better part - 0.005 met |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        floor = max(float(r["dense"]), float(r["bm25"])) - 0.005
        lines.append(f"| {r['set']} | {r['n']} | {float(r['dense']):.3f} | {float(r['bm25']):.3f} | "
                     f"{float(r['adaptive']):.3f} | {float(r['learned']):.3f} | "
                     f"{'yes' if float(r['learned']) >= floor else 'no'} |")
    return "\n".join(lines)


def write_json(obj, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
