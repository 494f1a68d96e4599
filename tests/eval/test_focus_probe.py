"""The focus probe counts the answerable questions whose own article does not name their focus."""

import json

from eval.focus_probe import format_table, probe


def _write_set(d, rows):
    d.mkdir()
    (d / "corpus.jsonl").write_text("".join(json.dumps({"doc_id": i, "title": t, "text": x}, ensure_ascii=False) + "\n"
                                            for i, (t, x, _) in enumerate(rows)), encoding="utf-8")
    (d / "queries.jsonl").write_text("".join(json.dumps({"qid": f"q{i}", "question": q, "answers": ["x"],
                                                         "gold_doc_ids": [str(i)]}, ensure_ascii=False) + "\n"
                                             for i, (_, _, q) in enumerate(rows)), encoding="utf-8")


def test_the_probe_counts_articles_that_do_not_name_the_focus(tmp_path):
    _write_set(tmp_path / "s", [
        ("首开集团工会", "首开集团工会主席张三介绍了工会驿站的建设情况。", "首开集团工会主席叫什么名字"),
        ("首开集团工会", "首开集团工会共建设167个工会驿站。", "首开集团工会的负责人是谁"),
        ("长春市总工会", "长春市总工会设置了145个竞赛项目。", "长春市总工会建了多少个工会驿站"),
        ("密云区工匠学院", "密云区总工会牵头成立密云区工匠学院。", "密云区工匠学院怎么运作"),
    ])
    got = probe([tmp_path / "s"])
    assert (got["who"]["questions"], got["who"]["article lacks it"]) == (2, 1)
    assert (got["count"]["questions"], got["count"]["article lacks it"]) == (1, 1)
    assert sum(c["questions"] for c in got.values()) == 3  # the how question holds no focus
    assert "| who | 2 | 1 |" in format_table(got)


def test_the_names_probe_finds_questions_naming_what_no_article_names(tmp_path):
    from eval.focus_probe import probe_names

    _write_set(tmp_path / "s", [
        ("长春市总工会", "长春市总工会设置了145个竞赛项目。", "长春市总工会设置了多少个竞赛项目"),
        ("沪通铁路", "沪通铁路线路全长111.8公里。", "广茂铁路全长多少公里"),
        ("工会驿站", "工会驿站为户外劳动者服务。", "工会驿站为谁服务"),
    ])
    with_names, unknown = probe_names([tmp_path / "s"], None)
    assert with_names == 2  # 长春市 and 广茂; the last question names nothing
    # 广茂, and the railway named whole
    assert unknown == [("广茂铁路全长多少公里", "广茂"), ("广茂铁路全长多少公里", "广茂铁路")]
