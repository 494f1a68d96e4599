"""Two questions about the span reader, answered by measurement, not by a change to the
product (eval/RESULTS.md, "What the reader cannot do yet"):

1. **As a reranker.** Does the reader's margin (its best span over "no answer here") on
   each of the fused top-K passages rank the gold article higher than fusion alone? The
   reader is a cross-encoder over question and passage, the only one the project has.
2. **Reading more.** Would short answers be better if the reader read more than the
   sentences the composer cites: every sentence of the cited passages, or each cited
   passage whole?

For every question the answer is composed as the product composes it; the reader's spans
and margins for each variant are stored per question, so weights and floors are compared
offline (``summarise``) without reading again.

    zhrag eval-set drcd-reader-heldout ../shared/train-data/drcd/DRCD_test.json results/sets/drcd-test-held
    python -m eval.reader_probe results/sets/drcd-test-held --distractors ../shared/eval-data/news-distractors \
        --n 477 --out results/probe-drcd-held.json
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.data import load_corpus, load_queries
from eval.metrics import dedupe, grouped_f1, hit_at_k, mrr_at_k
from rag.chunking import split_sentences
from rag.compose import ExtractiveComposer
from rag.embedding import CachedEmbedder
from rag.pipeline import compose_params, embedder_for, make_reader
from rag.reader import E5SpanReader, ReaderParams
from rag.settings import Settings

log = logging.getLogger(__name__)

RERANK_K = 8  # fused passages the reader reads as a reranker


def _read(reader: E5SpanReader, question: str, text: str) -> tuple[str, float]:
    span = reader.read(question, [text])
    return (text[span.start:span.end], span.margin) if span else ("", float("-inf"))


def probe(set_dir: Path, *, distractors: Path | None, n: int, settings: Settings) -> list[dict[str, Any]]:
    emb = CachedEmbedder(embedder_for(settings), settings.cache_dir / "embeddings")
    reader = make_reader(settings.model_copy(update={"short_answers": "reader"}))
    if not isinstance(reader, E5SpanReader):
        raise SystemExit("the probe needs the trained reader (rag/reader_model) and peft")
    composer = ExtractiveComposer(emb, compose_params(settings), reader=reader)
    # Passages are up to 300 characters (ChunkParams); the composer's reader reads sentences.
    whole = copy.copy(reader)
    whole.params = ReaderParams(max_context_tokens=352)
    queries = [q for q in load_queries(set_dir) if q.gold][:n]
    gold_docs = frozenset(d for q in queries for d in q.gold)
    articles = load_corpus(set_dir, distractors=distractors, must_keep=gold_docs, seed=13)
    from eval.run import EvalConfig, temporary_retriever

    cfg = EvalConfig(set_dir)  # retrieve and compose with the evaluation's own depths

    rows: list[dict[str, Any]] = []
    with temporary_retriever(articles, emb, settings, "zhrag-probe-") as retriever:
        for q in tqdm(queries, desc=f"probe {set_dir.name}", unit="q"):
            groups = q.answer_groups()
            hits = retriever.search(q.question, cfg.retrieve_k)
            t = time.perf_counter()
            margins = [_read(whole, q.question, h.chunk.embedding_text())[1] for h in hits[:RERANK_K]]
            rerank_seconds = time.perf_counter() - t
            ans = composer.compose(q.question, hits[:cfg.top_k])
            row: dict[str, Any] = {
                "qid": q.qid, "gold": list(q.gold), "docs": [h.chunk.doc_id for h in hits],
                "fused": [h.score for h in hits], "rerank_margins": margins, "rerank_seconds": rerank_seconds,
                "refused": ans.refused, "short": ans.short, "f1": grouped_f1(ans.short, groups) if not ans.refused else 0.0,
            }
            if not ans.refused:
                cited = {(c.chunk.id, quote.start) for c in ans.citations for quote in c.quotes}
                sentences: list[dict[str, Any]] = []
                seen: set[str] = set()
                for c in (c.chunk for c in ans.citations):
                    for a, b in split_sentences(c.text):
                        if c.text[a:b] not in seen:
                            seen.add(c.text[a:b])
                            sentences.append({"doc": c.doc_id, "cited": (c.id, c.char_start + a) in cited,
                                              "text": c.text[a:b]})
                for s in sentences:
                    span, s["margin"] = _read(reader, q.question, str(s.pop("text")))
                    s["f1"] = grouped_f1(span, groups)
                row["sentences"] = sentences
                row["passages"] = []
                for c in (c.chunk for c in ans.citations):
                    span, m = _read(whole, q.question, c.text)
                    row["passages"].append({"doc": c.doc_id, "margin": m, "f1": grouped_f1(span, groups)})
                row["cited_docs"] = [c.chunk.doc_id for c in ans.citations]
            rows.append(row)
    return rows


def _reranked(row: dict[str, Any], weight: float) -> list[str]:
    """Fused score plus ``weight`` x the reader's margin (clipped) on the first RERANK_K passages."""
    k = len(row["rerank_margins"])
    score = np.array(row["fused"][:k]) + weight * np.clip(row["rerank_margins"], -15, 15)
    order = list(np.argsort(-score, kind="stable")) + list(range(k, len(row["docs"])))
    return dedupe(row["docs"][i] for i in order)


def _best_f1(row: dict[str, Any], items: Sequence[dict[str, Any]]) -> float:
    return max(items, key=lambda x: x["margin"])["f1"] if items else row["f1"]


def summarise(rows: Sequence[dict[str, Any]], weights: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.2, 0.4)) -> dict[str, Any]:
    """MRR@10 and hit@1 reranked at each weight; short-answer F1 per reading scope (a refusal
    scores 0; the best span by margin, whatever its margin)."""
    out: dict[str, Any] = {"n": len(rows),
                           "rerank_seconds_p50": float(np.median([r["rerank_seconds"] for r in rows]))}
    for w in weights:
        ranked = [_reranked(r, w) for r in rows]
        out[f"mrr@10 w={w}"] = float(np.mean([mrr_at_k(d, set(r["gold"]), 10) for d, r in zip(ranked, rows, strict=True)]))
        out[f"hit@1 w={w}"] = float(np.mean([hit_at_k(d, set(r["gold"]), 1) for d, r in zip(ranked, rows, strict=True)]))
    scopes = {
        "composed (today)": lambda r: r["f1"],
        "cited sentences": lambda r: _best_f1(r, [s for s in r["sentences"] if s["cited"]]),
        "every sentence of the cited passages": lambda r: _best_f1(r, r["sentences"]),
        "cited passages whole": lambda r: _best_f1(r, r["passages"]),
        "first cited article's passages whole": lambda r: _best_f1(r, [p for p in r["passages"]
                                                                         if p["doc"] == r["cited_docs"][0]]),
        "oracle: best sentence of the cited passages": lambda r: max((s["f1"] for s in r["sentences"]), default=0.0),
    }
    for name, f in scopes.items():
        out[f"F1 {name}"] = float(np.mean([0.0 if r["refused"] else f(r) for r in rows]))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--distractors", type=Path)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--summarise", action="store_true", help="only summarise an existing --out")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.summarise:
        rows = probe(args.set_dir, distractors=args.distractors, n=args.n, settings=Settings())
        args.out.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    summary = summarise(json.loads(args.out.read_text(encoding="utf-8")))
    log.info("%s", json.dumps(summary, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
