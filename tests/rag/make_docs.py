"""Fixtures made by the tests themselves: the seed page laid out as a three-column
newspaper page PDF, and as a Word file. Never downloaded; reportlab's built-in
STSong-Light CID font needs no font file, python-docx writes the .docx."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_81dfe4e12853fccd.txt"
HEADER = "2025年3月12日 星期三 第3版 · 工会新闻"
PAGE_BREAK = "<<page break>>"  # a line of the fixture text that starts a new page


def _blocks(text: str) -> list[tuple[str, str]]:
    """The page format's lines as (kind, text): headline or paragraph."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line == PAGE_BREAK:
            out.append(("break", ""))
        elif line.startswith("## "):
            out.append(("headline", line[3:]))
        elif line.startswith(("引题：", "副题：")):
            out.append(("kicker" if line.startswith("引题") else "subhead", line[3:]))
        elif line:
            out.append(("paragraph", line))
    return out


def seed_page_pdf(path: Path, text: str | None = None, *, numbered: bool = False) -> Path:
    """The page on A4 pages of three columns: headlines at 16 pt (kicker and subhead lines,
    "引题：…" and "副题：…", at 12 pt), body at 9 pt with a
    two-character first-line indent, the page header above the columns (with ``numbered``,
    each page's header names its own 版次: 第1版, 第2版, …)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import BaseDocTemplate, Frame, PageBreak, PageTemplate, Paragraph

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=9, leading=13, firstLineIndent=18,
                          wordWrap="CJK", spaceAfter=2)
    head = ParagraphStyle("head", fontName="STSong-Light", fontSize=16, leading=20, spaceBefore=10, spaceAfter=6,
                          wordWrap="CJK")
    width, height = A4
    margin, gap = 36.0, 14.0
    col = (width - 2 * margin - 2 * gap) / 3
    frames = [Frame(margin + i * (col + gap), margin, col, height - 2 * margin - 24, id=f"col{i}") for i in range(3)]

    def header(canvas, _doc) -> None:
        canvas.setFont("STSong-Light", 8)
        canvas.drawString(margin, height - margin + 4,
                          HEADER.replace("第3版", f"第{canvas.getPageNumber()}版") if numbered else HEADER)

    doc = BaseDocTemplate(str(path), pagesize=A4)
    doc.addPageTemplates([PageTemplate(frames=frames, onPage=header)])
    second = ParagraphStyle("second", fontName="STSong-Light", fontSize=12, leading=15, spaceAfter=3, wordWrap="CJK")
    styles = {"headline": head, "kicker": second, "subhead": second}
    story = [PageBreak() if kind == "break" else Paragraph(escape(t), styles.get(kind, body))
             for kind, t in _blocks(text if text is not None else SEED.read_text("utf-8"))]
    doc.build(story)
    return path


def seed_docx(path: Path, text: str | None = None) -> Path:
    """The page as a Word file: headlines as Heading 2, paragraphs as body text, plus a table."""
    import docx

    document = docx.Document()
    for kind, t in _blocks(text if text is not None else SEED.read_text("utf-8")):
        if kind == "headline":
            document.add_heading(t, level=2)
        else:
            document.add_paragraph(t)
    return _save(document, path)


def _save(document, path: Path) -> Path:
    document.save(str(path))
    return path


def cjk_system_font() -> bool:
    """Whether fontconfig knows a Chinese font. The PDFs here use the STSong-Light CID font,
    which is not embedded: pdfium can only draw its glyphs with a system CJK font (Debian's
    fonts-noto-cjk, which .ci/run installs); without one a rendered page is blank."""
    import shutil
    import subprocess

    fc = shutil.which("fc-list")
    return bool(fc and subprocess.run([fc, ":lang=zh"], capture_output=True, text=True).stdout.strip())


def seed_scan(path: Path, *, dpi: int = 200, angle: float = 0.6, noise: float = 12.0, seed: int = 0) -> Path:
    """The three-column PDF as a scan: each page rendered to an image, turned a little,
    speckled with noise, and saved as an image-only PDF (no text layer)."""
    import numpy as np
    import pypdfium2
    from PIL import Image

    laid_out = seed_page_pdf(path.with_suffix(".laid-out.pdf"))
    doc = pypdfium2.PdfDocument(str(laid_out))
    rng = np.random.default_rng(seed)
    pages = []
    for page in doc:
        img = page.render(scale=dpi / 72).to_pil().convert("L").rotate(angle, expand=False, fillcolor=255)
        arr = np.asarray(img, dtype=np.float32) + rng.normal(0, noise, (img.height, img.width))
        pages.append(Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)))
    doc.close()
    pages[0].save(path, save_all=True, append_images=pages[1:], resolution=dpi)
    return path
