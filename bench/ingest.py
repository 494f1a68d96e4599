"""Ingest speed and memory for laid-out files: pages per second and peak RSS on a long PDF.

    python bench/ingest.py --pages 300

Generates (once, in /tmp) a PDF of the seed page repeated in three columns until it has
about the requested number of pages, and a Word file of the same text, then parses each
in a fresh process and prints a table. No model is loaded: this is reading files only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(path: Path) -> None:
    from store import peak_rss_mb  # bench/store.py: this script runs with bench/ on its path

    from rag.ingest import parse_file

    rss0 = peak_rss_mb()
    t = time.perf_counter()
    articles = parse_file(path)
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "articles": len(articles), "rss_before_mb": rss0,
                      "peak_rss_mb": peak_rss_mb()}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0
    from tests.rag.make_docs import SEED, seed_docx, seed_page_pdf

    text = SEED.read_text("utf-8")
    copies = max(1, round(args.pages / 1.6))  # the seed page fills about 1.6 pages
    pdf, docx = Path(f"/tmp/zhrag-bench-{args.pages}p.pdf"), Path(f"/tmp/zhrag-bench-{args.pages}p.docx")
    if not pdf.exists():
        seed_page_pdf(pdf, "\n".join([text] * copies))
        seed_docx(docx, "\n".join([text] * copies))
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        pages = len(doc.pages)
    print("| file | pages | articles | seconds | pages/s | peak RSS MB |\n|---|---|---|---|---|---|")
    for path in (pdf, docx):
        out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        n = pages if path is pdf else "–"
        rate = f"{pages / r['seconds']:.1f}" if path is pdf else "–"
        print(f"| {path.suffix} | {n} | {r['articles']} | {r['seconds']:.1f} | {rate} | {r['peak_rss_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
