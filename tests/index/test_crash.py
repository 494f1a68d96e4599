"""Kill a writing process with SIGKILL at random moments: every committed article survives,
and the index holds exactly the state before or after the interrupted change."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import faiss
import pytest

from index.sqlite import SQLiteStore
from rag.chunking import ChunkParams, chunk_text
from rag.embedding import HashingEmbedder
from rag.lexical import analyzer
from rag.pipeline import build_store
from tests.index.crash_worker import text_of

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def _state(directory: Path) -> dict[str, int]:
    """doc_id -> version of what the index holds, after checking it is whole and consistent."""
    store = SQLiteStore.open(directory, analyzer())
    try:
        assert store.check() == []
        out = {}
        for info in store.list_articles(limit=100000):
            a = store.get_article(info.doc_id)
            v = int(a.meta["version"])
            assert a.text == text_of(a.doc_id, v), "an article's text was damaged"
            assert info.chunks == len(chunk_text(a.text, ChunkParams())), "an article lost chunks"
            hits = store.search_lexical(f"标记{a.doc_id}v{v}", 50)
            assert a.doc_id in {c.doc_id for c, _ in hits}, "an article is missing from the lexical index"
            out[a.doc_id] = v
        assert store.stats()["chunks"] == sum(i.chunks for i in store.list_articles(limit=100000))
        return out
    finally:
        store.close()


def _apply(state: dict[str, int], op: str, doc_id: str, version: int) -> dict[str, int]:
    new = dict(state)
    if op == "delete":
        new.pop(doc_id, None)
    else:
        new[doc_id] = version
    return new


def _check_big_index(directory: Path, expect: dict[str, int]) -> None:
    """The big-index kind opens from whatever a kill left (a whole saved file or none) and
    holds exactly the stored chunks; no temporary file outlives the killed process."""
    store = SQLiteStore.open(directory, analyzer(), quantize_above=0)
    try:
        rows = store._conn().execute(
            "SELECT c.id, c.chunk_id, c.vector, a.doc_id FROM chunks c JOIN articles a ON a.id = c.article").fetchall()
        assert set(store._dense._pos) == {r[0] for r in rows}, "the dense index differs from the stored chunks"
        assert {r[3] for r in rows} == set(expect)
        # Every stored chunk has its code in the inverted file, and no deleted one is left unmasked.
        # (A kill before the first commit leaves an empty store, which has no inverted file.)
        if rows:
            ivf, dense = store._dense._ivf, store._dense
            lists = ivf.invlists
            coded = {int(p) for li in range(ivf.nlist)
                     for p in faiss.rev_swig_ptr(lists.get_ids(li), lists.list_size(li))}
            live = {dense._pos[r[0]] for r in rows}
            assert live <= coded, "stored chunks missing from the inverted file"
            assert dense._dead or coded == live, "deleted rows left in the inverted file without a mask"
    finally:
        store.close()
    assert not list(directory.glob("*.tmp-*"))


@pytest.mark.parametrize("mode", ["plain", "snapshot"])
def test_sigkill_mid_write_keeps_every_committed_article(tmp_path, mode):
    directory = tmp_path / "idx"
    build_store(directory, HashingEmbedder(), ChunkParams(), fill=lambda s: None).close()
    rnd = random.Random(7)
    state: dict[str, int] = {}
    interrupted = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-m", "tests.index.crash_worker", str(directory), str(round_), mode],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
        time.sleep(rnd.uniform(0.05, 0.8))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        before = dict(state)
        pending = None
        saving = False
        for line in out.splitlines():
            # Only the worker's own lines count; anything else a library prints is ignored.
            if not re.fullmatch(r"(BEGIN|DONE) (add|replace|delete|save) \S+ \d+", line):
                continue
            word, op, doc_id, version = line.split()
            if op == "save":
                saving = word == "BEGIN"
            elif word == "BEGIN":
                pending = (op, doc_id, int(version))
            else:
                before = _apply(before, op, doc_id, int(version))
                pending = None
        after = _apply(before, *pending) if pending else before
        got = _state(directory)
        assert got in (before, after), f"round {round_}: state is neither before nor after the interrupted change"
        interrupted += (pending is not None and before != after) or saving
        state = got
        if mode == "snapshot":
            _check_big_index(directory, got)
    assert state, "the worker never committed anything"
    assert interrupted >= KILLS // 2, f"only {interrupted} kills landed inside a change"
