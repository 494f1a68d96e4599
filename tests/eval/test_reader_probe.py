"""The reader probe's offline arithmetic: reranking by the reader's margin, and short-answer
F1 per reading scope, from stored rows (the reading itself is the trained reader's, tested
in tests/rag/test_reader.py)."""

from eval.reader_probe import summarise


def _row(*, margins, sentences, passages, refused=False, f1=0.2):
    return {"qid": "q", "gold": ["g"], "docs": ["x", "g", "x", "y"], "fused": [1.0, 0.9, 0.8, 0.1],
            "rerank_margins": margins, "rerank_seconds": 0.1, "refused": refused, "short": "…", "f1": f1,
            "sentences": sentences, "passages": passages, "cited_docs": ["x", "g"]}


def test_a_confident_reader_lifts_the_gold_passage_only_with_enough_weight():
    row = _row(margins=[-5.0, 4.0, -5.0], sentences=[], passages=[])
    got = summarise([row], weights=(0.0, 0.005, 0.1))
    assert got["hit@1 w=0.0"] == 0.0 and got["mrr@10 w=0.0"] == 0.5
    assert got["hit@1 w=0.005"] == 0.0  # 0.1 behind in fusion, 0.045 ahead by the reader
    assert got["hit@1 w=0.1"] == 1.0 and got["mrr@10 w=0.1"] == 1.0


def test_each_scope_takes_its_best_margin_span_and_a_refusal_scores_nothing():
    sentences = [{"doc": "x", "cited": True, "margin": 1.0, "f1": 0.5},
                 {"doc": "x", "cited": False, "margin": 3.0, "f1": 1.0},
                 {"doc": "g", "cited": True, "margin": 2.0, "f1": 0.0}]
    passages = [{"doc": "x", "margin": 0.5, "f1": 0.25}, {"doc": "g", "margin": 1.5, "f1": 0.75}]
    answered = _row(margins=[0.0] * 3, sentences=sentences, passages=passages)
    refused = _row(margins=[0.0] * 3, sentences=[], passages=[], refused=True, f1=0.0)
    got = summarise([answered, refused], weights=(0.0,))
    assert got["F1 composed (today)"] == 0.1
    assert got["F1 cited sentences"] == 0.0  # margin 2.0 beats 1.0: the wrong cited sentence
    assert got["F1 every sentence of the cited passages"] == 0.5
    assert got["F1 cited passages whole"] == 0.375
    assert got["F1 first cited article's passages whole"] == 0.125
    assert got["F1 oracle: best sentence of the cited passages"] == 0.5
