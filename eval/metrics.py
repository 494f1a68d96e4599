"""Evaluation metrics as pure functions: ranked doc ids and gold sets in, numbers out.

Answer scoring follows the SQuAD-style Chinese scorers used for CMRC/DuReader: strip
punctuation and white space, lower-case, then compare characters (Chinese has no words
to split on).
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_PUNCT_EXTRA = set("｀～！＠＃＄％＾＆＊（）＿－＋＝｛｝［］｜＼：；＂＇＜，＞．？／·～、。《》「」『』【】〔〕〈〉“”‘’…—")


def dedupe(ids: Iterable[str]) -> list[str]:
    """First occurrence order: chunk hits to a document ranking."""
    seen: set[str] = set()
    out = []
    for i in ids:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


def hit_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return float(any(d in gold for d in ranked[:k]))


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    return len(gold & set(ranked[:k])) / len(gold) if gold else 0.0


def mrr_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    for i, d in enumerate(ranked[:k], 1):
        if d in gold:
            return 1.0 / i
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Binary-relevance nDCG."""
    dcg = sum(1.0 / math.log2(i + 1) for i, d in enumerate(ranked[:k], 1) if d in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def retrieval_scores(ranked: Sequence[str], gold: set[str]) -> dict[str, float]:
    return {
        "hit@1": hit_at_k(ranked, gold, 1),
        "hit@5": hit_at_k(ranked, gold, 5),
        "recall@10": recall_at_k(ranked, gold, 10),
        "mrr@10": mrr_at_k(ranked, gold, 10),
        "ndcg@10": ndcg_at_k(ranked, gold, 10),
    }


def normalize_answer(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).lower()
    return "".join(ch for ch in s if not ch.isspace() and ch not in _PUNCT_EXTRA
                   and not unicodedata.category(ch).startswith("P"))


def exact_match(prediction: str, answers: Sequence[str]) -> float:
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(a) for a in answers))


def char_f1(prediction: str, answers: Sequence[str]) -> float:
    """Max over gold answers of the character-overlap F1."""
    p = list(normalize_answer(prediction))
    best = 0.0
    for a in answers:
        g = list(normalize_answer(a))
        common = sum((Counter(p) & Counter(g)).values())
        if not common:
            continue
        prec, rec = common / len(p), common / len(g)
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


def contains_answer(text: str, answers: Sequence[str]) -> float:
    """Whether any gold answer occurs in the text (after normalisation)."""
    t = normalize_answer(text)
    return float(any(normalize_answer(a) and normalize_answer(a) in t for a in answers))


def citation_precision(cited_doc_ids: Sequence[str], gold: set[str]) -> float | None:
    """Share of cited passages from a gold document; None when nothing was cited."""
    if not cited_doc_ids:
        return None
    return sum(d in gold for d in cited_doc_ids) / len(cited_doc_ids)


def supported_precision(cited: Sequence[tuple[str, str]], gold: set[str],
                        groups: Sequence[Sequence[str]]) -> float | None:
    """Share of citations ``(doc_id, quoted text)`` that come from a gold document or whose
    quoted sentences hold the gold answer themselves.

    Web sets repeat a fact across pages ("iPhone多少钱"): a quote from another page that
    states the answer supports the answer as well as the gold page does, which
    :func:`citation_precision` (gold documents only, the issue's measure) counts as wrong.
    Reported beside it, never instead of it. The same rule decides in the refusal
    evaluation that a question whose answer still stands elsewhere is not unanswerable."""
    if not cited:
        return None
    return sum(d in gold or (bool(groups) and contains_all_groups(q, groups) > 0) for d, q in cited) / len(cited)


def mean_scores(rows: Iterable[Mapping[str, float | None]]) -> dict[str, float]:
    """Per-key means, ignoring None (a metric undefined for that query)."""
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in rows:
        for k, v in row.items():
            if v is None:
                continue
            sums[k] = sums.get(k, 0.0) + float(v)
            counts[k] = counts.get(k, 0) + 1
    return {k: sums[k] / counts[k] for k in sums}




def contains_all_groups(text: str, groups: Sequence[Sequence[str]]) -> float:
    """Grouped answers: every group has one alternative in the text."""
    return float(all(contains_answer(text, g) for g in groups))


def grouped_f1(prediction: str, groups: Sequence[Sequence[str]]) -> float:
    """Mean over groups of the best character F1 against that group's alternatives."""
    return sum(char_f1(prediction, g) for g in groups) / max(1, len(groups))
