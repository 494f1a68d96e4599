"""Speed and memory of the service on this machine, printed as a table.

    python bench/bench.py                      # seeds + 1,000 distractor articles
    python bench/bench.py --articles 5000      # the whole distractor set

Measures: model load, indexing throughput (chunks/s), index size on disk, query latency
for search and for cited answers (p50/p95 over the seed questions), and peak RSS. Figures
go to stdout; nothing here asserts, targets live in README/RESULTS next to the numbers.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = [
    "密云区工匠学院怎么运作", "首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目",
    "东城区总工会2025年有什么打算", "九合空间在哪里", "苏家坨镇总工会慰问了哪些单位",
    "首开书院有哪些功能区", "长春市总工会如何留住人才", "如何申请美国签证", "通州商业资产运营集团举办了什么培训",
]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000, help="distractor articles to index beside the seeds")
    ap.add_argument("--distractors", type=Path, default=ROOT.parent / "shared" / "eval-data" / "news-distractors")
    ap.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    ap.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from index.sqlite import SQLiteStore
    from rag.chunking import ChunkParams
    from rag.compose import ExtractiveComposer
    from rag.embedding import load_embedder
    from rag.indexing import Indexer
    from rag.ingest import ingest_paths
    from rag.lexical import analyzer
    from rag.pipeline import build_store
    from rag.retrieve import HybridRetriever
    from rag.settings import Settings

    s = Settings()
    t = time.perf_counter()
    emb = load_embedder("e5-small", cache_dir=s.cache_dir, dtype=args.dtype)
    load_s = time.perf_counter() - t
    rss_model = _rss_mb()

    paths = [ROOT / "seeds"]
    if args.articles and (args.distractors / "corpus.jsonl").is_file():
        tmp = Path(tempfile.mkdtemp()) / "distractors.jsonl"
        with (args.distractors / "corpus.jsonl").open(encoding="utf-8") as f, tmp.open("w", encoding="utf-8") as o:
            for i, line in enumerate(f):
                if i >= args.articles:
                    break
                o.write(line)
        paths.append(tmp)
    articles = ingest_paths(paths).articles
    workdir = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    store = build_store(workdir, emb, ChunkParams(),
                        fill=lambda st: Indexer(st, emb, ChunkParams()).add_articles(list(articles), progress=True))
    index_s = time.perf_counter() - t
    store.close()
    disk_mb = SQLiteStore.db_path(workdir).stat().st_size / 1e6
    t = time.perf_counter()
    store = SQLiteStore.open(workdir, analyzer(), expect_model=emb.name)
    open_s = time.perf_counter() - t

    retriever = HybridRetriever(store, emb)
    composer = ExtractiveComposer(emb)
    search_ms, answer_ms = [], []
    for _ in range(args.repeat):
        for q in QUESTIONS:
            t = time.perf_counter()
            hits = retriever.search(q, 5)
            search_ms.append(1000 * (time.perf_counter() - t))
            t = time.perf_counter()
            composer.compose(q, hits)
            answer_ms.append(1000 * (time.perf_counter() - t) + search_ms[-1])

    n = store.stats()["chunks"]
    figures = {
        "articles": len(articles), "chunks": n, "embed_dtype": args.dtype,
        "model_load_s": round(load_s, 2),
        "index_s": round(index_s, 1), "chunks_per_s": round(n / index_s, 1),
        "open_s": round(open_s, 2), "index_disk_mb": round(disk_mb, 1),
        "search_ms_p50": round(statistics.median(search_ms), 1), "search_ms_p95": round(_pct(search_ms, 0.95), 1),
        "answer_ms_p50": round(statistics.median(answer_ms), 1), "answer_ms_p95": round(_pct(answer_ms, 0.95), 1),
        "rss_after_model_mb": round(rss_model), "peak_rss_mb": round(_rss_mb()),
    }
    width = max(map(len, figures))
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
