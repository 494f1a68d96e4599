"""What the reranker costs per question: the fused search alone against the fused search
plus the cross-encoder over its top passages, over the same seed index in one process,
alternating question by question (the machine is noisy), at 1 and 2 torch threads. Prints
a table; the issue's budget is 150 ms extra per question on two cores.

    python bench/rerank.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from load import rss_mb  # bench/load.py and bench/store.py: this script runs with bench/ on its path
from reader import QUESTIONS


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    from rag.e5_convert import ensure_model
    from rag.embedding import set_torch_threads
    from rag.pipeline import load_engine
    from rag.rerank import RerankingRetriever, load_reranker
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as d:
        settings = Settings(index_dir=Path(d) / "index")
        engine = load_engine(settings)
        before = rss_mb(os.getpid())
        t = time.perf_counter()
        reranker = load_reranker(ensure_model(settings.cache_dir / "models"))
        if reranker is None:
            raise SystemExit("no reranker weights in rag/reranker_model")
        reranked = RerankingRetriever(engine.retriever, reranker)
        load_s = time.perf_counter() - t
        after = rss_mb(os.getpid())
        retrievers = {"fused": engine.retriever, f"fused + rerank top {reranked.params.top}": reranked}
        rows = []
        for threads in (1, 2):
            set_torch_threads(threads)
            times: dict[str, list[float]] = {name: [] for name in retrievers}
            for r in range(args.rounds + 1):
                for q in QUESTIONS:
                    for name, ret in retrievers.items():
                        t = time.perf_counter()
                        ret.search(q, settings.top_k)
                        if r:  # round 0 warms the query-vector cache
                            times[name].append(time.perf_counter() - t)
            rows += [(threads, name, sorted(xs)) for name, xs in times.items()]
        engine.close()
    print(f"reranker load: {load_s:.1f} s, resident memory {before:.0f} -> {after:.0f} MB (+{after - before:.0f} MB)\n")
    print("| torch threads | retrieval | questions | p50 ms | p90 ms |")
    print("|---|---|---|---|---|")
    for threads, name, xs in rows:
        print(f"| {threads} | {name} | {len(xs)} | {statistics.median(xs) * 1000:.0f} | "
              f"{xs[int(0.9 * (len(xs) - 1))] * 1000:.0f} |")


if __name__ == "__main__":
    main()
