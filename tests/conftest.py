"""Shared fixtures. Fast tests use the deterministic hashing embedder; tests marked
``slow`` load the real e5 model once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED_PAGE = next(SEEDS.glob("*.txt"))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Fast tests answer with the rules' short answers (the span reader loads the real encoder);
# the reader's own tests and the real-model tests ask for it by name.
os.environ.setdefault("ZHRAG_SHORT_ANSWERS", "rules")


@pytest.fixture(scope="session")
def seed_articles():
    from rag.ingest import ingest_paths

    report = ingest_paths([SEEDS])
    assert not report.errors
    return report.articles


def store_of(directory: Path, embedder, articles):
    """A fresh knowledge base in ``directory`` holding ``articles`` (chunked and embedded)."""
    from rag.chunking import ChunkParams
    from rag.indexing import Indexer
    from rag.pipeline import build_store

    return build_store(directory, embedder, ChunkParams(),
                       fill=lambda s: Indexer(s, embedder, ChunkParams()).add_articles(list(articles)))


def hashing_settings(tmp: Path, **kw) -> Settings:
    return Settings(**{"index_dir": tmp / "index", "cache_dir": tmp / "cache", "seeds_dir": SEEDS,
                       "embed_model": "hashing", **kw})


@pytest.fixture()
def hashing_engine(tmp_path):
    from rag.pipeline import load_engine

    return load_engine(hashing_settings(tmp_path))


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """The real model is converted once per session into the user's cache (reused across runs)."""
    from rag.settings import _default_cache

    return _default_cache()


@pytest.fixture(scope="session")
def e5(model_cache):
    from rag.embedding import load_embedder

    return load_embedder("e5-small", cache_dir=model_cache)


class LiveServer:
    """uvicorn serving an app on a free loopback port, in a thread, for real HTTP clients."""

    def __init__(self, app) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.time() + 60
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture()
def live_server(tmp_path):
    from api.main import create_app

    with LiveServer(create_app(hashing_settings(tmp_path))) as server:
        yield server
