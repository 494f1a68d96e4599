"""PDF pages and Word files go in as the same articles as the text page (fixtures made
by tests/rag/make_docs.py, never downloaded)."""

import pytest

from eval.metrics import char_f1
from rag.compose import ComposeParams, ExtractiveComposer
from rag.embedding import HashingEmbedder
from rag.ingest import IngestError, ingest_paths, parse_file
from rag.pipeline import answer
from rag.retrieve import HybridRetriever
from tests.conftest import SEED_PAGE, store_of
from tests.rag.make_docs import HEADER, cjk_system_font, seed_docx, seed_page_pdf

pytest.importorskip("reportlab")

PAGE_FACTS = {"date": "2025-03-12", "page": "3", "page_name": "工会新闻"}


def _same_articles(got, want, *, min_f1):
    assert [a.title for a in got] == [a.title for a in want]
    for g, w in zip(got, want, strict=True):
        assert char_f1(g.text, [w.text]) >= min_f1, g.title
        shared = {k: v for k, v in w.meta.items() if k != "file"}
        assert {k: g.meta.get(k) for k in shared} == shared, g.title  # bylines, kicker, banner, column


@pytest.fixture(scope="module")
def text_articles():
    return parse_file(SEED_PAGE)


def test_a_three_column_pdf_of_the_seed_page_gives_its_six_articles(tmp_path, text_articles):
    articles = parse_file(seed_page_pdf(tmp_path / "page3.pdf"))
    assert len(articles) == 6
    _same_articles(articles, text_articles, min_f1=0.99)
    for a in articles:  # the page header's facts are every article's metadata
        assert {k: a.meta[k] for k in PAGE_FACTS} == PAGE_FACTS
        assert HEADER not in a.text


def test_a_word_file_gives_the_same_articles(tmp_path, text_articles):
    _same_articles(parse_file(seed_docx(tmp_path / "page3.docx")), text_articles, min_f1=0.99)


def test_a_word_table_becomes_rows_of_text(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("职工技能竞赛结果", level=2)
    document.add_paragraph("本报讯 朝阳区职工技能竞赛日前结束，各项目第一名如下。")
    table = document.add_table(rows=2, cols=2)
    for r, cells in enumerate([("项目", "第一名"), ("焊工", "张伟")]):
        for c, text in enumerate(cells):
            table.cell(r, c).text = text
    document.save(str(tmp_path / "t.docx"))
    (a,) = parse_file(tmp_path / "t.docx")
    assert a.title == "职工技能竞赛结果" and "焊工｜张伟" in a.text


def test_the_pdf_page_answers_as_the_text_page_does(tmp_path, text_articles):
    """A question about the PDF-ingested page gets the same cited answer as from the text."""
    emb = HashingEmbedder()
    composer = ExtractiveComposer(emb, ComposeParams(refuse_below=0.0, confident_above=0.0))
    answers = []
    for name, arts in (("text", text_articles), ("pdf", parse_file(seed_page_pdf(tmp_path / "p.pdf")))):
        store = store_of(tmp_path / name, emb, arts)
        try:
            ans = answer("首开集团建了多少个工会驿站", retriever=HybridRetriever(store, emb), composer=composer)
        finally:
            store.close()
        assert not ans.refused and ans.citations
        answers.append((ans.text, [(c.chunk.title, [q.text for q in c.quotes]) for c in ans.citations]))
    assert answers[0] == answers[1]
    assert "167个工会驿站" in answers[0][0]


def test_bad_and_image_only_pdfs_are_reported_by_name(tmp_path):
    from reportlab.pdfgen import canvas

    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    c = canvas.Canvas(str(tmp_path / "scan.pdf"))
    c.rect(50, 50, 200, 200, fill=1)  # a page with no text layer
    c.save()
    (tmp_path / "bad.docx").write_bytes(b"PK not a zip")
    seed_page_pdf(tmp_path / "good.pdf")
    report = ingest_paths([tmp_path])
    assert len(report.articles) == 6
    errors = {e.path.rsplit("/", 1)[-1]: e.reason for e in report.errors}
    assert set(errors) == {"broken.pdf", "scan.pdf", "bad.docx"}
    assert "not a readable PDF" in errors["broken.pdf"]
    assert "OCR read none" in errors["scan.pdf"]
    assert "not a readable Word file" in errors["bad.docx"]
    with pytest.raises(IngestError):
        parse_file(tmp_path / "scan.pdf")


def test_headlines_and_paragraphs_broken_by_columns_and_pages_are_joined(tmp_path, text_articles):
    """Ten copies of the page run over many pages: every headline split by a column or page
    break and every paragraph running on into the next column come out whole."""
    text = SEED_PAGE.read_text("utf-8")
    articles = parse_file(seed_page_pdf(tmp_path / "long.pdf", "\n".join([text] * 10)))
    assert [a.title for a in articles] == [a.title for a in text_articles] * 10
    for got, want in zip(articles, text_articles * 10, strict=True):
        assert char_f1(got.text, [want.text]) >= 0.99


@pytest.mark.slow
@pytest.mark.skipif(not cjk_system_font(), reason="no CJK system font to render the scan (Debian fonts-noto-cjk)")
def test_a_scanned_page_is_read_by_ocr_into_the_same_six_articles(tmp_path, text_articles):
    """An image-only PDF (the page rendered, turned 0.6°, with noise): OCR with the models
    inside rapidocr-onnxruntime, then the same layout and article logic."""
    from tests.rag.make_docs import seed_scan

    articles = parse_file(seed_scan(tmp_path / "scan.pdf"))
    assert len(articles) == 6
    for got, want in zip(articles, text_articles, strict=True):
        assert char_f1(got.title, [want.title]) >= 0.9, (got.title, want.title)
        assert char_f1(got.text, [want.text]) >= 0.95, got.title
    assert articles[0].meta.get("page") == "3" and articles[0].meta.get("date") == "2025-03-12"


def test_a_story_continued_on_the_next_page_becomes_one_article(tmp_path, text_articles):
    """"（下转第2版）" at the foot of a story and "（上接第1版）" under its headline on the
    next page: one article, its text whole, the page it went on to recorded."""
    from tests.rag.make_docs import PAGE_BREAK

    first, second = text_articles[0], text_articles[1]
    paras = first.text.split("\n")
    half = len(paras) // 2
    page = "\n\n".join([f"## {first.title}", *paras[:half - 1], paras[half - 1] + "（下转第2版）",
                        f"## {second.title}", second.text, PAGE_BREAK,
                        f"## {first.title}", "（上接第1版）" + paras[half], *paras[half + 1:]])
    articles = parse_file(seed_page_pdf(tmp_path / "two.pdf", page, numbered=True))
    assert [a.title for a in articles] == [first.title, second.title]
    joined = articles[0]
    assert char_f1(joined.text, [first.text]) >= 0.99 and "下转" not in joined.text and "上接" not in joined.text
    assert joined.meta["continued_on"] == "2" and joined.meta["page"] == "1"


def test_kicker_and_subhead_are_told_from_the_headline_by_type_size(tmp_path):
    """引题 above the headline and 副题 below it, set smaller than the headline but larger than
    the body, become the article's kicker and subtitle; the title is the headline alone."""
    page = ("## 工会新闻\n\n"
            "引题：聚焦新就业形态劳动者\n## 朝阳区建成二十个快递员暖心驿站\n副题：冬季提供热水、充电和休息场所\n"
            "本报讯（记者 张三）朝阳区总工会在全区建成二十个快递员暖心驿站，冬季为快递员提供热水、充电和休息场所。\n"
            "驿站由街道工会负责日常管理，并组织志愿者定期上门服务，受到快递员欢迎。\n")
    pdf = seed_page_pdf(tmp_path / "kicker.pdf", page)
    text_page = tmp_path / "kicker.txt"
    text_page.write_text(page, encoding="utf-8")
    for f in (pdf, text_page):
        [a] = [x for x in parse_file(f) if "驿站" in x.title]
        assert a.title == "朝阳区建成二十个快递员暖心驿站", f
        assert a.meta["kicker"] == "聚焦新就业形态劳动者" and a.meta["subtitle"] == "冬季提供热水、充电和休息场所"
        assert a.text.startswith("朝阳区总工会在全区建成") and "引题" not in a.text and "副题" not in a.text
