"""The Milvus backend (milvus-lite, embedded) beside the embedded SQLite store, in one run:
add throughput and hybrid search latency on the same articles, vectors and questions.

The index is bench/store.py's (real distractor text, real e5 vectors jittered for the
copies); it is copied into a fresh milvus-lite file through the service's own write path
(``zhrag migrate``'s ``copy_store``), which times Milvus's adds, and into a fresh SQLite
file the same way, which times the embedded store's. Search is the service's own
``HybridRetriever`` with the query vectors made beforehand (no embedding in the figures).

    python bench/milvus.py --chunks 10000
    python bench/milvus.py --chunks 100000 --questions 10 --rounds 1

milvus-lite is Milvus's embedded, single-process build (its search runs in Python); a
Milvus standalone or cluster server indexes vectors (HNSW/IVF) and serves many clients,
so its latency and throughput are not these: this measures the backend's code path and
what a laptop or a test run gets.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import store as bench_store  # noqa: E402  (bench/store.py: the same index and helpers)


def _search(store, qv: list[tuple[str, np.ndarray]], rounds: int) -> list[float]:
    from rag.retrieve import HybridRetriever

    retriever = HybridRetriever(store, bench_store._Precomputed(dict(qv)))
    out = []
    for _ in range(rounds):
        for q, _v in qv:
            t = time.perf_counter()
            retriever.search(q, 5)
            out.append(time.perf_counter() - t)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--dir", type=Path, default=None, help="where bench/store.py's index is kept (built if absent)")
    ap.add_argument("--distractors", type=Path,
                    default=ROOT.parent / "shared" / "eval-data" / "news-distractors" / "corpus.jsonl")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the questions")
    ap.add_argument("--questions", type=int, default=30, help="how many real questions (milvus-lite takes seconds each)")
    args = ap.parse_args(argv)
    from index.migrate import copy_store
    from index.milvus import MilvusStore
    from index.sqlite import SQLiteStore
    from index.store import Store

    directory = args.dir or Path(f"/tmp/zhrag-bench-{args.chunks}")
    if not SQLiteStore.exists(directory):
        directory.mkdir(parents=True, exist_ok=True)
        bench_store.build(directory, args.chunks, args.distractors)
    source = SQLiteStore.open(directory, bench_store._analyzer())
    questions = bench_store._questions(args.distractors)[:args.questions]
    qvecs = bench_store._embedder().embed_queries(questions)
    qv = list(zip(questions, qvecs, strict=True))
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="zhrag-bench-milvus-") as tmp:
        def fresh_sqlite() -> SQLiteStore:
            d = Path(tmp) / "copy"
            SQLiteStore.create(SQLiteStore.db_path(d), model=source.model, dim=source.dim,
                               analyzer=bench_store._analyzer(), chunking={"size": 300, "overlap": 60})
            return SQLiteStore.open(d, bench_store._analyzer())

        targets: dict[str, Callable[[], Store]] = {
            "embedded (SQLite)": fresh_sqlite,
            "milvus-lite": lambda: MilvusStore.open(f"milvus-lite://{tmp}/m.db", bench_store._analyzer(),
                                                    model=source.model, dim=source.dim),
        }
        for name, make in targets.items():
            target = make()
            t = time.perf_counter()
            rep = copy_store(source, target, batch=64, progress=True)
            took = time.perf_counter() - t
            lat = _search(target, qv, args.rounds)
            rows[name] = {"chunks": rep.chunks, "add chunks/s (batches of 64 articles)": rep.chunks / took,
                          "add articles/s": rep.articles / took,
                          "hybrid search p50 ms": 1000 * statistics.median(lat),
                          "hybrid search p99 ms": 1000 * bench_store._pct(lat, 0.99)}
            target.close()
    source.close()
    names = list(rows)
    print(f"| figure ({args.chunks:,} chunks) | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for k in rows[names[0]]:
        print(f"| {k} | " + " | ".join(f"{rows[n][k]:,.1f}" for n in names) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
