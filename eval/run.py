"""Run an evaluation: build an index with the project's own code, score retrieval per
mode and cited answers, write a JSON result and a readable table.

    zhrag eval ../shared/eval-data/dureader-robust-dev
    zhrag eval ../shared/eval-data/cmrc2018-dev --distractors ../shared/eval-data/news-distractors
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.data import Query, load_corpus, load_queries
from eval.metrics import (
    citation_precision,
    contains_all_groups,
    dedupe,
    exact_match,
    grouped_f1,
    mean_scores,
    retrieval_scores,
    supported_precision,
)
from index.sqlite import MAX_TERM_SHARE
from index.store import Store
from rag.chunking import ChunkParams
from rag.compose import AnswerGenerator, gate_features
from rag.embedding import CachedEmbedder, Embedder
from rag.indexing import Indexer
from rag.lexical import analyzer
from rag.pipeline import build_store as build_new_store
from rag.pipeline import chunk_params, embedder_for, make_generator, with_store_answers
from rag.rerank import Reranker
from rag.retrieve import HybridRetriever
from rag.settings import Settings

log = logging.getLogger(__name__)

MODES = ("dense", "bm25", "hybrid", "hybrid-rrf", "hybrid-learned", "hybrid-rerank")


def retriever_for(base: HybridRetriever, mode: str, settings: Settings | None = None) -> HybridRetriever:
    """Eval modes: the three retrieval modes, plus hybrid with plain RRF, the learned fusion and
    the trained reranker for comparison."""
    if mode == "hybrid-rrf":
        return base.with_mode("hybrid").with_params(method="rrf", dense_share=0.5)
    if mode == "hybrid-learned":
        from rag.retrieve import LearnedShare

        return base.with_mode("hybrid").with_params(
            method="learned", model=LearnedShare.load(Settings.model_fields["fusion_model"].default))
    if mode == "hybrid-rerank":
        from rag.rerank import RerankingRetriever

        reranker = _trained_reranker((settings or Settings()).cache_dir / "models")
        if reranker is None:
            raise ValueError("mode hybrid-rerank needs the trained reranker (rag/reranker_model)")
        return RerankingRetriever(base.with_mode("hybrid"), reranker)  # type: ignore[return-value]
    return base.with_mode(mode)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def _trained_reranker(models_dir: Path) -> Reranker | None:
    """Loaded once per process: the reranked mode, the answers and the refusal runs of one
    evaluation share it."""
    from rag.e5_convert import ensure_model
    from rag.rerank import load_reranker

    return load_reranker(ensure_model(models_dir))


def answering_retriever(base: HybridRetriever, settings: Settings) -> HybridRetriever:
    """What answers are composed from: the fused ranking, reranked when ``ZHRAG_RERANK`` says so (as served)."""
    return base if settings.rerank == "off" else retriever_for(base, "hybrid-rerank", settings)


@dataclass(frozen=True)
class EvalConfig:
    set_dir: Path
    distractors: Path | None = None
    n_distractors: int | None = None
    sample: int | None = None
    max_docs: int | None = None
    answers: int = 200  # queries whose full cited answer is composed and scored (slower)
    # Queries asked again of an index without their gold articles: the answer should be a refusal.
    unanswerable: int = 0
    # Every mode but the reranked one, which loads a second model (ask for it by name).
    modes: tuple[str, ...] = tuple(m for m in MODES if m != "hybrid-rerank")
    retrieve_k: int = 30  # chunks retrieved; deduplicated to a document ranking
    top_k: int = 5  # passages handed to the composer
    seed: int = 13
    backend: str = "sqlite"  # or milvus-lite: the same evaluation on the Milvus backend


def build_store(articles, embedder: Embedder, params: ChunkParams, directory: Path, *,
                batch: int = 400, max_term_share: float = MAX_TERM_SHARE, backend: str = "sqlite") -> Store:
    """Index in batches (into a fresh store in ``directory``) so the embedding cache is saved
    as it grows and progress is visible."""

    def fill(store: Store) -> None:
        indexer = Indexer(store, embedder, params)
        bar = tqdm(total=len(articles), desc="indexing articles", unit="doc", leave=False)
        for i in range(0, len(articles), batch):
            part = articles[i:i + batch]
            indexer.add_articles(part)
            if isinstance(embedder, CachedEmbedder):
                embedder.save()
            bar.update(len(part))
        bar.close()

    if backend == "milvus-lite":  # the Milvus backend, embedded, in a fresh file
        from index.milvus import MilvusStore

        store = MilvusStore.open(f"milvus-lite://{directory / 'milvus.db'}", analyzer(), model=embedder.name,
                                 dim=embedder.dim)
        fill(store)
        return store
    return build_new_store(directory, embedder, params, fill=fill, max_term_share=max_term_share)


@contextmanager
def temporary_retriever(articles, emb: Embedder, settings: Settings, prefix: str) -> Iterator[HybridRetriever]:
    """The fused retriever over a fresh store of ``articles`` in a temporary folder (removed
    afterwards): how the evaluation and its probes search a corpus."""
    with tempfile.TemporaryDirectory(prefix=prefix) as d:
        store = build_store(articles, emb, chunk_params(settings), Path(d), max_term_share=settings.max_term_share)
        try:
            yield HybridRetriever(store, emb, settings.fusion_params())
        finally:
            store.close()


def score_retrieval(retriever: HybridRetriever, queries: Sequence[Query], k: int, desc: str) -> tuple[dict, list]:
    rows = []
    for q in tqdm(queries, desc=desc, unit="q", leave=False):
        ranked = dedupe(h.chunk.doc_id for h in retriever.search(q.question, k))
        rows.append({"qid": q.qid, **retrieval_scores(ranked, set(q.gold))})
    return mean_scores({k2: v for k2, v in r.items() if k2 != "qid"} for r in rows), rows


def score_answers(retriever: HybridRetriever, composer: AnswerGenerator, queries: Sequence[Query],
                  top_k: int) -> tuple[dict, list]:
    rows = []
    for q in tqdm(queries, desc="answers", unit="q", leave=False):
        hits = retriever.search(q.question, top_k)
        t = time.perf_counter()
        ans = composer.compose(q.question, hits)
        seconds = time.perf_counter() - t
        quoted = [(c.chunk.doc_id, "".join(x.text for x in c.quotes) or c.chunk.text) for c in ans.citations]
        gold = set(q.gold)
        scored = bool(q.answers)  # a confirmed feedback query may name its articles but no answer text
        rows.append({
            "qid": q.qid,
            "em": (exact_match(ans.short, q.answers) if not ans.refused and not q.groups else 0.0) if scored else None,
            "f1": (grouped_f1(ans.short, q.answer_groups()) if not ans.refused else 0.0) if scored else None,
            "answer_contains_gold": (contains_all_groups(ans.text, q.answer_groups()) if not ans.refused else 0.0)
            if scored else None,
            "citation_precision": citation_precision([d for d, _ in quoted], gold),
            "supported_citation_precision": supported_precision(quoted, gold, q.answer_groups())
            if scored else None,
            "refused": float(ans.refused),
            "reason": ans.refusal_reason,
            "seconds": seconds,  # composing only, retrieval excluded
            "short": ans.short,
            "span_margin": ans.span_margin,
            "gate": gate_features(q.question, ans.hits),
            "cited": [{"doc_id": d, "gold": d in gold, "quote": text} for d, text in quoted],
        })
    means: dict[str, Any] = dict(mean_scores({k: v for k, v in r.items()
                                              if k not in ("qid", "short", "reason", "gate", "span_margin", "cited")}
                                             for r in rows))
    paths = getattr(composer, "paths", None)
    if paths:  # a checked generator: how often the model's own sentences were the answer
        means["paths"] = dict(paths)
    return means, rows


def score_refusal(articles, queries: Sequence[Query], emb: Embedder, composer: AnswerGenerator,
                  settings: Settings, top_k: int) -> dict[str, Any]:
    """Remove the gold articles of ``queries`` from the corpus and ask them again: every
    answer should now be a refusal (the articles left are near the topic, not about it).

    A question whose answer still stands in a passage it retrieves (web sets repeat their
    facts across pages: "iPhone多少钱") is not unanswerable; it is left out and counted."""
    gold = {d for q in queries for d in q.gold}
    left = [a for a in articles if a.doc_id not in gold]
    still = 0
    with temporary_retriever(left, emb, settings, "zhrag-eval-unanswerable-") as fused:
        retriever = answering_retriever(fused, settings)
        composer = with_store_answers(composer, fused.store, settings)
        reasons: dict[str, int] = {}
        rows = []
        for q in tqdm(queries, desc="unanswerable", unit="q", leave=False):
            hits = retriever.search(q.question, top_k)
            if any(len(x) >= 2 and x in h.chunk.text for x in q.answers for h in hits):
                still += 1
                continue
            ans = composer.compose(q.question, hits)
            key = ans.refusal_reason or "answered"
            reasons[key] = reasons.get(key, 0) + 1
            # The answer given is kept, so that one can read whether a page left in the index
            # answers after all (in other words than the gold's).
            rows.append({"qid": q.qid, "refused": float(ans.refused), "reason": ans.refusal_reason,
                         "span_margin": ans.span_margin, "answer": None if ans.refused else ans.text,
                         "gate": gate_features(q.question, ans.hits)})
    n = max(1, len(rows))
    return {"n": len(rows), "refusal_rate": 1 - reasons.get("answered", 0) / n, "reasons": reasons,
            "left_out_answer_elsewhere": still, "per_query": rows}


# The relevance gate's lower bound (ComposeParams.refuse_below), swept: a question is refused
# at threshold t when the composer refused it anyway or its best passage's cosine is below t.
CURVE_THRESHOLDS = (0.80, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.90, 0.92)
# The same for the span reader's margin (its best span over "no answer here", in logits): a
# question is refused when the cited sentences hold no span that clears it. Questions
# without a margin (how/why) are not affected.
MARGIN_THRESHOLDS = (-6.0, -4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0)


def _cos1(row: dict) -> float:
    return float(row["gate"]["cos1"])


def _margin(row: dict) -> float:
    m = row.get("span_margin")
    return float("inf") if m is None else float(m)


def refusal_curve(answer_rows: Sequence[dict], unanswerable_rows: Sequence[dict],
                  thresholds: Sequence[float] = CURVE_THRESHOLDS, feature=_cos1) -> list[dict[str, float]]:
    """Coverage against accuracy as the gate tightens: for each threshold, the share of
    answerable questions answered (coverage), how often those answers hold the gold span
    (accuracy), the false refusals, and the refusals of unanswerable questions. ``feature``
    is what the threshold applies to (the best passage's cosine, or the reader's margin)."""
    out = []
    for t in thresholds:
        answered = [r for r in answer_rows if not r["refused"] and feature(r) >= t]
        n = max(1, len(answer_rows))
        right = [r["answer_contains_gold"] for r in answered if r.get("answer_contains_gold") is not None]
        refused_u = [bool(r["refused"]) or feature(r) < t for r in unanswerable_rows]
        out.append({"refuse_below": t, "coverage": len(answered) / n, "false_refusals": 1 - len(answered) / n,
                    "accuracy": sum(right) / len(right) if right else 0.0,
                    "refusal_when_unanswerable": sum(refused_u) / len(refused_u) if refused_u else float("nan")})
    return out


def run_eval(cfg: EvalConfig, settings: Settings, *, embedder: Embedder | None = None,
             use_cache: bool = True, out: Path | None = None) -> dict[str, Any]:
    """Run every stage; with ``out``, the result so far is written after each stage, so an
    interrupted run keeps what it measured (``"complete": false`` until the end)."""
    t0 = time.perf_counter()
    queries = load_queries(cfg.set_dir, sample=cfg.sample, seed=cfg.seed)
    # A query with no gold article is unanswerable by design (an up-voted refusal exported
    # from feedback): it is scored only on whether the answer refuses.
    unanswerable = [q for q in queries if not q.gold]
    queries = [q for q in queries if q.gold]
    gold = frozenset(d for q in queries for d in q.gold)
    articles = load_corpus(cfg.set_dir, distractors=cfg.distractors, n_distractors=cfg.n_distractors,
                           max_docs=cfg.max_docs, must_keep=gold, seed=cfg.seed)
    base = embedder or embedder_for(settings)
    emb: Embedder = CachedEmbedder(base, settings.cache_dir / "embeddings") if use_cache else base
    t_index = time.perf_counter()
    tmp = tempfile.TemporaryDirectory(prefix="zhrag-eval-")
    store = build_store(articles, emb, chunk_params(settings), Path(tmp.name),
                        max_term_share=settings.max_term_share, backend=cfg.backend)
    t_index = time.perf_counter() - t_index
    n_chunks = store.stats()["chunks"]
    log.info("indexed %d articles as %d chunks in %.0fs", len(articles), n_chunks, t_index)
    fusion = settings.fusion_params()
    retriever = HybridRetriever(store, emb, fusion)
    result: dict[str, Any] = {
        "set": Path(cfg.set_dir).name,
        "distractors": str(cfg.distractors) if cfg.distractors else None,
        "complete": False,
        "counts": {"queries": len(queries), "articles": len(articles), "chunks": n_chunks},
        "config": {"model": store.model, "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap,
                   "fusion": settings.fusion, "answer_gate": settings.answer_gate,
                   "generator": settings.generator + (f" ({settings.local_model})" if settings.generator == "local"
                                                      else ""),
                   "short_answers": settings.short_answers, "rerank": settings.rerank,
                   "other_article_margin": settings.other_article_margin, "lead_gap": settings.lead_gap,
                   "other_article_shares_word": settings.other_article_shares_word,
                   "other_article_names": settings.other_article_names,
                   "typed_support": settings.typed_support, "count_focus": settings.count_focus,
                   "focus_bonus": settings.focus_bonus, "what_focus_bonus": settings.what_focus_bonus,
                   "reason_spans": settings.reason_spans, "fitting_spans": settings.fitting_spans,
                   "conflicts_read": settings.conflicts_read,
                   "entity_check": settings.entity_check,
                   "name_check": settings.name_check,
                   "candidates": settings.candidates, "max_term_share": settings.max_term_share,
                   "dense_share": settings.dense_share, "fusion_gain": settings.fusion_gain,
                   "fusion_cover_gain": settings.fusion_cover_gain, "rrf_k": settings.rrf_k,
                   "retrieve_k": cfg.retrieve_k, "top_k": cfg.top_k, "sample": cfg.sample,
                   "n_distractors": cfg.n_distractors, "max_docs": cfg.max_docs, "seed": cfg.seed},
        "retrieval": {}, "answers": {}, "refusal": {},
        "seconds": {"index": t_index},
        "per_query": {"retrieval": {}, "answers": []},
    }

    def stage_done() -> None:
        result["seconds"]["total"] = time.perf_counter() - t0
        if out is not None:
            write_result(result, out)

    stage_done()
    # Query vectors are cached too, so each mode after the first costs no embedding.
    for mode in cfg.modes:
        t = time.perf_counter()
        scores, rows = score_retrieval(retriever_for(retriever, mode, settings), queries, cfg.retrieve_k, mode)
        scores["seconds_per_query"] = (time.perf_counter() - t) / max(1, len(queries))
        result["retrieval"][mode], result["per_query"]["retrieval"][mode] = scores, rows
        stage_done()
    # One for every answer stage (one sentence cache): the extractive composer, or the
    # checked generator that ZHRAG_GENERATOR names (a local model is loaded once).
    generator = make_generator(settings, emb)
    composer = with_store_answers(generator, store, settings)
    answering = answering_retriever(retriever, settings)
    if cfg.answers > 0:
        answers, answer_rows = score_answers(answering, composer, queries[: cfg.answers], cfg.top_k)
        answers["n"] = len(answer_rows)
        result["answers"], result["per_query"]["answers"] = answers, answer_rows
        stage_done()
    if unanswerable:
        refused = [composer.compose(q.question, answering.search(q.question, cfg.top_k)).refused
                   for q in tqdm(unanswerable, desc="unanswerable in the set", unit="q", leave=False)]
        result["unanswerable_in_set"] = {"n": len(refused), "refusal_rate": sum(refused) / len(refused)}
        stage_done()
    if cfg.unanswerable > 0:
        result["refusal"] = score_refusal(articles, queries[: cfg.unanswerable], emb, generator, settings, cfg.top_k)
        result["per_query"]["unanswerable"] = result["refusal"].pop("per_query")
        if result["per_query"]["answers"]:
            result["refusal"]["curve"] = refusal_curve(result["per_query"]["answers"],
                                                       result["per_query"]["unanswerable"])
            if any(r.get("span_margin") is not None for r in result["per_query"]["answers"]):
                result["refusal"]["span_curve"] = refusal_curve(
                    result["per_query"]["answers"], result["per_query"]["unanswerable"], MARGIN_THRESHOLDS, _margin)
    if isinstance(emb, CachedEmbedder):
        emb.save()
    store.close()
    tmp.cleanup()
    result["complete"] = True
    stage_done()
    return result


def format_table(result: dict[str, Any]) -> str:
    """A Markdown table: one row per retrieval mode, then the answer scores."""
    c = result["counts"]
    lines = [f"{result['set']}" + (" + distractors" if result["distractors"] else "")
             + f": {c['queries']} queries, {c['articles']} articles, {c['chunks']} chunks", "",
             "| mode | hit@1 | hit@5 | recall@10 | MRR@10 | nDCG@10 | ms/query |", "|---|---|---|---|---|---|---|"]
    for mode, m in result["retrieval"].items():
        lines.append(f"| {mode} | {m['hit@1']:.3f} | {m['hit@5']:.3f} | {m['recall@10']:.3f} | {m['mrr@10']:.3f} "
                     f"| {m['ndcg@10']:.3f} | {1000 * m['seconds_per_query']:.0f} |")
    a = result.get("answers")
    if a:
        gen = result.get("config", {}).get("generator", "extractive")
        lines += ["", "| answers (hybrid) | n | EM | F1 | answer contains gold | citation precision "
                      "| citations holding the answer or gold | refused | s/answer |",
                  "|---|---|---|---|---|---|---|---|---|",
                  f"| {gen} | {a['n']} | {a.get('em', 0):.3f} | {a.get('f1', 0):.3f} | "
                  f"{a.get('answer_contains_gold', 0):.3f} | {a.get('citation_precision', 0):.3f} | "
                  f"{a.get('supported_citation_precision', 0):.3f} | {a.get('refused', 0):.3f} | {a.get('seconds', 0):.2f} |"]
        if a.get("paths"):
            lines.append("answers from: " + ", ".join(f"{k} {v}" for k, v in sorted(a["paths"].items())))
    u = result.get("unanswerable_in_set")
    if u:
        lines += ["", "| unanswerable questions of the set | n | refusal rate |", "|---|---|---|",
                  f"| as given | {u['n']} | {u['refusal_rate']:.3f} |"]
    r = result.get("refusal")
    if r:
        lines += ["", "| unanswerable (gold articles removed) | n | refusal rate | reasons |", "|---|---|---|---|",
                  f"| same questions | {r['n']} | {r['refusal_rate']:.3f} | "
                  + ", ".join(f"{k} {v}" for k, v in sorted(r["reasons"].items())) + " |"]
        if r.get("curve"):
            lines += ["", "| refuse below cosine | coverage (answerable answered) | accuracy (answer contains gold) "
                          "| false refusals | refusal when unanswerable |", "|---|---|---|---|---|"]
            lines += [f"| {c['refuse_below']:.2f} | {c['coverage']:.3f} | {c['accuracy']:.3f} | "
                      f"{c['false_refusals']:.3f} | {c['refusal_when_unanswerable']:.3f} |" for c in r["curve"]]
        if r.get("span_curve"):
            lines += ["", "| refuse below reader margin | coverage | accuracy | false refusals "
                          "| refusal when unanswerable |", "|---|---|---|---|---|"]
            lines += [f"| {c['refuse_below']:.1f} | {c['coverage']:.3f} | {c['accuracy']:.3f} | "
                      f"{c['false_refusals']:.3f} | {c['refusal_when_unanswerable']:.3f} |" for c in r["span_curve"]]
    return "\n".join(lines)


def write_result(result: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
