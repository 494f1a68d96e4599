"""PDF libraries on the generated three-column seed page: reading order and speed.

Each library's own text extraction is scored against the articles in reading order
(difflib ratio of the characters, so interleaved columns score low) and as a bag of
characters (F1: is the text all there); the project's layout (rag/layout.py, on
pdfplumber's characters) is scored the same way. The time to get each page's characters
with positions and sizes, which the layout needs, is measured per library too.

    python bench/pdf_parsers.py
"""

from __future__ import annotations

import difflib
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from html_extract import f1  # noqa: E402  (one character-F1 for the benches)


def _plain(s: str) -> str:
    return re.sub(r"\s+", "", s)


def pdfplumber_text(raw: bytes) -> str:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return "\n".join(p.extract_text() or "" for p in pdf.pages)


def pdfplumber_chars(raw: bytes) -> int:
    import pdfplumber

    with pdfplumber.open(io.BytesIO(raw)) as pdf:
        return sum(len(p.chars) for p in pdf.pages)


def pypdfium2_text(raw: bytes) -> str:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(raw)
    return "\n".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))


def pypdfium2_chars(raw: bytes) -> int:
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    pdf = pdfium.PdfDocument(raw)
    n = 0
    for i in range(len(pdf)):
        tp = pdf[i].get_textpage()
        for k in range(tp.count_chars()):
            tp.get_charbox(k)
            c.FPDFText_GetFontSize(tp, k)
            n += 1
    return n


def ours(raw: bytes) -> str:
    from rag.ingest import parse_file

    return "\n".join(a.title + "\n" + a.text for a in parse_file(Path("page.pdf"), raw))


def timed(fn, raw: bytes, runs: int = 3):
    out, times = None, []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn(raw)
        times.append(time.perf_counter() - t)
    return out, 1000 * statistics.median(times)


def main() -> int:
    from rag.ingest import ingest_paths
    from tests.rag.make_docs import seed_page_pdf

    articles = list(ingest_paths([ROOT / "seeds"]).articles)
    gold = "".join(_plain(a.title + a.text) for a in articles)
    with tempfile.TemporaryDirectory() as d:
        raw = seed_page_pdf(Path(d) / "seed.pdf").read_bytes()
    print("| reader | reading order (ratio) | text present (char F1) | ms for the page |")
    print("|---|---|---|---|")
    for name, fn in (("pdfplumber extract_text", pdfplumber_text), ("pypdfium2 get_text_range", pypdfium2_text),
                     ("zhrag layout on pdfplumber characters", ours)):
        text, ms = timed(fn, raw)
        plain = _plain(text)
        order = difflib.SequenceMatcher(None, plain, gold, autojunk=False).ratio()
        print(f"| {name} | {order:.3f} | {f1(plain, gold):.3f} | {ms:.0f} |")
    print("\n| characters with box and size | ms for the page |\n|---|---|")
    for name, count in (("pdfplumber (pdfminer)", pdfplumber_chars), ("pypdfium2 (PDFium)", pypdfium2_chars)):
        n, ms = timed(count, raw)
        print(f"| {name}: {n} characters | {ms:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
