"""The span reader: which words of a cited sentence answer the question ("167个").

A small LoRA adapter and a start/end head over the same multilingual-e5-small encoder the
embedder uses (no reading-comprehension model ships in a registry package, and the
repository should carry megabytes, not a model). The adapter is trained by
``zhrag train-reader`` on DRCD (``../shared/train-data/``, converted to Simplified); the
weights and the training record live in ``rag/reader_model/``.

The reader reads one sentence at a time, as the composer cites them, and can say "no
answer here" (the start/end of the ``<s>`` token, as in SQuAD 2.0 readers): among the
cited sentences the span whose score beats its sentence's no-answer score by the most
wins. That margin is returned with the span; the composer decides what it is enough for
(``ComposeParams.short_answer_margin``). The composer may also say which spans it can use
(``accept``: a figure for "多久", not an age): the best of those wins then, and the best of
all is kept beside it, for the answer gate.
"""

from __future__ import annotations

import json
import logging
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

READER_DIR = Path(__file__).with_name("reader_model")


@dataclass(frozen=True)
class ReaderParams:
    """Lengths in tokens.

    A Chinese character is about one token; a cited sentence is rarely over 150 characters
    and a question rarely over 40, so 64 + 192 covers nearly all without windows (a longer
    sentence is cut, its answer then missed rather than guessed)."""

    max_question_tokens: int = 64
    max_context_tokens: int = 192
    max_answer_tokens: int = 30


@dataclass(frozen=True)
class Span:
    """A short answer: which sentence (index into the list read), where in it, and by how
    much (in logits) its score beats that sentence's no-answer score. ``best`` is the reader's
    best span of all, when ``accept`` passed over it (the answer gate reads its margin)."""

    sentence: int
    start: int
    end: int
    margin: float
    best: Span | None = None

    @property
    def top(self) -> Span:
        """The reader's best span of all: this one, or the one ``accept`` passed over."""
        return self if self.best is None else self.best

    @property
    def best_margin(self) -> float:
        return self.top.margin


# Which spans a reader should prefer: (sentence index, char start, char end) -> acceptable.
Accept = Callable[[int, int, int], bool]

# Spans of a sentence offered to ``accept``, best first: past the twentieth, a span's score
# is far below the best one's (ten starts by ten ends are scored).
MAX_TRIED = 20


class SpanReader(Protocol):
    """Finds the words that answer a question in the sentences an answer cites."""

    def read(self, question: str, sentences: Sequence[str], accept: Accept | None = None) -> Span | None:
        """The best span of any sentence, however weak (None only when there is nothing to
        read). With ``accept``, the best span it accepts, even when spans it refuses score
        higher ("多久能好" is answered "一周多时间", not the "六岁的" the reader likes best); the
        best of all when it accepts none (the caller can tell: ``accept`` refuses it)."""
        ...


# multilingual-e5-small's depth: the layers an adapter can cover (the reader's all of them,
# the reranker's first few).
E5_LAYERS = 12


def lora_targets(layers: Sequence[int] | None = None) -> str:
    """The modules that get a LoRA pair: every linear layer (attention and feed-forward) of
    the BERT layers named, or of all of them."""
    which = r"\d+" if layers is None else "(" + "|".join(str(n) for n in layers) + ")"
    return (rf".*encoder\.layer\.{which}\.(attention\.self\.(query|key|value)|attention\.output\.dense"
            r"|intermediate\.dense|output\.dense)")


def pad_batch(rows: Sequence[Sequence[int]], pad_id: int) -> tuple[Any, Any]:
    """Token rows as one padded id tensor and its attention mask."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for k, r in enumerate(rows):
        ids[k, : len(r)] = torch.tensor(r)
        mask[k, : len(r)] = 1
    return ids, mask


def encode_pair(tokenizer: Any, question: str, context: str, p: ReaderParams) -> tuple[list[int], list[tuple[int, int]], int]:
    """``<s> query: question </s> context </s>``: the ids, each id's character span in the
    context ((0, 0) outside it) and the index of the context's first token.

    Built by hand rather than with the tokenizer's pair template, which the converted e5
    tokenizer does not define; "query: " is the prefix e5 was trained to see on questions."""
    q = tokenizer("query: " + question, add_special_tokens=False)["input_ids"][: p.max_question_tokens]
    c = tokenizer(context, add_special_tokens=False, return_offsets_mapping=True)
    c_ids = c["input_ids"][: p.max_context_tokens]
    c_off = [tuple(o) for o in c["offset_mapping"][: p.max_context_tokens]]
    ids = [tokenizer.bos_token_id, *q, tokenizer.eos_token_id, *c_ids, tokenizer.eos_token_id]
    first = len(q) + 2
    offsets = [(0, 0)] * first + c_off + [(0, 0)]
    return ids, offsets, first


def with_lora(encoder: Any, *, r: int, alpha: int, dropout: float, targets: str) -> Any:
    """``encoder`` wrapped by peft with LoRA pairs on the linear layers ``targets`` names.

    peft asks transformers 5 for ``is_gradient_checkpointing``, deprecated there; the warning
    is about peft's code, not ours, and would be printed on every `zhrag ask`, so it is
    silenced here, for the reader and the reranker alike."""
    from peft import LoraConfig, get_peft_model

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(encoder, LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout,
                                                  target_modules=targets))


def build_model(base_dir: Path, *, r: int = 16, alpha: int = 32, targets: str | None = None,
                dropout: float = 0.05) -> Any:
    """The e5 encoder with LoRA pairs on the linear layers ``targets`` names, plus a start/end head."""
    import torch
    from transformers import AutoModel

    encoder = AutoModel.from_pretrained(str(base_dir), add_pooling_layer=False)
    encoder = with_lora(encoder, r=r, alpha=alpha, dropout=dropout, targets=targets or lora_targets())

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.head = torch.nn.Linear(encoder.config.hidden_size, 2)

        def forward(self, ids: Any, mask: Any) -> tuple[Any, Any]:
            h = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            start, end = self.head(h).unbind(-1)
            return start, end

    return Reader()


def trainable_state(model: Any) -> dict[str, Any]:
    """Only what training changed (LoRA pairs and the head): what the repository carries."""
    return {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()
            if "lora_" in k or k.startswith("head.")}


def load_trainable(model: Any, weights_dir: Path) -> None:
    """Load ``adapter.safetensors`` (what :func:`trainable_state` saved) into ``model``;
    weights that do not fit it (a LoRA pair or the head missing, a name it lacks) are refused."""
    from safetensors.torch import load_file

    missing = model.load_state_dict(load_file(str(weights_dir / "adapter.safetensors")), strict=False)
    if missing.unexpected_keys or any("lora_" in k or k.startswith("head.") for k in missing.missing_keys):
        raise ValueError(f"weights in {weights_dir} do not fit the model: {missing}")


def best_spans(start: Any, end: Any, offsets: Sequence[tuple[int, int]], first: int,
               max_answer_tokens: int) -> list[tuple[int, int, float]]:
    """The context spans of the ten best starts and the ten best ends, best first by start +
    end logit minus the no-answer score (``<s>``'s start + end): (char start, char end, margin)."""
    null = float(start[0] + end[0])
    n = len(offsets) - 1  # the closing </s>
    s_top = sorted(range(first, n), key=lambda i: -float(start[i]))[:10]
    e_top = sorted(range(first, n), key=lambda i: -float(end[i]))[:10]
    spans = sorted(((float(start[i] + end[j]), i, j) for i in s_top for j in e_top
                    if i <= j < i + max_answer_tokens), key=lambda t: -t[0])
    return [(offsets[i][0], offsets[j][1], sc - null) for sc, i, j in spans]


def best_span(start: Any, end: Any, offsets: Sequence[tuple[int, int]], first: int,
              max_answer_tokens: int) -> tuple[int, int, float] | None:
    """The context span with the highest start + end logit (:func:`best_spans`' first)."""
    spans = best_spans(start, end, offsets, first, max_answer_tokens)
    return spans[0] if spans else None


class E5SpanReader:
    """The trained reader: loads the encoder's converted folder and the adapter once."""

    def __init__(self, base_dir: Path, weights_dir: Path = READER_DIR, params: ReaderParams | None = None,
                 *, merge: bool = True) -> None:
        import torch
        from transformers import AutoTokenizer

        record = json.loads((weights_dir / "reader.json").read_text(encoding="utf-8"))
        self.params = params or ReaderParams(**record.get("params", {}))
        self.tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
        self.model = build_model(base_dir, **record["lora"])
        load_trainable(self.model, weights_dir)
        self.model.eval()
        if merge:
            # The LoRA pairs folded into the encoder's own weights: the same outputs (to float
            # rounding) for the cost of the plain encoder, whichever layers the adapter covers.
            self.model.encoder = self.model.encoder.merge_and_unload()
        self._torch = torch
        self._lock = threading.Lock()

    def read(self, question: str, sentences: Sequence[str], accept: Accept | None = None) -> Span | None:
        if not sentences:
            return None
        torch = self._torch
        enc = [encode_pair(self.tokenizer, question, s, self.params) for s in sentences]
        ids, mask = pad_batch([row for row, _, _ in enc], self.tokenizer.pad_token_id)
        with self._lock, torch.inference_mode():
            start, end = self.model(ids, mask)
        best: Span | None = None  # the best span of all
        taken: Span | None = None  # the best one ``accept`` takes
        for k, (_, offsets, first) in enumerate(enc):
            text = sentences[k]
            spans = best_spans(start[k], end[k], offsets, first, self.params.max_answer_tokens)
            refused: list[tuple[int, int]] = []
            for s, e, margin in spans[:MAX_TRIED] if accept is not None else spans[:1]:
                while s < e and text[s].isspace():
                    s += 1
                if e <= s:
                    continue
                if best is None or margin > best.margin:
                    best = Span(k, s, e, margin)
                if accept is None or taken is not None and margin <= taken.margin:
                    break  # the rest of this sentence's spans score lower still
                if any(s < re and rs < e for rs, re in refused):
                    continue  # the refused words grown or cut ("王婧…星座 巨蟹座" of "巨蟹座"): the same answer
                if accept(k, s, e):
                    taken = Span(k, s, e, margin)
                    break
                refused.append((s, e))
        if taken is None or best is None or taken == best:
            return best
        return replace(taken, best=best)


def load_reader(base_dir: Path) -> SpanReader | None:
    """The trained reader, or None (with a warning) when its weights or peft are missing:
    the rules in rag/span.py answer then."""
    if not (READER_DIR / "adapter.safetensors").exists():
        log.warning("no span reader weights in %s; short answers come from the rules", READER_DIR)
        return None
    return E5SpanReader(base_dir)
