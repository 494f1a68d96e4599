import json

import numpy as np

from eval.fusion import GRID, Table, adaptive_score, fit, fit_adaptive, format_rows, loso, score
from eval.sets import drcd_to_set, keyword_set, stress_set, underspecify
from rag.retrieve import FEATURES


def _table(name, n, rng):
    """Queries whose best dense share is 0 when the 'has_digit' feature is set, 1 otherwise."""
    x = np.zeros((n, len(FEATURES)))
    x[:, 0] = 1.0
    digit = rng.random(n) < 0.5
    x[:, FEATURES.index("has_digit")] = digit
    mrr = np.where(digit[:, None], (GRID[None, :] < 0.3) * 1.0, (GRID[None, :] > 0.7) * 1.0)
    return Table(name, x, mrr)


def test_fit_learns_a_share_the_features_predict():
    rng = np.random.default_rng(0)
    train = [_table("a", 200, rng), _table("b", 200, rng)]
    model = fit(train, rounds=5)
    held = _table("c", 300, rng)
    assert score(model, held) == 1.0  # every query mixed at a share that finds its gold first
    assert adaptive_score(held) < 0.6  # a fixed share around 0.7 serves only half of them
    rows = loso([_table("x", 100, rng), _table("y", 100, rng)], [_table("t", 100, rng)])
    assert [r["set"] for r in rows] == ["x", "y"] and all(r["learned"] == 1.0 for r in rows)
    assert "| x | 100 |" in format_rows(rows)


def test_the_adaptive_fit_finds_the_share_and_gains_the_training_sets_want():
    """Queries want a dense share of 0.4 when neither list stands out, more dense the more
    the dense list's best hit stands out (confidence 0.4 -> +0.2) and the more of the query's
    words dense's top hit holds beyond BM25's (cover gap 0.4 -> +0.3): base 0.4, gains 0.5, 0.75."""
    rng = np.random.default_rng(2)

    def table(name, n):
        x = np.zeros((n, len(FEATURES)))
        conf, gap = rng.choice([0.0, 0.4], n), rng.choice([0.0, 0.4], n)
        x[:, FEATURES.index("confidence")] = conf
        x[:, FEATURES.index("cover_gap")] = gap
        want = 0.4 + 0.5 * conf + 0.75 * gap
        return Table(name, x, (np.abs(GRID[None, :] - want[:, None]) < 0.01) * 1.0)

    p, mrr = fit_adaptive([table("a", 100), table("b", 100)])
    assert (p.dense_share, p.gain, p.cover_gain, mrr) == (0.4, 0.5, 0.75, 1.0)
    assert adaptive_score(table("c", 50), p) == 1.0


def test_tables_round_trip(tmp_path):
    t = _table("z", 10, np.random.default_rng(1))
    t.save(tmp_path / "z.npz")
    back = Table.load(tmp_path / "z.npz")
    assert back.name == "z" and np.array_equal(back.x, t.x) and np.array_equal(back.mrr, t.mrr)


def test_drcd_is_converted_to_simplified_with_its_answers(tmp_path):
    src = tmp_path / "drcd.json"
    src.write_text(json.dumps({"data": [{"title": "梵文", "paragraphs": [{"id": "1-1", "context": "在歐洲，梵語的學術研究由德國學者開創。",
                                                                       "qas": [{"id": "1-1-1", "question": "誰開創了梵語研究？",
                                                                                "answers": [{"text": "德國學者", "answer_start": 11}]}]}]}]},
                              ensure_ascii=False), encoding="utf-8")
    assert drcd_to_set(src, tmp_path / "set") == (1, 1)
    doc = json.loads((tmp_path / "set" / "corpus.jsonl").read_text(encoding="utf-8"))
    q = json.loads((tmp_path / "set" / "queries.jsonl").read_text(encoding="utf-8"))
    assert doc["text"] == "在欧洲，梵语的学术研究由德国学者开创。" and q["question"] == "谁开创了梵语研究？"
    assert q["answers"] == ["德国学者"] and q["gold_doc_ids"] == ["drcd-1-1"] and q["answers"][0] in doc["text"]
    # The Traditional-question variant: the same corpus and answers, the question as written.
    assert drcd_to_set(src, tmp_path / "trad", simplify_questions=False) == (1, 1)
    trad = json.loads((tmp_path / "trad" / "queries.jsonl").read_text(encoding="utf-8"))
    assert trad["question"] == "誰開創了梵語研究？" and trad["answers"] == ["德国学者"]
    assert (tmp_path / "trad" / "corpus.jsonl").read_text(encoding="utf-8") == \
        (tmp_path / "set" / "corpus.jsonl").read_text(encoding="utf-8")


def test_the_readers_held_out_set_asks_only_of_the_last_paragraphs(tmp_path):
    paragraphs = [{"id": f"1-{i}", "context": f"第{i}段的內容。",
                   "qas": [{"id": f"1-{i}-1", "question": f"第{i}段講什麼？",
                            "answers": [{"text": "內容", "answer_start": 3}]}]} for i in range(1, 5)]
    src = tmp_path / "drcd.json"
    src.write_text(json.dumps({"data": [{"title": "t", "paragraphs": paragraphs}]}, ensure_ascii=False), encoding="utf-8")
    assert drcd_to_set(src, tmp_path / "held", questions_from_last=2) == (4, 2)
    asked = [json.loads(line)["gold_doc_ids"] for line in (tmp_path / "held" / "queries.jsonl").read_text().splitlines()]
    assert asked == [["drcd-1-3"], ["drcd-1-4"]]


def test_stress_questions_lose_their_named_subject(tmp_path):
    assert underspecify("北京冬奥会开幕式总导演是谁") == "冬奥会开幕式总导演是谁"
    assert underspecify("他是谁") is None  # too little left
    src = tmp_path / "s"
    src.mkdir()
    (src / "corpus.jsonl").write_text("{}\n", encoding="utf-8")
    (src / "queries.jsonl").write_text(json.dumps({"qid": "1", "question": "长春市总工会设置了多少个竞赛项目",
                                                   "answers": ["145个"], "gold_doc_ids": ["d"]}, ensure_ascii=False),
                                       encoding="utf-8")
    assert stress_set(src, tmp_path / "out") == 1
    q = json.loads((tmp_path / "out" / "queries.jsonl").read_text(encoding="utf-8"))
    assert "长春" not in q["question"] and q["original"] == "长春市总工会设置了多少个竞赛项目"


def test_a_keyword_set_keeps_the_questions_with_a_question_word_to_drop_and_the_corpus(tmp_path):
    src = tmp_path / "s"
    src.mkdir()
    (src / "corpus.jsonl").write_text('{"doc_id": "d", "text": "正文"}\n', encoding="utf-8")
    rows = [{"qid": "1", "question": "长春市总工会设置了多少个竞赛项目", "answers": ["145个"], "gold_doc_ids": ["d"]},
            {"qid": "2", "question": "小米6防水等级", "answers": ["IP67"], "gold_doc_ids": ["d"]}]
    (src / "queries.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                       encoding="utf-8")
    assert keyword_set(src, tmp_path / "out") == 1
    q = json.loads((tmp_path / "out" / "queries.jsonl").read_text(encoding="utf-8"))
    assert q == {**rows[0], "qid": "1-kw", "question": "长春市总工会设置了竞赛项目数量", "original": rows[0]["question"]}
    assert (tmp_path / "out" / "corpus.jsonl").read_text(encoding="utf-8") == (src / "corpus.jsonl").read_text(encoding="utf-8")
