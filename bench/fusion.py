"""What reading the top hits' words costs the fusion per query: the adaptive fusion as it was
(confidence only) against the fusion with the cover gap (rag/retrieve.py: cover_gap), on the
same dense and BM25 candidate lists, alternating query by query (the machine is noisy), with
the whole hybrid search beside them for scale. The lists come from DuReader's questions over
its pages and news distractors, indexed with the hashing embedder (no model: the fusion's
cost does not depend on which vectors ranked the lists). Prints a table.

    python bench/fusion.py [--queries 300] [--distractors 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "eval-data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--distractors", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    import tempfile

    from eval.data import load_corpus, load_queries
    from eval.run import temporary_retriever
    from rag.embedding import HashingEmbedder
    from rag.retrieve import _confidence, adaptive_fuse, mix, zscores
    from rag.settings import Settings

    set_dir = SHARED / "dureader-robust-dev"
    queries = load_queries(set_dir, sample=args.queries)
    articles = load_corpus(set_dir, distractors=SHARED / "news-distractors", n_distractors=args.distractors,
                           must_keep=frozenset(d for q in queries for d in q.gold))
    emb = HashingEmbedder()
    with tempfile.TemporaryDirectory() as d:
        settings = Settings(index_dir=Path(d) / "index", embed_model="hashing")
        with temporary_retriever(articles, emb, settings, "zhrag-bench-fusion-") as retriever:
            p, store = retriever.params, retriever.store
            lists = []
            for q in queries:
                qvec = emb.embed_queries([q.question])[0]
                with store.reading():
                    lists.append((q.question, store.search_dense(qvec, p.candidates),
                                  store.search_lexical(q.question, p.candidates)))

            def before(question, dense, lexical):  # the fusion before the cover gap
                z = zscores(dense), zscores(lexical)
                return mix(dense, lexical, min(p.max_share, max(p.min_share, 0.5 + 0.5 * _confidence(*z))), z)

            def after(question, dense, lexical):
                return adaptive_fuse(question, dense, lexical, p)

            times: dict[str, list[float]] = {"fusion before (confidence only)": [], "fusion with the cover gap": [],
                                             "whole hybrid search": []}
            for _ in range(args.rounds):
                for question, dense, lexical in lists:
                    for name, run in (("fusion before (confidence only)", before), ("fusion with the cover gap", after)):
                        t = time.perf_counter()
                        run(question, dense, lexical)
                        times[name].append(time.perf_counter() - t)
                    t = time.perf_counter()
                    retriever.search(question, 10)
                    times["whole hybrid search"].append(time.perf_counter() - t)

    n = len(articles)
    print(f"\n{len(queries)} DuReader questions x {args.rounds} rounds, {n} articles, "
          f"{p.candidates} candidates per list\n")
    print("| step | p50 ms | p90 ms |\n|---|---|---|")
    for name, ts in times.items():
        ts = sorted(ts)
        print(f"| {name} | {1000 * statistics.median(ts):.3f} | {1000 * ts[int(0.9 * (len(ts) - 1))]:.3f} |")


if __name__ == "__main__":
    main()
