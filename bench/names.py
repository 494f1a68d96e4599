"""What the name check costs per question (rag/names.py), beside retrieval.

Indexes the seed page and the 5,000 news distractors (hashing embedder: this times lexical
lookups, not the model), then for each question times retrieval and the name check,
question by question after a warm-up round. Three cases: the retrieved passages name the
question's names (no lookup); they do not but the store does (the check is handed no
passages: one lexical search per name); no article names them (one search per name).
Then the second check, whose articles name the names: timed at its dearest, reading the
articles of every retrieved passage (what it does when the answer's article names none).

    python bench/names.py [--rounds 5] [--distractors ../shared/eval-data/news-distractors]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

KNOWN = ["密云区工匠学院怎么运作", "长春市总工会设置了多少个竞赛项目", "北京市总工会开展了什么活动"]
UNKNOWN = ["广茂铁路全长多少公里", "楼曾瑞毕业于哪个大学", "白岳峰现效力于哪支球队"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--distractors", type=Path,
                    default=Path(__file__).resolve().parents[1].parent / "shared" / "eval-data" / "news-distractors")
    args = ap.parse_args()

    from eval.data import load_corpus
    from rag.compose import ExtractiveComposer
    from rag.names import NameCheck
    from rag.pipeline import compose_params, load_engine
    from rag.question import question_names
    from rag.settings import Settings

    with tempfile.TemporaryDirectory() as d:
        settings = Settings(index_dir=Path(d) / "index", embed_model="hashing", short_answers="rules")
        engine = load_engine(settings)
        engine.add_articles(load_corpus(args.distractors))
        check = NameCheck(ExtractiveComposer(engine.embedder, compose_params(settings)), engine.store)
        assert all(question_names(q) for q in KNOWN + UNKNOWN)
        cases = [("named in the passages", KNOWN, True), ("named in the store only", KNOWN, False),
                 ("named nowhere", UNKNOWN, True)]
        times: dict[tuple[str, str], list[float]] = {}
        for r in range(args.rounds + 1):
            for kind, qs, pass_hits in cases:
                for q in qs:
                    t0 = time.perf_counter()
                    hits = engine.retriever.search(q, settings.top_k)
                    t1 = time.perf_counter()
                    unknown = check.unknown_names(q, hits if pass_hits else [])
                    t2 = time.perf_counter()
                    assert bool(unknown) == (qs is UNKNOWN)
                    steps = [("retrieval", t1 - t0), ("name check", t2 - t1)]
                    if pass_hits and not unknown:
                        t3 = time.perf_counter()
                        check.articles_naming([h.chunk.doc_id for h in hits], question_names(q))
                        steps.append(("articles of every passage read for the names", time.perf_counter() - t3))
                    if r:  # round 0 warms caches
                        for step, s in steps:
                            times.setdefault((kind, step), []).append(s)
        articles = engine.store.stats()["articles"]
        engine.close()
    print(f"{articles} articles (hashing embedder), {args.rounds} rounds\n")
    print("| the question's names | step | n | p50 ms | p90 ms |")
    print("|---|---|---|---|---|")
    for (kind, step), xs in times.items():
        xs.sort()
        print(f"| {kind} | {step} | {len(xs)} | {statistics.median(xs) * 1000:.1f} | "
              f"{xs[int(0.9 * (len(xs) - 1))] * 1000:.1f} |")


if __name__ == "__main__":
    main()
