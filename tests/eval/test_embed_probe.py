"""The embedder-input probe: its variants change only what the embedder reads, and its fusion
of the product's variant is the product's own hybrid ranking (so its other rows compare
like with like)."""

import json

from eval.embed_probe import PASSAGES, PRODUCT, _lead, _title_lead_text, format_table, probe
from rag.chunking import chunk_article
from rag.embedding import HashingEmbedder
from rag.types import Article
from tests.conftest import hashing_settings

SENTENCE = "密云区工匠学院由区总工会牵头成立，聘请一线工匠担任导师。"


def _article(i: int) -> Article:
    body = "".join(f"第{i}篇第{j}段讲述职工技能培训的第{j}项安排。" for j in range(30))
    return Article(doc_id=f"d{i}", title=f"工会新闻{i}号", text=(SENTENCE if i == 0 else "") + body)


def test_the_lead_goes_before_every_chunk_but_the_first():
    article = _article(0)
    chunks = chunk_article(article)
    assert len(chunks) > 2 and _lead(article) == SENTENCE
    first, later = (_title_lead_text(c, _lead(article)) for c in chunks[:2])
    assert first == f"{article.title}\n{chunks[0].text}"
    assert later == f"{article.title}\n{SENTENCE}\n{chunks[1].text}"


def test_the_probes_product_row_is_the_products_own_hybrid_search(tmp_path):
    set_dir = tmp_path / "set"
    set_dir.mkdir()
    articles = [_article(i) for i in range(8)]
    with (set_dir / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for a in articles:
            f.write(json.dumps({"doc_id": a.doc_id, "title": a.title, "text": a.text}, ensure_ascii=False) + "\n")
    questions = [("q0", "密云区工匠学院的导师是谁", "d0"), ("q3", "第3篇第7段讲述什么安排", "d3"),
                 ("q5", "工会新闻5号的第12项安排", "d5")]
    (set_dir / "queries.jsonl").write_text("".join(
        json.dumps({"qid": q, "question": text, "answers": [], "gold_doc_ids": [g]}, ensure_ascii=False) + "\n"
        for q, text, g in questions), encoding="utf-8")

    result = probe(set_dir, distractors=None, n_distractors=None, sample=None,
                   settings=hashing_settings(tmp_path), embedder=HashingEmbedder())

    assert result["queries"] == 3 and result["articles"] == 8
    assert set(result["passages"]) == set(PASSAGES)
    assert result["passages"][PRODUCT]["hybrid"] == result["hybrid_product"]
    assert result["passages"][PRODUCT]["hybrid"]["mrr@10"] > 0.5  # names and numbers find their article
    # Smaller chunks, more of them; the whole article is one.
    counts = {name: row["chunks"] for name, row in result["passages"].items()}
    assert counts["title + chunk 200"] > counts[PRODUCT] > counts["title + chunk 500"] > counts["title + whole article"] == 8
    assert "hybrid" not in result["passages"]["title + chunk 500"]  # other chunks: no BM25 list to fuse with
    assert result["query_prefix"] == {}  # the test embedder has no prefixes
    assert f"| {PRODUCT} |" in format_table(result)
