"""Ingest: files in, repaired articles with metadata out.

A newspaper page arrives as one text file holding several articles under ``## `` headings,
mixed with page furniture (banners, column markers such as ``>> 北京经验 <<``), HTML
entities left over from the CMS, and paragraphs cut mid-sentence by the page layout.
Everything here turns that into clean :class:`~rag.types.Article` objects. One bad file
never stops a batch: its error is collected with the file's name and the rest go in.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from rag.types import Article

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"}  # scanned pages, read by OCR
LAID_OUT_SUFFIXES = {".pdf", ".docx"} | IMAGE_SUFFIXES  # read by rag.layout into the page format
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | LAID_OUT_SUFFIXES

# Characters after which a paragraph may legitimately end. A paragraph ending in anything
# else was cut by the page layout and continues in the next one.
_PARA_END = "。！？；…!?;.”’」』）)】》:："
_HEADING = re.compile(r"^#{1,3}\s+(.+?)\s*#*\s*$")
_COLUMN = re.compile(r"^\s*>>\s*(.+?)\s*<<\s*$")
_DATELINE = re.compile(r"^\s*本报讯[（(]([^）)]*)[）)]\s*")
# A headline's smaller companions, as the page format writes them (rag/layout.py writes
# them from type size): the kicker (引题) above the headline and the subhead (副题) below.
_TITLE_PART = re.compile(r"^\s*(引题|副题)[:：]\s*(.+?)\s*$")
_SOURCE_LINE = re.compile(r"^\s*(?:转自|来源[:：]|稿件来源[:：])\s*《?([^》\s]+)》?\s*$")
_PHOTO_CREDIT = re.compile(r"^\s*(?:本报记者|记者|通讯员)[^。！？]{0,60}?(?:摄影报道|摄影|摄)\s*$")
# Page furniture: lines a web page or a PDF footer carries that are never article text.
# Short lines only (a real paragraph that mentions 版权 is not furniture).
_FURNITURE = re.compile(
    r"(?:[京沪粤津渝冀苏浙闽鲁豫鄂湘川]ICP[备证]|ICP[备证]\s*\d|公网安备|网安备|备案号|增值电信业务经营许可证"
    r"|版权所有|copyright|all rights reserved|©|未经(?:书面)?(?:授权|许可).{0,12}(?:转载|使用|复制)|转载请注明"
    r"|^(?:主办单位|承办单位|主管单位|协办单位|技术支持|联系我们|联系电话|投稿邮箱|责任编辑|编辑|校对|审核)\s*[:：]"
    r"|分享到|扫一扫|返回顶部|上一篇|下一篇|打印本页|关闭窗口|【打印】|【关闭】|字号\s*[:：]?\s*[大中小]"
    r"|^首页\s*[>|/»]|^当前位置|^(?:图表|图片|图|来源图)\s*[:：]|^(?:图片来源|视频来源)"
    r"|find, customize, share|sorry, no results were found|lorem ipsum)",
    re.IGNORECASE)
FURNITURE_MAX_CHARS = 120


MOSTLY_FURNITURE_LINES = 3  # at least this many furniture lines, and no fewer than paragraphs kept


def is_furniture_line(line: str) -> bool:
    """A footer, licence or copyright line, navigation, a share button or a caption."""
    return len(line) <= FURNITURE_MAX_CHARS and bool(_FURNITURE.search(line))


_ROLE_NAMES = re.compile(r"(本报记者|记者|通讯员)\s*([^\s记通摄]{2,4}(?:\s+[^\s记通摄]{2,4})*)")


class IngestError(Exception):
    """A file that could not be read or parsed; the message names the file."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class IngestReport:
    """What a batch produced: the articles, and one error per file that failed."""

    articles: tuple[Article, ...]
    errors: tuple[IngestError, ...]


# --------------------------------------------------------------------------- text repair


def repair_paragraphs(paragraphs: Iterable[str]) -> list[str]:
    """Join paragraphs that the page layout broke mid-sentence ("积极开" / "展工会驿站建设")."""
    out: list[str] = []
    for para in paragraphs:
        para = para.strip()
        if not para:
            continue
        if out and out[-1][-1] not in _PARA_END and _is_cjk_or_word(para[0]):
            out[-1] = out[-1] + para
        else:
            out.append(para)
    return out


def _is_cjk_or_word(ch: str) -> bool:
    return ch.isalnum() or "\u4e00" <= ch <= "\u9fff" or ch in "“‘「《（("


def _names(s: str) -> list[str]:
    return [n for n in re.split(r"[\s、，,]+", s.strip()) if n]


def _people(text: str) -> dict[str, list[str]]:
    """Reporters and correspondents named in a dateline or photo credit."""
    found: dict[str, list[str]] = {}
    for role, names in _ROLE_NAMES.findall(text):
        key = "correspondents" if role == "通讯员" else "reporters"
        found.setdefault(key, []).extend(_names(names))
    return found


@dataclass
class _Section:
    heading: str
    lines: list[str]


def _sections(text: str) -> tuple[list[str], list[_Section]]:
    """Split text at markdown headings; returns the lines before the first heading and the sections."""
    preamble: list[str] = []
    sections: list[_Section] = []
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            sections.append(_Section(m.group(1).strip(), []))
        elif sections:
            sections[-1].lines.append(line)
        else:
            preamble.append(line)
    return preamble, sections


def _is_furniture(body: list[str]) -> bool:
    """A heading whose body holds no sentence is a page banner or kicker, not an article."""
    text = "".join(line.strip() for line in body if not _COLUMN.match(line))
    return len(text) < 80 and not re.search(r"[。！？!?]", text)


def parse_page(text: str, *, source_path: str = "", default_title: str | None = None,
               base_meta: dict[str, Any] | None = None, split_sections: bool = True) -> list[Article]:
    """Split one page of Markdown-like text into articles.

    Page furniture is not an article: a column marker ``>> X <<`` becomes the ``column``
    of the article that follows it, a heading with no sentences under it becomes that
    article's ``banner`` (and its line, if any, the ``kicker``). Datelines, source lines
    and photo credits move from the text into metadata.

    ``default_title`` None means "guess": a short first line without a full stop is the
    title. ``split_sections=False`` keeps the text one article (a JSONL record already is).
    """
    text = html.unescape(text.replace("\r\n", "\n").replace("\r", "\n"))
    if split_sections:
        preamble, sections = _sections(text)
    else:
        preamble, sections = text.splitlines(), []
    if not sections:
        title = default_title or ""
        lines = preamble
        first = next((ln.strip() for ln in lines if ln.strip()), "")
        if default_title is None and first and len(first) <= 60 and not re.search(r"[。！？]$", first):
            title = first
            lines = lines[lines.index(next(ln for ln in lines if ln.strip())) + 1:]
        sections = [_Section(title, lines)]
    elif any(ln.strip() for ln in preamble):
        sections.insert(0, _Section(default_title or "", preamble))

    articles: list[Article] = []
    pending: dict[str, Any] = {}
    for section in sections:
        body = list(section.lines)
        if split_sections and _is_furniture(body):
            column = [m.group(1) for ln in body if (m := _COLUMN.match(ln))]
            kicker = " ".join((m.group(2) if (m := _TITLE_PART.match(ln)) else ln.strip()) for ln in body
                              if ln.strip() and not _COLUMN.match(ln))
            pending.setdefault("banner", section.heading)
            if kicker:
                pending["kicker"] = kicker
            if column:
                pending["column"] = column[-1]
            continue
        meta = dict(base_meta or {})
        meta.update(pending)
        pending = {}
        paragraphs: list[str] = []
        furniture = 0
        for raw in body:
            line = raw.strip()
            if not line:
                paragraphs.append("")
                continue
            if m := _COLUMN.match(line):
                # A marker inside an article's body heads the *next* article on the page.
                pending["column"] = m.group(1)
                continue
            if not any(paragraphs) and (m := _TITLE_PART.match(line)):
                meta["kicker" if m.group(1) == "引题" else "subtitle"] = m.group(2)
                continue
            if m := _SOURCE_LINE.match(line):
                meta["source"] = m.group(1)
                continue
            if _PHOTO_CREDIT.match(line):
                meta["photo_credit"] = line
                people = _people(line)
                for key, names in people.items():
                    meta.setdefault(key, names)
                # whose photographs these are: "谁拍摄了通州那篇报道的照片" (rag/byline.py)
                meta["photographers"] = [n for names in people.values() for n in names]
                continue
            if is_furniture_line(line):
                furniture += 1
                continue
            paragraphs.append(line)
        # Blank lines separate paragraphs; consecutive non-blank lines are one paragraph each too.
        paras = repair_paragraphs(p for p in paragraphs if p)
        if paras and (m := _DATELINE.match(paras[0])):
            meta["dateline"] = m.group(0).strip()
            for key, names in _people(m.group(1)).items():
                meta.setdefault(key, names)
            paras[0] = paras[0][m.end():]
        body_text = "\n".join(p for p in paras if p)
        if not body_text:
            continue
        if furniture:
            meta["furniture_lines_removed"] = furniture
            if furniture >= max(MOSTLY_FURNITURE_LINES, len(paras)):
                meta["mostly_furniture"] = True  # reported by indexing: worth a look before it is trusted
        # A provisional id: indexing gives it one from its collection and source.
        articles.append(Article.make(section.heading, body_text, source_path=source_path, meta=meta))
    return join_continuations(articles)


_CONTINUES = re.compile(r"[（(]\s*(?:下转|转)第?\s*([0-9一二三四五六七八九十]+)\s*版\s*[)）]\s*$")
_CONTINUED = re.compile(r"^\s*[（(]\s*(?:上接|接)第?\s*([0-9一二三四五六七八九十]+)\s*版\s*[)）]\s*")


def join_continuations(articles: list[Article]) -> list[Article]:
    """An article ending "（下转第2版）" and a later one opening "（上接第1版）" are one story
    printed on two pages: joined under the first one's title, the markers dropped (a
    paragraph cut by the page break rejoined), and the page it went on to recorded
    (``continued_on``)."""
    out: list[Article] = []
    waiting: list[int] = []  # indexes in ``out`` of articles that continue later
    for a in articles:
        m = _CONTINUED.match(a.text)
        if m and waiting:
            i = waiting.pop(0)
            first = out[i]
            text = "\n".join(repair_paragraphs([*first.text.split("\n"), *a.text[m.end():].split("\n")]))
            out[i] = Article.make(first.title, text, source_path=first.source_path, meta=dict(first.meta))
            continue
        if (m := _CONTINUES.search(a.text)) is not None:
            a = Article.make(a.title, a.text[:m.start()].rstrip(), source_path=a.source_path,
                             meta={**a.meta, "continued_on": m.group(1)})
            waiting.append(len(out))
        out.append(a)
    return out


# --------------------------------------------------------------------------- file formats


class _HTMLToPage(HTMLParser):
    """Turns HTML into the page format: headings become ``## ``, block elements become lines."""

    _BLOCK = {"p", "div", "br", "li", "tr", "section", "article", "blockquote", "h4", "h5", "h6"}
    _SKIP = {"script", "style", "nav", "footer", "header", "noscript"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.title = ""
        self.date = ""
        self.headings = 0  # h1/h2 outside the skipped furniture: two or more make a page of articles
        self._skip = 0
        self._in_title = False

    _DATE_META = {"article:published_time", "pubdate", "publishdate", "date", "dc.date", "publish_date"}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "meta" and not self.date:
            key = (a.get("property") or a.get("name") or "").lower()
            if key in self._DATE_META and a.get("content"):
                self.date = (a["content"] or "").strip()
        elif tag == "time" and not self.date and a.get("datetime"):
            self.date = (a["datetime"] or "").strip()
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag in ("h1", "h2", "h3"):
            self.lines.append("## ")
            self.headings += tag in ("h1", "h2") and not self._skip
        elif tag in self._BLOCK:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in ("h1", "h2", "h3") or tag in self._BLOCK:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data.strip()
            return
        self.lines[-1] += re.sub(r"\s+", " ", data) if self.lines[-1].startswith("## ") else data.strip()


def _web_article(doc: str) -> tuple[str, str, dict[str, str]] | None:
    """A web page's title, main text (paragraphs on their own lines) and date, by
    trafilatura; None when it finds no main text. Chosen over the page reader for single
    articles by measurement (bench/html_extract.py: body F1 0.94 against 0.75, 2 furniture
    lines leaked against 84, on news pages made from the seed articles)."""
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    got: Any = trafilatura.bare_extraction(doc, include_comments=False, include_tables=True, favor_precision=True,
                                           with_metadata=True)
    text = str(getattr(got, "text", None) or "").strip()
    if not text:
        return None
    date = getattr(got, "date", None)
    return str(getattr(got, "title", None) or "").strip(), text, {"date": str(date)} if date else {}


def _decode(path: Path, raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            str(path),
            f"not UTF-8 text (bad byte at offset {exc.start}); convert it first, e.g. "
            f"iconv -f GBK -t UTF-8",
        ) from exc


def article_from_record(title: str, text: str, *, source_path: str, doc_id: str | None = None,
                        meta: dict[str, Any] | None = None) -> Article | None:
    """One article from a title and a body (a JSONL line, an API request): cleaned and
    repaired like a page, never split. None when nothing is left after cleaning."""
    parsed = parse_page(text, source_path=source_path, default_title=html.unescape(title),
                        base_meta=meta, split_sections=False)
    if not parsed:
        return None
    a = parsed[0]
    if doc_id is None:
        return a
    return Article.make(a.title, a.text, source_path=source_path, doc_id=doc_id, meta=dict(a.meta))


def parse_jsonl(text: str, *, source_path: str,
                errors: list[IngestError] | None = None) -> list[Article]:
    """One article per line: ``{"title": ..., "text": ...}``; other keys become metadata.

    A bad line is reported with its number and skipped (appended to ``errors``), so one
    broken record never sinks the file; without ``errors`` the first one raises.
    """
    articles = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            articles.append(_jsonl_record(line, lineno, source_path))
        except IngestError as exc:
            if errors is None:
                raise
            log.warning("skipped %s", exc)
            errors.append(exc)
    return articles


def _jsonl_record(line: str, lineno: int, source_path: str) -> Article:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as exc:
        raise IngestError(source_path, f"line {lineno}: invalid JSON ({exc.msg})") from exc
    if not isinstance(rec, dict):
        raise IngestError(source_path, f"line {lineno}: expected an object, got {type(rec).__name__}")
    body = rec.get("text", rec.get("content"))
    if not isinstance(body, str) or not body.strip():
        raise IngestError(source_path, f"line {lineno}: missing or empty 'text'")
    title = rec.get("title") or ""
    if not isinstance(title, str):
        raise IngestError(source_path, f"line {lineno}: 'title' must be a string")
    meta = {k: v for k, v in rec.items() if k not in ("text", "content", "title", "doc_id", "id")}
    explicit_id = rec.get("doc_id", rec.get("id"))
    article = article_from_record(title, body, source_path=source_path, meta=meta,
                                  doc_id=None if explicit_id is None else str(explicit_id))
    if article is None:
        raise IngestError(source_path, f"line {lineno}: no article text left after cleaning")
    return article


def parse_file(path: Path, raw: bytes | None = None, *,
               errors: list[IngestError] | None = None, progress: bool = False) -> list[Article]:
    """Parse one file by its suffix; raises :class:`IngestError` naming the file.

    With ``errors``, bad records inside a file (a JSONL line) are appended there and
    skipped; the file fails as a whole only when nothing in it can be read.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise IngestError(str(path), f"unsupported file type {suffix or '(none)'}; "
                                     f"expected one of {', '.join(sorted(SUPPORTED_SUFFIXES))}")
    if raw is None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise IngestError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if suffix in LAID_OUT_SUFFIXES:
        articles = _parse_laid_out(path, raw, progress)
        if not articles:
            raise IngestError(str(path), "no article text found (no text layer, and OCR read none)")
        return articles
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError(str(path), "looks like a binary file, not text")
    text = _decode(path, raw)
    meta = {"file": path.name}
    if suffix in JSONL_SUFFIXES:
        articles = parse_jsonl(text, source_path=path.name, errors=errors)
    elif suffix in HTML_SUFFIXES:
        parser = _HTMLToPage()
        try:
            parser.feed(text)
            parser.close()
        except Exception as exc:  # html.parser is lenient; anything raised here is a real defect
            raise IngestError(str(path), f"cannot parse HTML: {exc}") from exc
        if parser.date:
            meta["date"] = parser.date
        web = _web_article(text) if parser.headings < 2 else None
        if web is not None:  # one article in a web page's furniture: its main text
            title, body, found = web
            # The page's own headline first: a <title> often carries the site's name ("…_劳动午报").
            heading = next((ln[3:].strip() for ln in parser.lines if ln.startswith("## ") and ln[3:].strip()), "")
            articles = parse_page(f"## {heading or title or parser.title or path.stem}\n\n{body}",
                                  source_path=path.name, base_meta={**found, **meta})
        else:  # a newspaper page exported as HTML: several headed articles, read as a page
            articles = parse_page("\n".join(parser.lines), source_path=path.name,
                                  default_title=parser.title or path.stem, base_meta=meta)
    else:
        articles = parse_page(text, source_path=path.name, base_meta=meta)
    if not articles:
        raise IngestError(str(path), "no article text found")
    return articles


def _parse_laid_out(path: Path, raw: bytes, progress: bool = False) -> list[Article]:
    from rag.layout import docx_page_text, image_page_text, pdf_page_text

    meta: dict[str, Any] = {"file": path.name}
    try:
        if path.suffix.lower() in (".pdf", *IMAGE_SUFFIXES):
            page, facts = (pdf_page_text(raw, progress=progress, name=path.name) if path.suffix.lower() == ".pdf"
                           else image_page_text(raw))
            meta.update(facts)
        else:
            page = "\n".join(docx_page_text(raw))
    except ValueError as exc:
        raise IngestError(str(path), str(exc)) from exc
    return parse_page(page, source_path=path.name, default_title=path.stem, base_meta=meta)


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand directories to the supported files under them, in a stable order."""
    for p in paths:
        if p.is_dir():
            yield from sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES)
        else:
            yield p


def ingest_paths(paths: Iterable[Path | str]) -> IngestReport:
    """Parse every file; a failing file is reported, not fatal, so the rest of the batch goes in."""
    articles: list[Article] = []
    errors: list[IngestError] = []
    seen: set[str] = set()
    for path in iter_files(Path(p) for p in paths):
        if not path.exists():
            errors.append(IngestError(str(path), "no such file"))
            continue
        try:
            parsed = parse_file(path, errors=errors)
        except IngestError as exc:
            log.warning("skipped %s", exc)
            errors.append(exc)
            continue
        for a in parsed:
            if a.doc_id not in seen:  # the same article twice in a batch is kept once
                seen.add(a.doc_id)
                articles.append(a)
    return IngestReport(tuple(articles), tuple(errors))
