"""The knowledge base at scale: open time, write and delete cost, search latency idle and
under a stream of writes, memory, and the recall of the big-index dense search against
exact search. Printed as a table; no figure includes embedding.

Vectors are synthetic over real text: each distractor chunk is embedded once with the real
model (cached in ~/.cache/zhrag/embeddings), and every further copy of it gets that vector
jittered to a cosine of about 0.9 with the original (as related news chunks are to each
other), so the index has the shape of real embeddings rather than of random points. The
queries are real questions embedded with the real model.

    python bench/store.py --chunks 100000            # build (once) and measure
    python bench/store.py --chunks 1000000 --dir /tmp/kb1m

The distractor articles are chunked and repeated (with new ids) until the index holds the
requested number of chunks. A build is kept in --dir and reused by later runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import threading
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUERIES = ["首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目", "持刀杀人事件发生在哪里",
           "有多少人参与爆炸袭击", "新能源汽车销量增长了多少", "北京冬奥会开幕式总导演是谁",
           "台风登陆造成多少人受灾", "央行下调存款准备金率", "高考报名人数创新高", "世界杯决赛在哪里举行"]
DIM = 384
JITTER = 0.0247  # per-dimension noise: a copy keeps a cosine of about 1 / sqrt(1 + 384 * JITTER^2) = 0.9


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def peak_rss_mb() -> float:
    """Peak RSS of this process image. Not getrusage's ru_maxrss: Linux carries that across
    exec, so a child started by a parent holding the model would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _analyzer():
    """The real analyzer, memoised: repeated texts are analysed once (the build stays fast)."""
    from index.store import FunctionAnalyzer
    from rag.lexical import analyzer

    real = analyzer()
    return FunctionAnalyzer(real.name, lru_cache(maxsize=200_000)(lambda t: tuple(real(t))))  # type: ignore[arg-type]


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _jitter(rng: np.random.Generator, vecs: np.ndarray) -> np.ndarray:
    v = vecs + JITTER * rng.standard_normal(vecs.shape).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@lru_cache(maxsize=1)
def _embedder():
    from rag.embedding import CachedEmbedder, load_embedder
    from rag.settings import Settings

    s = Settings()
    return CachedEmbedder(load_embedder("e5-small", cache_dir=s.cache_dir), s.cache_dir / "embeddings")


class _Precomputed:
    """An embedder that only looks query vectors up: search timings exclude embedding."""

    name, dim = "synthetic", DIM

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_queries(self, texts):
        return np.stack([self.vectors[t] for t in texts])

    def embed_documents(self, texts, *, progress=False):
        raise NotImplementedError


def _questions(distractors: Path) -> list[str]:
    """The fixed questions plus real ones from a shared set (for the recall figure)."""
    qfile = distractors.parent.parent / "dureader-robust-dev" / "queries.jsonl"
    extra = [json.loads(line)["question"] for line in qfile.read_text("utf-8").splitlines()[:90]] \
        if qfile.is_file() else []
    return QUERIES + extra


def build(directory: Path, n_chunks: int, distractors: Path) -> None:
    from index.sqlite import SQLiteStore
    from index.store import ArticleWrite
    from rag.chunking import ChunkParams, chunk_article
    from rag.ingest import ingest_paths
    from rag.types import Article

    base = list(ingest_paths([distractors]).articles)
    base_chunks = [tuple(chunk_article(a, ChunkParams())) for a in base]
    emb = _embedder()
    flat = emb.embed_documents([c.embedding_text() for cs in base_chunks for c in cs], progress=True)
    emb.save()
    starts = np.cumsum([0] + [len(cs) for cs in base_chunks])
    an = _analyzer()
    tmp = SQLiteStore.db_path(directory).with_suffix(".building")
    tmp.unlink(missing_ok=True)
    SQLiteStore.create(tmp, model="synthetic", dim=DIM, analyzer=an, chunking={"size": 300, "overlap": 60})
    store = SQLiteStore.open(directory, an, path=tmp)
    rng = np.random.default_rng(0)
    total, copy, t0 = 0, 0, time.perf_counter()
    while total < n_chunks:
        batch: list[ArticleWrite] = []
        for i, a in enumerate(base):
            a2 = Article(f"{a.doc_id}-{copy}", a.title, a.text, a.source_path,
                         a.meta, given_id=True)
            chunks = tuple(chunk_article(a2, ChunkParams()))
            real = flat[starts[i]:starts[i + 1]]
            batch.append(ArticleWrite(a2, chunks, real if copy == 0 else _jitter(rng, real), "default",
                                      f"bench:{a2.doc_id}", ""))
            total += len(chunks)
            if len(batch) == 500 or total >= n_chunks or i == len(base) - 1:
                store.write(batch)
                batch = []
                print(f"\r{total} chunks, {time.perf_counter() - t0:.0f}s", end="", file=sys.stderr, flush=True)
            if total >= n_chunks:
                break
        copy += 1
    store.close()
    tmp.rename(SQLiteStore.db_path(directory))
    print(file=sys.stderr)


def child_open(directory: Path) -> None:
    """Run in a fresh process: how long opening takes and what it costs in memory."""
    from index.sqlite import SQLiteStore

    rss0 = peak_rss_mb()
    t = time.perf_counter()
    store = SQLiteStore.open(directory, _analyzer(), quick_check=False)
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    problems = [r[0] for r in store._conn().execute("PRAGMA quick_check").fetchall()]
    qc_s = time.perf_counter() - t
    qvecs = np.load(directory / "queries.npy")
    lat = []
    for _ in range(3):
        for q, v in zip(QUERIES, qvecs, strict=False):
            t = time.perf_counter()
            with store.reading():
                store.search_dense(v, 50)
                store.search_lexical(q, 50)
            lat.append(time.perf_counter() - t)
    print(json.dumps({"open_s": open_s, "quick_check_s": qc_s, "quick_check": problems[:1],
                      "rss_before_mb": rss0, "rss_after_open_mb": peak_rss_mb(),
                      "search_p50_ms": 1000 * statistics.median(lat),
                      "dense_index_mb": store.dense_bytes() / 1e6}))


def measure(directory: Path, rounds: int, distractors: Path) -> dict[str, float]:
    from index.sqlite import SQLiteStore
    from index.store import ArticleWrite
    from rag.chunking import ChunkParams, chunk_article
    from rag.retrieve import HybridRetriever
    from rag.types import Article

    questions = _questions(distractors)
    qvecs = _embedder().embed_queries(questions)
    _embedder().save()
    np.save(directory / "queries.npy", qvecs)
    def open_in_child() -> dict:
        child = subprocess.run([sys.executable, __file__, "--open-only", "--dir", str(directory)],
                               capture_output=True, text=True, check=True)
        return json.loads(child.stdout.strip().splitlines()[-1])

    # A big index builds and saves its inverted file on the first open; later opens read it.
    SQLiteStore.db_path(directory).with_name("zhrag.db.dense").unlink(missing_ok=True)
    first = open_in_child()
    opened = open_in_child()
    store = SQLiteStore.open(directory, _analyzer(), quick_check=False)
    stats = store.stats()
    rng = np.random.default_rng(2)
    text = "朝阳区总工会举办职工篮球赛，共有三十支队伍参赛。" * 30  # about 3 chunks

    def new_article(i: int) -> ArticleWrite:
        a = Article(f"bench-new-{i}-{time.time_ns()}", "新文章", text, "bench", given_id=True)
        cs = tuple(chunk_article(a, ChunkParams()))
        return ArticleWrite(a, cs, _unit(rng, len(cs)), "default", f"bench:{a.doc_id}", "")

    adds, deletes = [], []
    for i in range(rounds):
        w = new_article(i)
        t = time.perf_counter()
        store.write([w])
        adds.append(time.perf_counter() - t)
        t = time.perf_counter()
        store.delete([w.article.doc_id])
        deletes.append(time.perf_counter() - t)

    qv = list(zip(QUERIES, qvecs, strict=False))
    # The service's own hybrid search (both lists, fused), with the query vectors made beforehand.
    retriever = HybridRetriever(store, _Precomputed(dict(qv)))

    def search_once(q: str, v: np.ndarray) -> float:
        t = time.perf_counter()
        retriever.search(q, 5)
        return time.perf_counter() - t

    idle = [search_once(q, v) for _ in range(rounds // 2 or 1) for q, v in qv]
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        i = 0
        while not stop.is_set():
            w = new_article(10_000 + i)
            store.write([w])
            store.delete([w.article.doc_id])
            written[0] += 2
            i += 1
            time.sleep(0.05)

    recall = None
    if getattr(store._dense, "approximate", False):
        # The compressed index against exact flat search over the same stored vectors.
        flat = SQLiteStore.open(directory, _analyzer(), quick_check=False, quantize_above=10**12)
        hits = []
        for v in qvecs:
            exact = {c.id for c, _ in flat.search_dense(v, 10)}
            hits.append(len(exact & {c.id for c, _ in store.search_dense(v, 10)}) / 10)
        recall = float(np.mean(hits))
        flat.close()
        del flat

    th = threading.Thread(target=writer)
    th.start()
    busy = [search_once(q, v) for _ in range(rounds // 2 or 1) for q, v in qv]
    stop.set()
    th.join()
    store.close()
    ms = 1000.0
    return {
        "articles": stats["articles"], "chunks": stats["chunks"],
        "db_size_mb": SQLiteStore.db_path(directory).stat().st_size / 1e6,
        "open_s, first (builds the dense index)": first["open_s"],
        "open_s (fresh process)": opened["open_s"], "quick_check_s": opened["quick_check_s"],
        "rss_after_open_mb (peak, incl. loading)": opened["rss_after_open_mb"],
        "dense index in memory mb": opened["dense_index_mb"],
        "add_1_article_ms_p50 (3 chunks, no embedding)": ms * statistics.median(adds),
        "add_ms_p95": ms * _pct(adds, 0.95),
        "delete_1_article_ms_p50": ms * statistics.median(deletes), "delete_ms_p95": ms * _pct(deletes, 0.95),
        "hybrid_search_ms_p50 idle": ms * statistics.median(idle), "search_ms_p99 idle": ms * _pct(idle, 0.99),
        "hybrid_search_ms_p50 during writes": ms * statistics.median(busy),
        "search_ms_p99 during writes": ms * _pct(busy, 0.99),
        "writes during the busy phase": written[0],
        "dense index": "IVF of 8-bit codes + exact re-score" if recall is not None else "flat float32",
        **({f"recall@10 vs exact search ({len(qvecs)} real questions)": recall} if recall is not None else {}),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=None, help="where the benchmark index is kept")
    ap.add_argument("--distractors", type=Path,
                    default=ROOT.parent / "shared" / "eval-data" / "news-distractors" / "corpus.jsonl")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--open-only", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    directory = args.dir or Path(f"/tmp/zhrag-bench-{args.chunks}")
    if args.open_only:
        child_open(directory)
        return 0
    from index.sqlite import SQLiteStore

    if not SQLiteStore.exists(directory):
        directory.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        build(directory, args.chunks, args.distractors)
        print(f"built in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    figures = measure(directory, args.rounds, args.distractors)
    width = max(map(len, figures))
    print(f"| {'figure':<{width}} | value |\n|{'-' * (width + 2)}|-------|")
    for k, v in figures.items():
        print(f"| {k:<{width}} | {v:.1f} |" if isinstance(v, float) else f"| {k:<{width}} | {v} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
