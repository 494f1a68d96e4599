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


@pytest.fixture(scope="session")
def seed_articles():
    from rag.ingest import ingest_paths

    report = ingest_paths([SEEDS])
    assert not report.errors
    return report.articles


def hashing_settings(tmp: Path, **kw) -> Settings:
    return Settings(index_dir=tmp / "index", cache_dir=tmp / "cache", seeds_dir=SEEDS, embed_model="hashing", **kw)


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
