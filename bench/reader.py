"""What the span reader costs: memory to load it, and time per answer against the rules.

Both composers answer the same questions over the same seed index in one process,
alternating question by question (the machine is noisy), after one warm-up pass so the
sentence vectors are cached for both. Prints a table.

    python bench/reader.py [--rounds 5] [--weights DIR]

``--weights DIR`` adds a third composer whose reader loads another adapter (a retrained one,
say ``zhrag train-reader --out DIR``), so two readers are timed side by side in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from load import rss_mb  # bench/load.py and bench/store.py: this script runs with bench/ on its path
from store import peak_rss_mb

QUESTIONS = ["首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目", "密云区工匠学院的院长是谁",
             "密云区工匠学院什么时候成立", "密云区工匠学院怎么运作", "首开集团工会获得了什么称号",
             "首开集团的职工之家有多大", "密云区技能竞赛前三名的选手有什么待遇"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--weights", type=Path, help="another reader adapter's folder, timed beside the shipped one")
    args = ap.parse_args()

    from rag.compose import ExtractiveComposer
    from rag.pipeline import compose_params, load_engine, make_reader
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as d:
        settings = Settings(index_dir=Path(d) / "index", short_answers="rules")
        engine = load_engine(settings)
        before = rss_mb(os.getpid())
        t = time.perf_counter()
        reader = make_reader(settings.model_copy(update={"short_answers": "reader"}))
        load_s = time.perf_counter() - t
        after = rss_mb(os.getpid())
        params = compose_params(settings)
        best_only = replace(params, fitting_spans=False, conflicts_read=False)
        composers = {"rules": ExtractiveComposer(engine.embedder, params),
                     "reader": ExtractiveComposer(engine.embedder, params, reader=reader),
                     "reader, best span only (fitting_spans, conflicts_read off)":
                         ExtractiveComposer(engine.embedder, best_only, reader=reader)}
        if args.weights is not None:
            from rag.e5_convert import ensure_model
            from rag.reader import E5SpanReader

            other = E5SpanReader(ensure_model(settings.cache_dir / "models"), args.weights)
            composers[f"reader ({args.weights})"] = ExtractiveComposer(engine.embedder, params, reader=other)
        hits = {q: engine.retriever.search(q, settings.top_k) for q in QUESTIONS}
        times: dict[str, list[float]] = {name: [] for name in composers}
        for r in range(args.rounds + 1):
            for q in QUESTIONS:
                for name, c in composers.items():
                    t = time.perf_counter()
                    c.compose(q, hits[q])
                    if r:  # round 0 warms the sentence-vector caches
                        times[name].append(time.perf_counter() - t)
        engine.close()
    print(f"reader load: {load_s:.1f} s, resident memory {before:.0f} -> {after:.0f} MB "
          f"(+{after - before:.0f} MB); peak {peak_rss_mb():.0f} MB\n")
    print("| short answers | answers | p50 ms | p90 ms |")
    print("|---|---|---|---|")
    for name, xs in times.items():
        xs.sort()
        print(f"| {name} | {len(xs)} | {statistics.median(xs) * 1000:.0f} | {xs[int(0.9 * (len(xs) - 1))] * 1000:.0f} |")


if __name__ == "__main__":
    main()
