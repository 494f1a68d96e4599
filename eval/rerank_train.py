"""Training the reranker (rag/rerank.py) on DRCD, reproducibly on two CPU cores.

Each training question gives a group of passages cut the way the index cuts them (DRCD
paragraphs as articles, rag/chunking.py's chunks, title first): the chunk that holds the
gold answer and ``negatives`` that do not, the hardest ones the fused ranking would also
meet: BM25's best chunks of other paragraphs (look-alikes sharing the question's words)
and, one time in two, another chunk of the same article (same subject, other facts). The
loss is the softmax cross-entropy of the group: the answering chunk should outscore every
look-alike.

DRCD is Traditional Chinese: converted to Simplified (opencc t2s) as the reader's data is.
The questions of the last ``holdout_paragraphs`` paragraphs of DRCD_test are held out (the
same ones the reader never saw): the held-out MRR printed after each epoch comes from them,
and ``RerankParams.prior`` is chosen on them (``zhrag eval`` on results/sets/drcd-test-held).
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from eval.metrics import mrr_at_k
from eval.training import Optimiser, save_adapter
from rag.chunking import ChunkParams, chunk_text
from rag.lexical import tokenize
from rag.rerank import RERANKER_DIR, RerankParams, build_model, encode_pairs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Group:
    question: str
    passages: tuple[str, ...]  # the answering chunk first


@dataclass(frozen=True)
class TrainParams:
    epochs: int = 1
    questions: int = 3000  # training questions used (a seeded sample); 0: all
    groups_per_batch: int = 4
    negatives: int = 3
    lr: float = 5e-4
    lora_r: int = 16
    lora_alpha: int = 32
    holdout_paragraphs: int = 150
    bm25_depth: int = 8
    seed: int = 0


class _BM25:
    """Enough BM25 to mine look-alikes (k1 1.2, b 0.75) over the training chunks."""

    def __init__(self, docs: Sequence[list[str]]) -> None:
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.lengths = [len(d) for d in docs]
        self.avg = sum(self.lengths) / max(1, len(docs))
        for i, d in enumerate(docs):
            for term, tf in Counter(d).items():
                self.postings[term].append((i, tf))
        self.n = len(docs)

    def top(self, terms: Sequence[str], k: int) -> list[int]:
        scores: dict[int, float] = defaultdict(float)
        for term in set(terms):
            post = self.postings.get(term, [])
            if not post:
                continue
            idf = math.log(1 + (self.n - len(post) + 0.5) / (len(post) + 0.5))
            for i, tf in post:
                scores[i] += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * self.lengths[i] / self.avg))
        return sorted(scores, key=lambda i: -scores[i])[:k]


def drcd_groups(paths: Sequence[Path], p: TrainParams, chunking: ChunkParams | None = None
                ) -> tuple[list[Group], list[Group]]:
    """(training groups, held-out groups); held-out groups hold every BM25 look-alike found
    (up to ``bm25_depth``) so their MRR is that of reordering a realistic candidate list."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    rng = random.Random(p.seed)
    chunks: list[tuple[int, int, str]] = []  # (paragraph, article, "title\nchunk")
    asked: list[tuple[int, str, tuple[str, ...], int]] = []  # (paragraph, question, answers, answer start)
    paragraphs: list[str] = []
    n_article = 0
    for path in paths:
        for article in json.loads(Path(path).read_text(encoding="utf-8"))["data"]:
            title = t2s.convert(article.get("title", ""))
            for para in article["paragraphs"]:
                pi = len(paragraphs)
                text = t2s.convert(para["context"])
                paragraphs.append(text)
                chunks.extend((pi, n_article, f"{title}\n{text[s:e]}" if title else text[s:e])
                              for s, e in chunk_text(text, chunking or ChunkParams()))
                for qa in para["qas"]:
                    answers = tuple(dict.fromkeys(t2s.convert(a["text"]) for a in qa["answers"]))
                    asked.append((pi, t2s.convert(qa["question"]), answers, qa["answers"][0]["answer_start"]))
            n_article += 1
    held_from = len(paragraphs) - p.holdout_paragraphs
    index = _BM25([tokenize(c[2]) for c in chunks])
    by_paragraph: dict[int, list[int]] = defaultdict(list)
    by_article: dict[int, list[int]] = defaultdict(list)
    for i, (pi, ai, _) in enumerate(chunks):
        by_paragraph[pi].append(i)
        by_article[ai].append(i)
    train: list[Group] = []
    held: list[Group] = []
    for pi, question, answers, start in asked:
        holding = [i for i in by_paragraph[pi] if any(a in chunks[i][2] for a in answers)]
        if not holding:
            continue
        # the chunk whose share of the paragraph is nearest the answer's position
        pos = [i for i in holding if answers[0] in chunks[i][2]] or holding
        gold = pos[min(len(pos) - 1, int(len(pos) * start / max(1, len(paragraphs[pi]))))]
        looks = [i for i in index.top(tokenize(question), p.bm25_depth + 4)
                 if chunks[i][0] != pi and not any(a in chunks[i][2] for a in answers)][: p.bm25_depth]
        if pi >= held_from:
            held.append(Group(question, (chunks[gold][2], *(chunks[i][2] for i in looks))))
            continue
        same = [i for i in by_article[chunks[gold][1]]
                if i != gold and not any(a in chunks[i][2] for a in answers)]
        negs: list[int] = []
        if same and rng.random() < 0.5:
            negs.append(rng.choice(same))
        pool = [i for i in looks if i not in negs]
        negs += pool[: p.negatives - len(negs)]
        if len(negs) < p.negatives:
            continue
        train.append(Group(question, (chunks[gold][2], *(chunks[i][2] for i in negs))))
    return train, held


def evaluate(model, tokenizer, groups: Sequence[Group], rp: RerankParams) -> dict:
    """MRR@10 and hit@1 of the answering chunk when the reranker orders each held-out group
    (the chunk and its BM25 look-alikes)."""
    import torch

    model.eval()
    mrr = hit = 0.0
    with torch.inference_mode():
        for g in groups:
            ids, mask = encode_pairs(tokenizer, [(g.question, text) for text in g.passages], rp)
            s = model(ids, mask).tolist()
            ranking = sorted(range(len(s)), key=lambda i: -s[i])
            mrr += mrr_at_k([str(i) for i in ranking], {"0"}, 10)
            hit += ranking[0] == 0
    model.train()
    n = max(1, len(groups))
    return {"groups": len(groups), "mrr@10": round(mrr / n, 4), "hit@1": round(hit / n, 4)}


def train(drcd_files: Sequence[Path], base_dir: Path, out_dir: Path = RERANKER_DIR, p: TrainParams | None = None,
          rp: RerankParams | None = None, *, limit: int | None = None) -> dict:
    """Fit the adapter and head, write ``adapter.safetensors`` and ``reranker.json``."""
    import torch
    from tqdm import tqdm
    from transformers import AutoTokenizer

    p = p or TrainParams()
    rp = rp or RerankParams()
    torch.manual_seed(p.seed)
    rng = random.Random(p.seed)
    t0 = time.time()
    groups, held = drcd_groups(drcd_files, p)
    if p.questions and p.questions < len(groups):
        groups = rng.sample(groups, p.questions)
    if limit is not None:
        groups, held = groups[:limit], held[: max(4, limit // 4)]
    log.info("reranker: %d training groups, %d held out", len(groups), len(held))
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    model = build_model(base_dir, layers=rp.layers, r=p.lora_r, alpha=p.lora_alpha)
    per_epoch = (len(groups) + p.groups_per_batch - 1) // p.groups_per_batch
    steps = p.epochs * per_epoch
    optimiser = Optimiser(model, p.lr, steps)
    before = evaluate(model, tokenizer, held, rp)
    log.info("reranker before training: %s", before)
    model.train()
    history = []
    bar = tqdm(total=steps, desc="training the reranker", unit="step")
    size = 1 + p.negatives
    for epoch in range(p.epochs):
        order = groups[:]
        rng.shuffle(order)
        total = 0.0
        for b in range(per_epoch):
            batch = order[b * p.groups_per_batch:(b + 1) * p.groups_per_batch]
            ids, mask = encode_pairs(tokenizer, [(g.question, text) for g in batch for text in g.passages], rp)
            logits = model(ids, mask).view(len(batch), size)
            loss = optimiser.step(torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long)))
            total += loss
            bar.update(1)
            bar.set_postfix(loss=f"{loss:.3f}")
        scores = evaluate(model, tokenizer, held, rp)
        history.append({"epoch": epoch + 1, "loss": round(total / max(1, per_epoch), 4), **scores})
        log.info("reranker epoch %d: %s", epoch + 1, history[-1])
    bar.close()
    record = {
        "base_model": base_dir.name, "lora": {"r": p.lora_r, "alpha": p.lora_alpha}, "params": asdict(rp),
        "train": asdict(p),
        "data": {"files": [Path(f).name for f in drcd_files], "training_groups": len(groups),
                 "held_out_groups": len(held)},
        "held_out_before": before, "history": history, "seconds": round(time.time() - t0),
        "command": "zhrag train-reranker",
    }
    save_adapter(model, out_dir, "reranker.json", record)
    return record
