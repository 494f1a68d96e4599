"""Web pages: the project's own HTML reader against trafilatura, on pages made here.

Each seed article is laid into a news-site page with the furniture real pages carry
(navigation, breadcrumb, share buttons, a "related" list, a hot-news sidebar, an
advertisement, footer with 主办单位, ICP licence and copyright). Scored: character F1 of
the extracted body against the article's text, and how many furniture lines leaked in.

    python bench/html_extract.py
"""

from __future__ import annotations

import html
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FURNITURE = ["首页", "新闻中心", "工会动态", "职工服务", "当前位置", "分享到：微信 微博 QQ空间", "相关阅读",
             "热点排行", "广告", "主办单位：北京市总工会", "京ICP备12345678号", "版权所有 © 2025 劳动午报社",
             "联系我们", "网站地图"]


def page(title: str, paragraphs: list[str], related: list[str], layout: int) -> str:
    nav = "".join(f'<li><a href="/{i}">{x}</a></li>' for i, x in enumerate(["首页", "新闻中心", "工会动态", "职工服务"]))
    rel = "".join(f'<li><a href="/r{i}">{t}</a></li>' for i, t in enumerate(related))
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    if layout == 1:  # paragraphs split by <br> inside one div, as older CMSs write
        body = "<div class='TRS_Editor'>" + "<br><br>".join(html.escape(p) for p in paragraphs) + "</div>"
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}_劳动午报</title></head>
<body><header><div class="logo">劳动午报</div><nav><ul>{nav}</ul></nav></header>
<div class="crumb">当前位置：首页 &gt; 工会动态</div>
<div class="main"><article><h1>{html.escape(title)}</h1>
<div class="info">来源：劳动午报 2025-02-10 09:30</div>
<div class="content">{body}</div>
<div class="share">分享到：微信 微博 QQ空间</div></article>
<aside><h3>相关阅读</h3><ul>{rel}</ul><h3>热点排行</h3><ol>{rel}</ol><div class="ad">广告</div></aside></div>
<footer><p>主办单位：北京市总工会</p><p>京ICP备12345678号</p><p>版权所有 © 2025 劳动午报社</p>
<p><a href="/c">联系我们</a> | <a href="/m">网站地图</a></p></footer></body></html>"""


def f1(pred: str, gold: str) -> float:
    p, g = Counter(pred.replace("\n", "").replace(" ", "")), Counter(gold.replace("\n", "").replace(" ", ""))
    common = sum((p & g).values())
    if not common:
        return 0.0
    prec, rec = common / sum(p.values()), common / sum(g.values())
    return 2 * prec * rec / (prec + rec)


def page_reader(doc: str) -> str:
    """The reader every HTML file went through before: html.parser into the page format."""
    from rag.ingest import _HTMLToPage, parse_page

    p = _HTMLToPage()
    p.feed(doc)
    return "\n".join(a.text for a in parse_page("\n".join(p.lines), source_path="page.html", default_title=p.title))


def ours(doc: str) -> str:
    """What zhrag ingest does now: a single article's page goes through trafilatura."""
    from rag.ingest import parse_file

    return "\n".join(a.text for a in parse_file(Path("page.html"), doc.encode("utf-8")))


def trafilatura_text(doc: str) -> str:
    import trafilatura

    return trafilatura.extract(doc, include_comments=False, include_tables=True, favor_precision=True) or ""


def main() -> int:
    from rag.ingest import ingest_paths

    articles = list(ingest_paths([ROOT / "seeds"]).articles)
    titles = [a.title for a in articles]
    readers = {"page reader (html.parser, before)": page_reader, "trafilatura 2.3 alone": trafilatura_text,
               "zhrag ingest now (trafilatura for one-article pages)": ours}
    rows: dict[str, list[tuple[float, int, float]]] = {name: [] for name in readers}
    for layout in (0, 1):
        for a in articles:
            doc = page(a.title, [p for p in a.text.split("\n") if p.strip()], [t for t in titles if t != a.title],
                       layout)
            for name, fn in readers.items():
                t = time.perf_counter()
                text = fn(doc)
                took = time.perf_counter() - t
                leaked = sum(x in text and x not in a.text for x in FURNITURE + [t2 for t2 in titles if t2 != a.title])
                rows[name].append((f1(text, a.text), leaked, took))
    print(f"{len(articles)} seed articles x 2 page layouts\n")
    print("| extractor | body character F1 (mean / min) | furniture lines leaked (total) | ms per page |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {statistics.mean(x[0] for x in r):.3f} / {min(x[0] for x in r):.3f} | "
              f"{sum(x[1] for x in r)} | {1000 * statistics.mean(x[2] for x in r):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
