"""Laid-out documents (PDF pages with a text layer, Word files) turned into the page format.

The page format is what ``rag.ingest.parse_page`` reads: ``## `` before each headline,
one line per paragraph, column markers and bylines as they stand. Writing a layout into
it, rather than into articles directly, means PDFs and Word files get the same article
splitting, byline and column-marker metadata, furniture stripping and paragraph repair
as text pages, and a question asked of either gets the same cited answer.

A PDF page is read from its characters (pdfplumber: position, size): the page header
above the columns gives the page's date, 版次 and name; body columns are found from the
gutters that no body-size character crosses; each column is read top to bottom, left
column first; a line set clearly larger than the body is a headline, and a line that
starts indented opens a paragraph.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

HEADLINE_RATIO = 1.25  # a line this much larger than the body type is a headline
SAME_SIZE = 0.92  # large lines within 8% of the largest are the headline; smaller ones kicker or subhead
MIN_GUTTER_PT = 6.0  # a vertical strip at least this wide that no body character crosses
SCAN_DPI = 200  # image-only PDF pages are rendered at this resolution for OCR
OCR_MIN_SCORE = 0.5  # OCR lines the recogniser is less sure of are dropped
HEADER_BAND = 0.05  # the page header sits within this share of the page width below the top line
INDENT_EMS = 0.8  # a line starting this many body-ems right of its column opens a paragraph
_HEADER_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_HEADER_PAGE = re.compile(r"第\s*(\d+)\s*版")


@dataclass(frozen=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    size: float
    exact: bool = True  # a text layer's type size; False for an OCR box's height (varies by ±15%)


def _lines(chars: list[dict[str, Any]]) -> list[_Line]:
    """Characters into lines: same top, the same type size, and no horizontal gap wider than
    a character (a gutter is wider), so neighbouring columns never share a line."""
    out: list[_Line] = []
    rows: dict[int, list[dict[str, Any]]] = {}
    for c in chars:
        rows.setdefault(round(c["top"]), []).append(c)  # spaces too: "精神 奋力" keeps its space
    for top in sorted(rows):
        run: list[dict[str, Any]] = []
        for c in sorted(rows[top], key=lambda c: c["x0"]):
            if run and (c["x0"] - run[-1]["x1"] > min(c["size"], run[-1]["size"])
                        or abs(c["size"] - run[-1]["size"]) > 0.2 * run[-1]["size"]):
                out.append(_line(run))
                run = []
            run.append(c)
        if run:
            out.append(_line(run))
    return [ln for ln in out if ln.text]


def _line(run: list[dict[str, Any]]) -> _Line:
    inked = [c for c in run if c["text"].strip()] or run
    return _Line("".join(c["text"] for c in run).strip(), inked[0]["x0"], inked[-1]["x1"], inked[0]["top"],
                 Counter(round(c["size"], 1) for c in inked).most_common(1)[0][0])


def _body_size(lines: list[_Line]) -> float:
    """The body type's size: the median line (most lines are body text; OCR heights vary)."""
    sizes = sorted(ln.size for ln in lines)
    return sizes[len(sizes) // 2]


def _is_body(ln: _Line, body: float) -> bool:
    return abs(ln.size - body) <= 0.1 * body


def _columns(lines: list[_Line], body: float, width: float) -> list[tuple[float, float]]:
    """Column extents from the gutters: strips that no body-size line crosses."""
    covered = [False] * (int(width) + 2)
    for ln in lines:
        if _is_body(ln, body):
            for x in range(max(0, int(ln.x0)), min(len(covered), int(ln.x1) + 1)):
                covered[x] = True
    cols, start = [], None
    gap = 0
    for x, on in enumerate(covered):
        if on:
            if start is None:
                start = x
            gap = 0
        elif start is not None:
            gap += 1
            if gap >= MIN_GUTTER_PT:
                cols.append((float(start), float(x - gap)))
                start, gap = None, 0
    if start is not None:
        cols.append((float(start), float(len(covered))))
    return cols or [(0.0, width)]


def page_facts(header: str) -> dict[str, str]:
    """Date and 版次 from a page's header line (``2025年3月12日 星期三 第3版 · 工会新闻``)."""
    facts: dict[str, str] = {}
    if m := _HEADER_DATE.search(header):
        facts["date"] = f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    if m := _HEADER_PAGE.search(header):
        facts["page"] = m.group(1)
        name = header[m.end():].strip(" ·|-—")
        if name:
            facts["page_name"] = name
    return facts


def _reading_order(lines: list[_Line], width: float) -> tuple[list[tuple[_Line, float, float]], str]:
    """One page: its lines in reading order, each with its column's left edge and the
    page's body size, and the page's header text."""
    if not lines:
        return [], ""
    # The header: the page's top lines naming its date or 版次 (small type, or any type in a scan).
    top = min(ln.top for ln in lines)
    head = [ln for ln in lines if ln.top - top < HEADER_BAND * width
            and (_HEADER_DATE.search(ln.text) or _HEADER_PAGE.search(ln.text))]
    header = " ".join(ln.text for ln in head)
    lines = [ln for ln in lines if ln not in head]
    if not lines:
        return [], header
    body = _body_size(lines)
    ordered = []
    for x0, x1 in _columns(lines, body, width):
        col = sorted((ln for ln in lines if x0 - 1 <= (ln.x0 + ln.x1) / 2 <= x1 + 1), key=lambda ln: (ln.top, ln.x0))
        ordered += [(ln, x0, body) for ln in col]
    return ordered, header


def _title_block(heads: list[_Line]) -> list[str]:
    """Large lines in a row: the largest type is the headline (several lines of it are one
    headline set on two lines, or broken by a column); smaller large type above it is the
    kicker (引题), below it the subhead (副题). Both are written as the first lines under the
    headline ("引题：…", "副题：…"), where the page reader takes them into metadata."""
    top = max(h.size for h in heads)
    # OCR box heights are too rough to tell a kicker from a headline line: all one headline.
    big = [h.size >= top * SAME_SIZE or not h.exact for h in heads]
    end = max(i for i, b in enumerate(big) if b) + 1  # the last run of headline-size lines...
    start = end
    while start > 0 and big[start - 1]:
        start -= 1
    k = start  # ...with the smaller lines just above it (its kicker)
    while k > 0 and not big[k - 1]:
        k -= 1
    # Anything above that is an earlier heading with no body of its own: a page banner.
    before = _title_block(heads[:k]) if k else []
    kicker = "".join(h.text for h in heads[k:start])
    subhead = "".join(h.text for h in heads[end:])
    return [*before, "", "## " + "".join(h.text for h in heads[start:end]), *([f"引题：{kicker}"] if kicker else []),
            *([f"副题：{subhead}"] if subhead else []), ""]


def _assemble(stream: list[tuple[_Line, float, float]]) -> list[str]:
    """Lines in reading order (across columns and pages) into the page format: a headline
    or a paragraph continues over a column or page break unless the next line opens anew."""
    out: list[str] = []
    heads: list[_Line] = []
    for ln, x0, body in stream:
        if ln.size >= body * HEADLINE_RATIO:
            heads.append(ln)
            continue
        opens = not out or bool(heads) or ln.x0 - x0 > INDENT_EMS * body
        if heads:
            out += _title_block(heads)
            heads = []
        if opens:
            out.append(ln.text)  # an indented line opens a paragraph
        else:
            out[-1] += ln.text  # a wrapped line, or a paragraph going on in the next column
    if heads:
        out += _title_block(heads)
    return out


@lru_cache(maxsize=1)
def _ocr_engine() -> Any:
    """RapidOCR with the Chinese PP-OCR models its wheel carries (nothing is downloaded)."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def ocr_lines(image: Any) -> list[_Line]:
    """Text lines of a page image (PIL), each box's height standing in for its type size."""
    import numpy as np

    result, _ = _ocr_engine()(np.asarray(image.convert("RGB")))
    out = []
    for box, text, score in result or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        if text.strip() and float(score) >= OCR_MIN_SCORE:
            out.append(_Line(text.strip(), min(xs), max(xs), min(ys), max(ys) - min(ys), exact=False))
    return out


def image_page_text(raw: bytes) -> tuple[str, dict[str, str]]:
    """A scanned page (PNG, JPEG, TIFF) read by OCR into the page format, with its header's facts."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"not a readable image ({exc.__class__.__name__})") from exc
    ordered, header = _reading_order(ocr_lines(image), float(image.width))
    return "\n".join(_assemble(ordered)), page_facts(header) if header else {}


def pdf_page_text(raw: bytes, *, progress: bool = False, name: str = "") -> tuple[str, dict[str, str]]:
    """A PDF's text in the page format, and the first page header's facts.

    Pages are read one at a time (each page's objects released after it), so a long PDF
    does not hold all its pages in memory. A page without a text layer (a scan) is
    rendered and read by OCR; :class:`ValueError` when the file is not a readable PDF.
    With ``progress``, a bar counts the pages (a 300-page PDF, or OCR at 5 s a page).
    """
    import pdfplumber
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfplumber.utils.exceptions import PdfminerException
    from tqdm import tqdm

    stream: list[tuple[_Line, float, float]] = []
    facts: dict[str, str] = {}
    try:
        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            pages = tqdm(pdf.pages, desc=name[-30:] or "pages", unit="page", leave=False, disable=not progress)
            for number, page in enumerate(pages):
                if page.chars:
                    ordered, header = _reading_order(_lines(page.chars), float(page.width))
                else:
                    image = _render(raw, number)
                    ordered, header = _reading_order(ocr_lines(image), float(image.width))
                if not facts and header:
                    facts = page_facts(header)
                stream += ordered
                page.close()  # drops the page's cached objects
    except (PdfminerException, PDFSyntaxError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a readable PDF ({exc.__class__.__name__}: {exc})") from exc
    return "\n".join(_assemble(stream)), facts


def _render(raw: bytes, number: int) -> Any:
    """One PDF page as an image for OCR, at SCAN_DPI."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(raw)
    try:
        return doc[number].render(scale=SCAN_DPI / 72).to_pil()
    finally:
        doc.close()


def docx_page_text(raw: bytes) -> Iterator[str]:
    """A Word file's text in the page format: headings (and a title) become ``## `` lines,
    paragraphs stay lines, and each table row becomes one line of its cells."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises zipfile, KeyError or its own errors on a bad file
        raise ValueError(f"not a readable Word file ({exc.__class__.__name__})") from exc
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(block, document)
            text = para.text.strip()
            style = (para.style.name if para.style is not None else "") or ""
            if not text:
                yield ""
            elif style.startswith(("Heading", "Title")) or style in ("标题", "题目"):
                yield from ("", "## " + text, "")
            else:
                yield text
        elif tag == "tbl":
            for row in Table(block, document).rows:
                cells = [c.text.strip() for c in row.cells]
                if any(cells):
                    yield "｜".join(dict.fromkeys(cells))  # merged cells repeat: keep each once
