"""Does the trained reranker (rag/rerank.py) sharpen the top of the fused ranking, and at
what cost? Measured, not assumed (eval/RESULTS.md, "A trained reranker").

Per question the fused ranking is retrieved once, at the evaluation's depth, and the
reranker's logits for its first ``MAX_TOP`` passages are stored with the time they took;
``summarise`` then replays the reordering for each number of passages reread and each
prior (rag.rerank.reorder, the product's own function) without reading again.

    python -m eval.rerank_probe results/sets/drcd-test-held --distractors ../shared/eval-data/news-distractors \\
        --n 477 --out results/rerank-drcd-held.json      # training data: the prior is chosen here
    python -m eval.rerank_probe ../shared/eval-data/dureader-robust-dev --n 800 --out results/rerank-dureader.json
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.data import load_corpus, load_queries
from eval.metrics import dedupe, hit_at_k, mrr_at_k
from rag.embedding import CachedEmbedder
from rag.pipeline import embedder_for
from rag.rerank import load_reranker, reorder
from rag.settings import Settings

log = logging.getLogger(__name__)

MAX_TOP = 8
TOPS = (3, 5, 8)
PRIORS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0)


def probe(set_dir: Path, *, distractors: Path | None, n: int | None, settings: Settings) -> list[dict[str, Any]]:
    from eval.run import EvalConfig, temporary_retriever
    from rag.e5_convert import ensure_model

    emb = CachedEmbedder(embedder_for(settings), settings.cache_dir / "embeddings")
    reranker = load_reranker(ensure_model(settings.cache_dir / "models"))
    if reranker is None:
        raise SystemExit("the probe needs the trained reranker (rag/reranker_model) and peft")
    queries = [q for q in load_queries(set_dir, sample=n) if q.gold]
    articles = load_corpus(set_dir, distractors=distractors, must_keep=frozenset(d for q in queries for d in q.gold))
    cfg = EvalConfig(set_dir)
    rows: list[dict[str, Any]] = []
    with temporary_retriever(articles, emb, settings, "zhrag-rerank-") as retriever:
        for q in tqdm(queries, desc=f"rerank {set_dir.name}", unit="q"):
            hits = retriever.search(q.question, cfg.retrieve_k)
            t = time.perf_counter()
            logits = reranker.scores(q.question, [h.chunk.embedding_text() for h in hits[:MAX_TOP]])
            rows.append({"qid": q.qid, "gold": sorted(q.gold), "docs": [h.chunk.doc_id for h in hits],
                         "fused": [h.score for h in hits], "logits": logits,
                         "seconds": time.perf_counter() - t})
    return rows


def ranked_docs(row: dict[str, Any], top: int, prior: float) -> list[str]:
    k = min(top, len(row["logits"]))
    order = reorder(row["logits"][:k], row["fused"][:k], prior) + list(range(k, len(row["docs"])))
    return dedupe(row["docs"][i] for i in order)


def summarise(rows: Sequence[dict[str, Any]], tops: Sequence[int] = TOPS,
              priors: Sequence[float] = PRIORS) -> dict[str, Any]:
    """MRR@10 and hit@1 for the fused ranking and each (passages reread, prior)."""
    def score(top: int, prior: float | None) -> tuple[float, float]:
        ranked = [dedupe(r["docs"]) if prior is None else ranked_docs(r, top, prior) for r in rows]
        return (float(np.mean([mrr_at_k(d, set(r["gold"]), 10) for d, r in zip(ranked, rows, strict=True)])),
                float(np.mean([hit_at_k(d, set(r["gold"]), 1) for d, r in zip(ranked, rows, strict=True)])))

    out: dict[str, Any] = {"n": len(rows), "fused": score(0, None),
                           "seconds_p50_for_8": float(np.median([r["seconds"] for r in rows]))}
    for top in tops:
        for prior in priors:
            out[f"top {top}, prior {prior}"] = score(top, prior)
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--distractors", type=Path)
    ap.add_argument("--n", type=int, help="a seeded sample of the questions (default: all)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--summarise", action="store_true", help="only summarise an existing --out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.summarise:
        rows = probe(args.set_dir, distractors=args.distractors, n=args.n, settings=Settings())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    summary = summarise(json.loads(args.out.read_text(encoding="utf-8")))
    log.info("%s", json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
