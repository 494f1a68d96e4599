"""Load on a real server: /search, /ask and streaming chat at several concurrencies.

    python bench/load.py                         # 10k-chunk index, c = 1, 4, 16, 15 s each
    python bench/load.py --soak 600              # then /ask at c=4 for 10 minutes, RSS sampled

Starts ``zhrag serve`` (one uvicorn process, the real e5 model) on a free loopback port
over an index of the seed page plus news articles, sends bounded request loops from
client threads, and prints req/s, p50/p95/p99 (for chat: time to the first event and to
the last) and the server's RSS before and after. Loopback only; every loop stops by itself.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = ["密云区工匠学院怎么运作", "首开集团建了多少个工会驿站", "长春市总工会设置了多少个竞赛项目",
             "东城区总工会2025年有什么打算", "九合空间在哪里", "苏家坨镇总工会慰问了哪些单位",
             "首开书院有哪些功能区", "长春市总工会如何留住人才", "新能源汽车销量增长了多少", "台风登陆造成多少人受灾"]


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else float("nan")


def build_index(directory: Path, chunks: int, distractors: Path) -> None:
    """Seeds plus news articles up to about ``chunks`` chunks; vectors from the eval cache when present."""
    from rag.chunking import ChunkParams, chunk_article
    from rag.embedding import CachedEmbedder, load_embedder
    from rag.indexing import Indexer
    from rag.ingest import ingest_paths
    from rag.pipeline import build_store
    from rag.settings import Settings

    s = Settings()
    emb = CachedEmbedder(load_embedder("e5-small", cache_dir=s.cache_dir), s.cache_dir / "embeddings")
    pool = list(ingest_paths([distractors]).articles)
    chosen, n = [], 0
    for a in pool:
        if n >= chunks:
            break
        chosen.append(a)
        n += len(chunk_article(a, ChunkParams()))

    def fill(store) -> None:
        ix = Indexer(store, emb, ChunkParams())
        ix.add_paths([s.seeds_dir], origin="seeds", key_root=s.seeds_dir.parent)
        for i in range(0, len(chosen), 200):
            ix.add_articles(chosen[i:i + 200], progress=True)
            emb.save()

    build_store(directory, emb, ChunkParams(), fill=fill).close()


def rss_mb(pid: int) -> float:
    """RSS of a process and its children (the worker processes of ``--workers``)."""
    total = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            total += int(line.split()[1]) / 1024
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            total += rss_mb(int(child))
    return total


def run(url: str, endpoint: str, concurrency: int, seconds: float) -> dict[str, float]:
    import httpx

    lat: list[float] = []
    first: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds

    def worker(w: int) -> None:
        i = w
        with httpx.Client(base_url=url, timeout=60) as http:
            while time.monotonic() < stop:
                q = QUESTIONS[i % len(QUESTIONS)]
                i += concurrency
                t = time.perf_counter()
                try:
                    if endpoint == "search":
                        r = http.get("/search", params={"q": q, "k": 5})
                        ok = r.status_code == 200
                    elif endpoint == "ask":
                        r = http.post("/ask", json={"question": q})
                        ok = r.status_code == 200
                    else:
                        ok, got_first = False, False
                        with http.stream("POST", "/v1/chat/completions",
                                         json={"messages": [{"role": "user", "content": q}], "stream": True}) as r:
                            for line in r.iter_lines():
                                if line.startswith("data:") and not got_first:
                                    first.append(time.perf_counter() - t)
                                    got_first = True
                                if line.strip() == "data: [DONE]":
                                    ok = True
                except httpx.HTTPError:
                    ok = False
                if ok:
                    lat.append(time.perf_counter() - t)
                else:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    out = {"req/s": len(lat) / wall, "p50 ms": 1000 * statistics.median(lat) if lat else float("nan"),
           "p95 ms": 1000 * _pct(lat, 0.95), "p99 ms": 1000 * _pct(lat, 0.99), "errors": errors[0]}
    if first:
        out["first event p50 ms"] = 1000 * statistics.median(first)
        out["first event p95 ms"] = 1000 * _pct(first, 0.95)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=10_000)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--concurrency", default="1,4,16")
    ap.add_argument("--endpoints", default="search,ask,chat")
    ap.add_argument("--workers", type=int, default=1, help="server processes (zhrag serve --workers)")
    ap.add_argument("--soak", type=float, default=0, help="then /ask at concurrency 4 for this many seconds")
    ap.add_argument("--questions-from", type=Path, default=None,
                    help="an evaluation set whose questions to ask instead (none repeats: no warm caches)")
    ap.add_argument("--distractors", type=Path,
                    default=ROOT.parent / "shared" / "eval-data" / "news-distractors" / "corpus.jsonl")
    args = ap.parse_args(argv)
    if args.questions_from:
        from eval.data import load_queries

        QUESTIONS[:] = [q.question for q in load_queries(args.questions_from)][:5000]
    directory = args.dir or Path(tempfile.gettempdir()) / f"zhrag-load-{args.chunks}"
    from index.sqlite import SQLiteStore

    if not SQLiteStore.exists(directory):
        build_index(directory, args.chunks, args.distractors)
    with socket.socket() as sck:
        sck.bind(("127.0.0.1", 0))
        port = sck.getsockname()[1]
    env = {**os.environ, "ZHRAG_INDEX_DIR": str(directory), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve", "--port", str(port),
                               "--workers", str(args.workers)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.time() + 180
        while True:
            try:
                health = httpx.get(url + "/health", timeout=2).json()
                break
            except httpx.HTTPError:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.5)
        run(url, "ask", 2, 3)  # warm-up
        rss0 = rss_mb(server.pid)
        print(f"index: {health['articles']} articles, {health['chunks']} chunks; server RSS {rss0:.0f} MB\n")
        print("| endpoint | concurrency | req/s | p50 ms | p95 ms | p99 ms | first event p50 / p95 ms | errors |")
        print("|---|---|---|---|---|---|---|---|")
        for ep in args.endpoints.split(","):
            for c in map(int, args.concurrency.split(",")):
                m = run(url, ep, c, args.seconds)
                fe = (f"{m['first event p50 ms']:.0f} / {m['first event p95 ms']:.0f}"
                      if "first event p50 ms" in m else "")
                print(f"| {ep} | {c} | {m['req/s']:.1f} | {m['p50 ms']:.0f} | {m['p95 ms']:.0f} | {m['p99 ms']:.0f} "
                      f"| {fe} | {m['errors']} |", flush=True)
        print(f"\nserver RSS before {rss0:.0f} MB, after {rss_mb(server.pid):.0f} MB")
        if args.soak:
            samples = []
            t_end = time.monotonic() + args.soak
            while time.monotonic() < t_end:
                run(url, "ask", 4, min(30, t_end - time.monotonic()))
                samples.append(rss_mb(server.pid))
            print("soak /ask c=4: RSS MB every 30 s: " + ", ".join(f"{x:.0f}" for x in samples))
            print(json.dumps({"rss_first_mb": samples[0], "rss_last_mb": samples[-1],
                              "growth_pct": 100 * (samples[-1] / samples[0] - 1)}))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
