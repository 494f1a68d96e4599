"""Rerank: read the question and each of the fused top passages together (a cross-encoder).

The fused ranking scores question and passage apart (one e5 vector each, BM25 terms), so a
passage that merely resembles the question can lead. A cross-encoder attends across both
and can tell them apart, at the price of one encoder pass per passage. No reranker ships
in a registry package, so the project trains one (``zhrag train-reranker``, on DRCD only):
the lower layers of the same multilingual-e5-small the embedder uses, with a LoRA adapter
and a one-logit head on ``<s>``; ``rag/reranker_model/`` carries the adapter, the head and
the training record, not a model.

Only the lower layers are kept because two cores allow about 150 ms per question: the
first four of e5's twelve layers read five passages of 192-256 tokens in 90-130 ms here
(all twelve take 310-400 ms).

The final order of the top passages is the cross-encoder's logit plus ``prior`` times the
fused score's z-score among them: the fusion keeps a say, since it sees exact words and
the full embedder the small reader lacks.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rag.reader import ReaderParams, encode_pair, load_trainable, lora_targets, pad_batch, with_lora
from rag.types import Filters, Hit

if TYPE_CHECKING:
    from rag.retrieve import Mode

log = logging.getLogger(__name__)

RERANKER_DIR = Path(__file__).with_name("reranker_model")


@dataclass(frozen=True)
class RerankParams:
    """``top``: fused passages reread per question; ``prior``: weight of the fused score's
    z-score beside the cross-encoder's logit; lengths in tokens (a chunk of 300 characters
    is about 200 tokens with its title)."""

    layers: int = 4
    top: int = 5
    prior: float = 3.0  # chosen on held-out DRCD (eval/RESULTS.md, "A trained reranker")
    max_question_tokens: int = 48
    max_context_tokens: int = 200

    def reader_params(self) -> ReaderParams:
        return ReaderParams(max_question_tokens=self.max_question_tokens, max_context_tokens=self.max_context_tokens)


class Reranker(Protocol):
    """Scores passages against a question; higher is more likely to answer it."""

    params: RerankParams

    def scores(self, question: str, passages: Sequence[str]) -> list[float]: ...


def build_model(base_dir: Path, *, layers: int, r: int = 16, alpha: int = 32, dropout: float = 0.05) -> Any:
    """e5's first ``layers`` layers with LoRA pairs on all their linear layers, and a
    relevance head on the ``<s>`` token."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(base_dir), add_pooling_layer=False)
    encoder.encoder.layer = encoder.encoder.layer[:layers]
    encoder.config.num_hidden_layers = layers
    encoder = with_lora(encoder, r=r, alpha=alpha, dropout=dropout, targets=lora_targets(range(layers)))

    class CrossEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

        def forward(self, ids: Any, mask: Any) -> Any:
            h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state[:, 0]
            return self.head(h).squeeze(-1)

    return CrossEncoder()


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]], p: RerankParams) -> tuple[Any, Any]:
    """(question, passage) pairs as one padded id tensor and its mask, a row per pair."""
    rp = p.reader_params()
    rows = [encode_pair(tokenizer, question, text, rp)[0] for question, text in pairs]
    return pad_batch(rows, tokenizer.pad_token_id)


class E5CrossEncoder:
    """The trained reranker: the encoder's converted folder plus ``rag/reranker_model/``."""

    def __init__(self, base_dir: Path, weights_dir: Path = RERANKER_DIR, params: RerankParams | None = None) -> None:
        import torch
        from transformers import AutoTokenizer

        record = json.loads((weights_dir / "reranker.json").read_text(encoding="utf-8"))
        self.params = params or RerankParams(**record["params"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
        self.model = build_model(base_dir, layers=self.params.layers, **record["lora"])
        load_trainable(self.model, weights_dir)
        self.model.eval()
        self._torch = torch
        self._lock = threading.Lock()

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        if not passages:
            return []
        ids, mask = encode_pairs(self.tokenizer, [(question, text) for text in passages], self.params)
        with self._lock, self._torch.inference_mode():
            return [float(x) for x in self.model(ids, mask)]


def rerank(question: str, hits: Sequence[Hit], reranker: Reranker, params: RerankParams | None = None) -> list[Hit]:
    """The top ``params.top`` hits reordered by logit + prior · z(fused score); the rest keep their order."""
    p = params or reranker.params
    head, tail = list(hits[: p.top]), list(hits[p.top:])
    if len(head) < 2:
        return list(hits)
    logits = reranker.scores(question, [h.chunk.embedding_text() for h in head])
    return [head[i] for i in reorder(logits, [h.score for h in head], p.prior)] + tail


def reorder(logits: Sequence[float], fused: Sequence[float], prior: float) -> list[int]:
    """Indices of the passages by logit + prior · z(fused score), best first (ties keep the fused order)."""
    f = np.asarray(fused, dtype=np.float64)
    final = np.asarray(logits, dtype=np.float64) + prior * (f - f.mean()) / (f.std() or 1.0)
    return [int(i) for i in np.argsort(-final, kind="stable")]


class RerankingRetriever:
    """A retriever whose top passages a cross-encoder rereads (see :func:`rerank`)."""

    def __init__(self, inner: Any, reranker: Reranker, params: RerankParams | None = None) -> None:
        self.inner = inner
        self.reranker = reranker
        self.params = params or reranker.params

    def search(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]:
        hits = self.inner.search(query, max(k, self.params.top), filters)
        return rerank(query, hits, self.reranker, self.params)[:k]

    def with_mode(self, mode: Mode) -> RerankingRetriever | Any:
        """Hybrid stays reranked; "dense" and "bm25" (the search endpoint's debugging modes) show that list alone."""
        inner = self.inner.with_mode(mode)
        return RerankingRetriever(inner, self.reranker, self.params) if mode == "hybrid" else inner


def load_reranker(base_dir: Path) -> Reranker | None:
    """The trained reranker, or None (with a warning) when its weights are missing."""
    if not (RERANKER_DIR / "adapter.safetensors").exists():
        log.warning("no reranker weights in %s; the fused ranking stands", RERANKER_DIR)
        return None
    return E5CrossEncoder(base_dir)
