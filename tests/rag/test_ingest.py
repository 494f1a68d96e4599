import json
from pathlib import Path

import pytest

from rag.chunking import ChunkParams
from rag.ingest import IngestError, ingest_paths, parse_file, parse_page, repair_paragraphs
from tests.conftest import SEED_PAGE

TITLES = [
    "首开集团工会高标准打造职工服务阵地",
    "密云区总工会多措并举培育高技能人才队伍",
    "长春市总工会建立全链条技能人才培养工作体系",
    "东城区总工会面向中心工作和重大领域加大经费支持",
    "海淀区苏家坨镇总工会开展情暖职工慰问活动",
    "“业工融合”助力企业发展",
]


def test_seed_page_splits_into_its_articles_without_page_furniture(seed_articles):
    assert [a.title for a in seed_articles] == TITLES
    assert all("&gt;" not in a.text and "&lt;" not in a.text and ">>" not in a.text for a in seed_articles)


def test_broken_paragraphs_are_rejoined(seed_articles):
    text = {a.title: a.text for a in seed_articles}
    shoukai = text[TITLES[0]]
    for joined in ("积极开展工会驿站建设。", "打造“九合空间”", "凝心聚力的园地", "首开城运集团在职工集体宿舍",
                   "一线施工人员提供", "安全感。"):
        assert joined in shoukai
    assert "与区体育局等单位" in text[TITLES[3]]
    assert "推动人岗精准匹配" in text[TITLES[2]]
    # No paragraph of any article still ends mid-sentence.
    for a in seed_articles:
        for para in a.text.split("\n"):
            assert para[-1] in "。！？；…”）", (a.title, para[-20:])


def test_metadata_is_extracted(seed_articles):
    meta = {a.title: dict(a.meta) for a in seed_articles}
    assert meta[TITLES[0]]["reporters"] == ["刘欣欣"]
    assert meta[TITLES[1]]["column"] == "北京经验"
    assert meta[TITLES[1]]["reporters"] == ["王路曼"]
    assert meta[TITLES[2]]["column"] == "他山之石"
    assert meta[TITLES[2]]["source"] == "中工网"
    assert "转自" not in {a.title: a.text for a in seed_articles}[TITLES[2]]
    assert meta[TITLES[5]]["reporters"] == ["宗晓畅"] and meta[TITLES[5]]["correspondents"] == ["高岩"]
    assert "摄影报道" in meta[TITLES[5]]["photo_credit"] and meta[TITLES[5]]["photographers"] == ["宗晓畅", "高岩"]
    # The dateline moves into metadata rather than opening the text.
    first = {a.title: a.text for a in seed_articles}[TITLES[1]]
    assert first.startswith("建平台、聚合力、谋长远") and meta[TITLES[1]]["dateline"] == "本报讯（记者 王路曼）"


def test_doc_ids_are_stable_across_parses():
    a = parse_file(SEED_PAGE)
    b = parse_file(SEED_PAGE)
    assert [x.doc_id for x in a] == [x.doc_id for x in b]
    assert len({x.doc_id for x in a}) == len(a)


def test_repair_keeps_complete_paragraphs_apart():
    assert repair_paragraphs(["第一句。", "第二句开", "始了。", "“引语。”", "下一段"]) == [
        "第一句。", "第二句开始了。", "“引语。”", "下一段"]


def test_html_and_jsonl_inputs(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("<html><head><title>T</title><meta property=\"article:published_time\" "
                    "content=\"2024-02-23\"><script>x=1</script></head><body>"
                    "<h2>职工驿站开放</h2><p>本报讯（记者 张三）驿站今天&ldquo;开放&rdquo;，服务职</p>"
                    "<p>工群众。</p></body></html>", encoding="utf-8")
    [a] = parse_file(page)
    assert a.title == "职工驿站开放"
    assert a.text == "驿站今天“开放”，服务职工群众。"
    assert a.meta["reporters"] == ["张三"]
    assert a.meta["date"] == "2024-02-23"

    lines = tmp_path / "docs.jsonl"
    lines.write_text(json.dumps({"title": "甲", "text": "甲的内容。", "date": "2024-02-01", "doc_id": "d1"},
                                ensure_ascii=False) + "\n\n"
                     + json.dumps({"title": "乙", "text": "乙&amp;丙的内容。"}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    arts = parse_file(lines)
    assert [(x.doc_id, x.title, x.text) for x in arts][0] == ("d1", "甲", "甲的内容。")
    assert arts[0].meta["date"] == "2024-02-01"
    assert arts[1].text == "乙&丙的内容。"


def test_bad_files_are_reported_by_name_and_the_batch_goes_on(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("## 标题\n\n正文一句话。\n", encoding="utf-8")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("## 标题\n\n中文正文。".encode("gbk"))
    badjson = tmp_path / "bad.jsonl"
    badjson.write_text('{"title": "a", "text": "ok。"}\n{not json\n', encoding="utf-8")
    other = tmp_path / "x.pdfx"
    other.write_text("?", encoding="utf-8")
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n", encoding="utf-8")
    report = ingest_paths([good, gbk, badjson, other, empty, tmp_path / "missing.txt"])
    assert [a.title for a in report.articles] == ["标题", "a"]  # bad.jsonl: its good line goes in
    reasons = {e.path.rsplit("/", 1)[-1]: e.reason for e in report.errors}
    assert set(reasons) == {"gbk.txt", "bad.jsonl", "x.pdfx", "empty.md", "missing.txt"}
    assert "UTF-8" in reasons["gbk.txt"]
    assert "line 2" in reasons["bad.jsonl"]
    with pytest.raises(IngestError, match="gbk.txt"):
        parse_file(gbk)


def test_page_without_headings_is_one_article():
    [a] = parse_page("一个标题\n\n第一段内容。\n第二段内容。", source_path="x.txt")
    assert a.title == "一个标题"
    assert a.text == "第一段内容。\n第二段内容。"


def test_a_bad_jsonl_record_is_reported_and_the_rest_go_in(tmp_path):
    import json as _json

    from rag.ingest import ingest_paths

    f = tmp_path / "batch.jsonl"
    lines = [_json.dumps({"title": "好一", "text": "朝阳区工会举办篮球赛。"}, ensure_ascii=False),
             "{not json",
             _json.dumps({"title": "空", "text": "   "}, ensure_ascii=False),
             _json.dumps({"title": "好二", "text": "海淀区工会举办读书会。"}, ensure_ascii=False),
             _json.dumps(["a list"])]
    f.write_text("\n".join(lines), encoding="utf-8")
    report = ingest_paths([f])
    assert [a.title for a in report.articles] == ["好一", "好二"]
    assert [e.reason.split(":")[0] for e in report.errors] == ["line 2", "line 3", "line 5"]


FURNITURE = ["京ICP备12345678号-1", "京公网安备 11010502030000号", "版权所有 © 2025 北京工会报社", "Copyright 2025 All Rights Reserved",
             "主办单位：北京市总工会", "责任编辑：王某", "分享到：微信 微博", "上一篇：职工运动会", "首页 > 新闻 > 工会动态",
             "图表：2024年各区工会驿站数量", "未经授权不得转载"]


def test_page_furniture_never_enters_the_text(tmp_path):
    body = "\n".join(["## 朝阳区工会举办篮球赛", "", "朝阳区工会举办职工篮球赛，三十支队伍参赛。", *FURNITURE,
                      "比赛持续三天，电力队夺冠。"])
    f = tmp_path / "page.txt"
    f.write_text(body, encoding="utf-8")
    [a] = parse_file(f)
    assert a.text == "朝阳区工会举办职工篮球赛，三十支队伍参赛。\n比赛持续三天，电力队夺冠。"
    assert a.meta["furniture_lines_removed"] == len(FURNITURE)


def test_furniture_in_html_is_dropped_too(tmp_path):
    html_page = ("<html><head><title>读书会</title></head><body><nav>首页 > 新闻</nav><h2>海淀区工会举办读书会</h2>"
                 "<p>海淀区工会举办读书会，二百名职工参加。</p><p>分享到：微信</p>"
                 "<footer><p>京ICP备12345678号</p><p>版权所有 北京工会报社</p></footer></body></html>")
    f = tmp_path / "p.html"
    f.write_text(html_page, encoding="utf-8")
    texts = " ".join(a.text for a in parse_file(f))
    assert "二百名职工参加" in texts and "ICP" not in texts and "版权" not in texts and "分享" not in texts


def test_a_spam_page_is_reported_not_indexed(tmp_path):
    f = tmp_path / "spam.html"
    f.write_text("<html><body><p>Find, customize, share</p><p>Sorry, no results were found.</p></body></html>",
                 encoding="utf-8")
    with pytest.raises(IngestError, match="no article text"):
        parse_file(f)


def test_a_paragraph_that_mentions_copyright_is_kept():
    [a] = parse_page("## 版权保护\n\n" + "市总工会开展知识产权宣传活动，讲解版权所有人的权利与义务，" * 5 + "职工踊跃参加。",
                     source_path="x.txt")
    assert "版权所有人" in a.text


def test_an_article_that_is_mostly_furniture_is_indexed_and_flagged_in_the_report(tmp_path):
    from rag.embedding import HashingEmbedder
    from rag.indexing import Indexer
    from tests.conftest import store_of

    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "nav.txt").write_text(
        "\n".join(["## 工会新闻导航页", "", "朝阳区工会举办职工篮球赛。", *FURNITURE]), encoding="utf-8")
    (tmp_path / "pages" / "ok.txt").write_text(
        "\n".join(["## 朝阳区工会举办篮球赛", "", "朝阳区工会举办职工篮球赛，三十支队伍参赛。", FURNITURE[0],
                   "比赛持续三天，电力队夺冠。"]), encoding="utf-8")
    emb = HashingEmbedder()
    store = store_of(tmp_path / "idx", emb, [])
    try:
        rep = Indexer(store, emb, ChunkParams()).add_paths([tmp_path / "pages"])
    finally:
        store.close()
    assert rep.added == 2 and not rep.errors
    assert len(rep.warnings) == 1 and "nav.txt" in rep.warnings[0] and "工会新闻导航页" in rep.warnings[0]


def test_a_web_page_gives_its_article_without_the_site_around_it(tmp_path, seed_articles):
    """A news-site page (navigation, share buttons, related and hot lists, footer with ICP
    licence) around one article: the article's text comes out, the site's furniture does not."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from html_extract import FURNITURE, f1, page

    a, others = seed_articles[0], [x.title for x in seed_articles[1:]]
    for layout in (0, 1):
        f = tmp_path / f"web{layout}.html"
        f.write_text(page(a.title, [p for p in a.text.split("\n") if p.strip()], others, layout), encoding="utf-8")
        [got] = parse_file(f)
        assert got.title == a.title
        assert f1(got.text, a.text) >= 0.8
        assert not [x for x in FURNITURE + others if x in got.text and x not in a.text]


def test_a_newspaper_page_in_html_is_still_split_into_its_articles(tmp_path):
    doc = ("<html><body><nav>首页</nav><h2>甲文章</h2><p>甲的第一段内容，讲述职工驿站的建设。</p>"
           "<h2>乙文章</h2><p>乙的内容，讲述技能竞赛的开展情况。</p></body></html>")
    f = tmp_path / "page.html"
    f.write_text(doc, encoding="utf-8")
    assert [x.title for x in parse_file(f)] == ["甲文章", "乙文章"]
