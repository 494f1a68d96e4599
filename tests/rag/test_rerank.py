"""The reranker: how its logits and the fused score combine, its place over the fused
retriever, its training data, and (slow) the trained weights on the seed articles."""

from __future__ import annotations

import json

import pytest

from eval.rerank_train import _BM25, TrainParams, drcd_groups
from rag.embedding import HashingEmbedder
from rag.rerank import RERANKER_DIR, RerankingRetriever, RerankParams, reorder, rerank
from rag.retrieve import HybridRetriever
from rag.types import Chunk, Hit
from tests.conftest import store_of


class WordReranker:
    """A deterministic stand-in for the cross-encoder: 5 for a passage holding ``word``, else 0."""

    def __init__(self, word: str, top: int = 3, prior: float = 1.0) -> None:
        self.word = word
        self.params = RerankParams(top=top, prior=prior)
        self.asked: list[list[str]] = []

    def scores(self, question, passages):
        self.asked.append(list(passages))
        return [5.0 if self.word in p else 0.0 for p in passages]


def _hit(i: int, text: str, score: float) -> Hit:
    return Hit(Chunk(id=f"c{i}", doc_id=f"d{i}", title="", text=text, char_start=0, char_end=len(text)), score)


def test_logits_order_the_passages_and_the_prior_weighs_the_fused_score():
    fused = [3.0, 2.0, 1.0]
    assert reorder([0.0, 0.0, 4.0], fused, prior=0.0) == [2, 0, 1]
    # the fused z-scores are about +-1.2: a prior of 5 outweighs a logit gap of 4
    assert reorder([0.0, 0.0, 4.0], fused, prior=5.0) == [0, 1, 2]
    assert reorder([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], prior=1.0) == [0, 1, 2]  # ties keep the fused order


def test_only_the_top_passages_are_reread_and_the_rest_keep_their_place():
    hits = [_hit(0, "甲", 4.0), _hit(1, "乙", 3.0), _hit(2, "驿站167个", 2.0), _hit(3, "驿站丙", 1.0)]
    rr = WordReranker("驿站", top=3, prior=0.5)
    got = rerank("建了多少个驿站", hits, rr)
    assert [h.chunk.id for h in got] == ["c2", "c0", "c1", "c3"]
    assert rr.asked == [["甲", "乙", "驿站167个"]]


def test_the_reranking_retriever_serves_hybrid_reranked_and_other_modes_as_they_are(seed_articles, tmp_path):
    emb = HashingEmbedder()
    fused = HybridRetriever(store_of(tmp_path, emb, seed_articles), emb)
    plain = fused.search("首开集团建了多少个工会驿站", 5)
    word = "167个工会驿站"
    assert any(word in h.chunk.text for h in plain)
    rr = RerankingRetriever(fused, WordReranker(word, top=5, prior=0.0))
    got = rr.search("首开集团建了多少个工会驿站", 2)
    assert len(got) == 2 and word in got[0].chunk.text
    dense = rr.with_mode("dense")
    assert isinstance(dense, HybridRetriever) and dense.mode == "dense"
    assert isinstance(rr.with_mode("hybrid"), RerankingRetriever)


def _drcd(tmp_path):
    def para(pid, context, q, a):
        return {"id": pid, "context": context,
                "qas": [{"id": f"{pid}-q", "question": q,
                         "answers": [{"text": a, "answer_start": context.index(a)}]}]}

    data = {"data": [
        {"title": "臺北", "paragraphs": [
            para("1-1", "臺北市是臺灣的首都，人口約二百六十萬人。", "臺北市人口有多少？", "二百六十萬人"),
            para("1-2", "臺北市的捷運系統於一九九六年通車。", "臺北捷運何時通車？", "一九九六年")]},
        {"title": "高雄", "paragraphs": [
            para("2-1", "高雄市人口約二百七十萬人，是南部最大城市。", "高雄市人口有多少？", "二百七十萬人"),
            para("2-2", "高雄捷運於二〇〇八年通車。", "高雄捷運何時通車？", "二〇〇八年")]},
    ]}
    path = tmp_path / "drcd.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_training_groups_put_the_answering_chunk_first_and_look_alikes_after(tmp_path):
    train, held = drcd_groups([_drcd(tmp_path)], TrainParams(negatives=1, holdout_paragraphs=1, seed=1))
    assert [g.question for g in held] == ["高雄捷运何时通车？"]  # Simplified, from the last paragraph
    assert held[0].passages[0] == "高雄\n高雄捷运于二〇〇八年通车。"
    assert all("二〇〇八年" not in p for p in held[0].passages[1:]) and len(held[0].passages) > 1
    by_q = {g.question: g for g in train}
    g = by_q["台北市人口有多少？"]
    assert g.passages[0].startswith("台北\n") and "二百六十万人" in g.passages[0]
    assert len(g.passages) == 2 and "二百六十万人" not in g.passages[1]


def test_bm25_ranks_the_passage_sharing_the_rare_words_first():
    index = _BM25([["工会", "驿站", "驿站"], ["工会", "职工"], ["天气"]])
    assert index.top(["驿站", "工会"], 2) == [0, 1]
    assert index.top(["没有"], 3) == []


def test_the_shipped_weights_are_megabytes_and_their_record_says_how_they_were_made():
    weights = RERANKER_DIR / "adapter.safetensors"
    assert weights.stat().st_size < 10 * 2**20
    rec = json.loads((RERANKER_DIR / "reranker.json").read_text(encoding="utf-8"))
    assert rec["command"].startswith("zhrag train-reranker")
    assert rec["data"]["files"] == ["DRCD_dev.json", "DRCD_test.json"]
    assert rec["history"][-1]["mrr@10"] > rec["held_out_before"]["mrr@10"]


@pytest.fixture(scope="module")
def reranker(model_cache):
    from rag.e5_convert import ensure_model
    from rag.rerank import E5CrossEncoder

    return E5CrossEncoder(ensure_model(model_cache / "models"))


@pytest.mark.slow
def test_the_trained_reranker_puts_the_answering_passage_above_look_alikes(reranker):
    passages = ["首开集团工会\n首开集团工会以职工为中心，建好、用好、管好工会驿站，服务职工。",
                "首开集团工会\n5年来，首开集团工会共建设14个市级职工之家，167个工会驿站。",
                "东城区总工会\n东城区总工会开展职工技能竞赛，吸引众多职工参加。"]
    # Asked the way DRCD asks (what it was trained on), the answering passage leads.
    s = reranker.scores("首开集团工会共建设了多少个工会驿站？", passages)
    assert max(range(3), key=lambda i: s[i]) == 1
    # Asked colloquially it still puts the other union's passage last, but not the answer
    # first: why it is not on by default (eval/RESULTS.md, "A trained reranker").
    s = reranker.scores("首开集团建了多少个工会驿站", passages)
    assert min(range(3), key=lambda i: s[i]) == 2


@pytest.mark.slow
def test_reranker_weights_that_do_not_fit_the_model_are_refused(tmp_path, model_cache):
    from safetensors.torch import load_file, save_file

    from rag.e5_convert import ensure_model
    from rag.rerank import E5CrossEncoder

    state = load_file(str(RERANKER_DIR / "adapter.safetensors"))
    save_file({k: v for k, v in state.items() if not k.startswith("head.")}, str(tmp_path / "adapter.safetensors"))
    (tmp_path / "reranker.json").write_text((RERANKER_DIR / "reranker.json").read_text(encoding="utf-8"),
                                            encoding="utf-8")
    with pytest.raises(ValueError, match="do not fit"):
        E5CrossEncoder(ensure_model(model_cache / "models"), tmp_path)
