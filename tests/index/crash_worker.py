"""Run by test_crash.py in a child process: add, replace and delete articles in a loop,
printing BEGIN before each change and DONE after its commit, until it is killed. With
``snapshot``, the dense index is the big-index kind and is saved after every change."""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

from index.sqlite import SQLiteStore
from rag.chunking import ChunkParams
from rag.embedding import HashingEmbedder
from rag.indexing import Indexer
from rag.lexical import analyzer
from rag.types import Article


def text_of(doc_id: str, version: int) -> str:
    """Several chunks' worth, so a kill can land between one article's rows."""
    body = "".join(f"{doc_id}号文章第{version}版第{i}段，朝阳区工会开展职工技能竞赛，参赛职工{i * 37 + version}人。"
                   for i in range(40))
    return f"{body}标记{doc_id}v{version}。"


def say(line: str) -> None:
    """One write(2) per line, so a kill can never leave half a line or a line split in two."""
    os.write(1, f"{line}\n".encode())


def main(directory: str, seed: int, snapshot: bool) -> None:
    store = SQLiteStore.open(Path(directory), analyzer(), quantize_above=0 if snapshot else 10**12)
    indexer = Indexer(store, HashingEmbedder(), ChunkParams())
    rnd = random.Random(seed)
    live = {a.doc_id: int(a.meta["version"]) for a in (store.get_article(i.doc_id) for i in store.list_articles(
        limit=100000)) if a is not None}
    n = 0
    analyzer()("预热")  # load jieba's dictionary before the clock starts
    say("READY")
    while True:
        n += 1
        op = rnd.choice(["add", "add", "replace", "delete"]) if live else "add"
        if op == "add":
            doc_id, version = f"s{seed}n{n}", 1
        else:
            doc_id = rnd.choice(sorted(live))
            version = live[doc_id] + 1
        say(f"BEGIN {op} {doc_id} {version}")
        if op == "delete":
            store.delete([doc_id])
            del live[doc_id]
        else:
            indexer.add_articles([Article.make("题", text_of(doc_id, version), doc_id=doc_id,
                                               meta={"version": version})])
            live[doc_id] = version
        say(f"DONE {op} {doc_id} {version}")
        if snapshot:
            say(f"BEGIN save {doc_id} {version}")
            store.save_dense()
            say(f"DONE save {doc_id} {version}")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3:] == ["snapshot"])
