"""What the embedder sees (issue 13, item 3), answered by measurement, not by a change to
the product (eval/RESULTS.md, "What the embedder sees").

Dense retrieval is the weak half on short, under-specified questions over news. Three
things decide what e5 reads, and each is varied here with everything else held fixed:

- **the passage text**: the title before every chunk (the product), no title, or the title
  and the article's first sentence (its lead) before every chunk after the first, so a
  chunk deep in an article still says what the article is about;
- **the chunk size against the article's length**: 200, 300 (the product), 500 characters,
  or the whole article up to e5's 512 tokens;
- **the query prefix**: "query: " (what e5 was trained with, the product), "passage: ", none.

For each variant: dense MRR@10, hit@1 and hit@5 by article; for the variants that keep the
product's chunks (so chunk ids match), also the product's adaptive fusion of that dense list
with the store's BM25 list, since a better dense half is only worth having if the hybrid
ranking gains. Passage vectors go through the evaluation's embedding cache, saved after
each variant, so an interrupted run keeps what it encoded.

    python -m eval.embed_probe results/sets/drcd-dev --distractors ../shared/eval-data/news-distractors \\
        --n-distractors 1000 --sample 800 --out results/embed-drcd-dev.json
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from eval.data import Query, load_corpus, load_queries
from eval.metrics import dedupe, mean_scores, retrieval_scores
from index.dense import ROW_FIELDS, DenseIndex
from rag.chunking import ChunkParams, chunk_article, split_sentences
from rag.embedding import CachedEmbedder, Embedder, SentenceTransformerEmbedder
from rag.pipeline import chunk_params, embedder_for
from rag.retrieve import adaptive_fuse
from rag.settings import Settings
from rag.types import Article, Chunk

log = logging.getLogger(__name__)

CANDIDATES = 50  # the product's candidates per list (FusionParams.candidates)
LEAD_CHARS = 80  # a lead longer than this is cut: it should name the subject, not fill the chunk


def _lead(article: Article) -> str:
    spans = split_sentences(article.text)
    if not spans:
        return ""
    s, e = spans[0]
    return article.text[s:min(e, s + LEAD_CHARS)]


def _title_text(c: Chunk, _lead_text: str) -> str:
    return c.embedding_text()


def _text_only(c: Chunk, _lead_text: str) -> str:
    return c.text


def _title_lead_text(c: Chunk, lead_text: str) -> str:
    head = "\n".join(x for x in (c.title, lead_text if c.char_start > 0 else "") if x)
    return f"{head}\n{c.text}" if head else c.text


# name -> (chunk size, overlap, how a chunk becomes the text e5 reads)
PASSAGES: dict[str, tuple[int, int, Callable[[Chunk, str], str]]] = {
    "title + chunk 300 (product)": (300, 60, _title_text),
    "chunk 300 without title": (300, 60, _text_only),
    "title + lead + chunk 300": (300, 60, _title_lead_text),
    "title + chunk 200": (200, 40, _title_text),
    "title + chunk 500": (500, 100, _title_text),
    "title + whole article": (2000, 0, _title_text),
}
PRODUCT = "title + chunk 300 (product)"
QUERY_PREFIXES = {"query: (product)": "query: ", "passage: ": "passage: ", "none": ""}


def _means(queries: Sequence[Query], rankings: Sequence[Sequence[tuple[Chunk, float]]]) -> dict[str, float]:
    """The evaluation's retrieval scores, by article, averaged over the questions."""
    return mean_scores(retrieval_scores(dedupe(c.doc_id for c, _ in ranking), set(q.gold))
                       for q, ranking in zip(queries, rankings, strict=True))


def _dense_lists(qvecs: np.ndarray, pvecs: np.ndarray, chunks: Sequence[Chunk]) -> list[list[tuple[Chunk, float]]]:
    """Each question's candidates by the store's own exact search over this variant's vectors."""
    index = DenseIndex(pvecs.shape[1])
    index.add(range(len(chunks)), pvecs, {f: [0] * len(chunks) for f in ROW_FIELDS})
    return [[(chunks[i], s) for i, s in index.search(q, CANDIDATES)] for q in qvecs]


def _encode_queries(emb: CachedEmbedder, questions: Sequence[str], prefix: str) -> np.ndarray:
    """Queries under another prefix, straight from the model (a few hundred: no cache needed)."""
    inner = emb.inner
    assert isinstance(inner, SentenceTransformerEmbedder)
    vecs = inner.model.encode([prefix + q for q in questions], batch_size=inner.batch_size,
                              normalize_embeddings=True, convert_to_numpy=True)
    return np.asarray(vecs, dtype=np.float32)


def probe(set_dir: Path, *, distractors: Path | None, n_distractors: int | None, sample: int | None,
          settings: Settings, variants: Sequence[str] = tuple(PASSAGES),
          embedder: Embedder | None = None) -> dict[str, Any]:
    """The table's numbers. Query prefixes are compared only with a sentence-transformers
    model: the test embedder has no prefixes."""
    emb = CachedEmbedder(embedder or embedder_for(settings), settings.cache_dir / "embeddings")
    queries: list[Query] = [q for q in load_queries(set_dir, sample=sample) if q.gold]
    gold_docs = frozenset(d for q in queries for d in q.gold)
    articles = load_corpus(set_dir, distractors=distractors, n_distractors=n_distractors, must_keep=gold_docs)
    leads = {a.doc_id: _lead(a) for a in articles}
    questions = [q.question for q in queries]
    result: dict[str, Any] = {"set": str(set_dir), "queries": len(queries), "articles": len(articles),
                              "distractors": n_distractors if distractors else 0, "passages": {}, "query_prefix": {}}

    from eval.run import temporary_retriever

    with temporary_retriever(articles, emb, settings, "zhrag-embed-probe-") as retriever:
        emb.save()
        lexical = [retriever.store.search_lexical(q, CANDIDATES) for q in tqdm(questions, desc="BM25", leave=False)]
        result["bm25"] = _means(queries, lexical)
        # The product's own search, to show the probe's fusion of the product variant is the same ranking.
        result["hybrid_product"] = _means(queries, [[(h.chunk, h.score) for h in retriever.search(q, 10)]
                                                    for q in tqdm(questions, desc="hybrid", leave=False)])
        params = retriever.params
        qvecs = emb.embed_queries(questions)

        def fused(dense: Sequence[list[tuple[Chunk, float]]]) -> dict[str, float]:
            return _means(queries, [adaptive_fuse(q, d, lex, params)
                                    for q, d, lex in zip(questions, dense, lexical, strict=True)])
        product_vecs: np.ndarray | None = None
        product_chunks: list[Chunk] = []
        for name in variants:
            size, overlap, text_of = PASSAGES[name]
            chunks = [c for a in articles for c in chunk_article(a, ChunkParams(size, overlap))]
            pvecs = emb.embed_documents([text_of(c, leads[c.doc_id]) for c in chunks], progress=True)
            emb.save()
            dense = _dense_lists(qvecs, pvecs, chunks)
            row: dict[str, Any] = {"chunks": len(chunks), "dense": _means(queries, dense)}
            if ChunkParams(size, overlap) == chunk_params(settings):  # the store's chunks: BM25's list fuses
                row["hybrid"] = fused(dense)
            if name == PRODUCT:
                product_vecs, product_chunks = pvecs, chunks
            result["passages"][name] = row
            log.info("%s: %s", name, row)
        if product_vecs is not None and isinstance(emb.inner, SentenceTransformerEmbedder):
            for name, prefix in QUERY_PREFIXES.items():
                vecs = qvecs if prefix == "query: " else _encode_queries(emb, questions, prefix)
                dense = _dense_lists(vecs, product_vecs, product_chunks)
                result["query_prefix"][name] = {"dense": _means(queries, dense), "hybrid": fused(dense)}
    emb.save()
    return result


def format_table(result: dict[str, Any]) -> str:
    lines = [f"{result['set']}: {result['queries']} questions, {result['articles']} articles "
             f"({result['distractors']} distractors); BM25 MRR@10 {result['bm25']['mrr@10']:.3f}; "
             f"the product's hybrid search MRR@10 {result['hybrid_product']['mrr@10']:.3f}",
             "| variant | chunks | dense hit@1 | dense hit@5 | dense MRR@10 | hybrid MRR@10 |", "|---|---|---|---|---|---|"]
    rows = [(name, row["chunks"], row) for name, row in result["passages"].items()]
    rows += [(f"query prefix {name}", "", row) for name, row in result["query_prefix"].items()]
    for name, chunks, row in rows:
        d, h = row["dense"], row.get("hybrid")
        hybrid = f"{h['mrr@10']:.3f}" if h else "–"
        lines.append(f"| {name} | {chunks} | {d['hit@1']:.3f} | {d['hit@5']:.3f} | {d['mrr@10']:.3f} | {hybrid} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--distractors", type=Path)
    ap.add_argument("--n-distractors", type=int)
    ap.add_argument("--sample", type=int)
    ap.add_argument("--variants", help="comma-separated passage variants (default: all)")
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    variants = [v.strip() for v in a.variants.split(",")] if a.variants else list(PASSAGES)
    if unknown := [v for v in variants if v not in PASSAGES]:
        raise SystemExit(f"unknown variants {unknown}; choose from {list(PASSAGES)}")
    result = probe(a.set_dir, distractors=a.distractors, n_distractors=a.n_distractors, sample=a.sample,
                   settings=Settings(), variants=variants)
    print(format_table(result))  # noqa: T201 - a command-line report
    if a.out:
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
