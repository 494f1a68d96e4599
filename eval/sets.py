"""Evaluation sets the project makes from public data (written under ``results/``, never
committed): DRCD in the shared format, and "stress" sets of under-specified questions.

    zhrag eval-set drcd ../shared/train-data/drcd/DRCD_dev.json results/sets/drcd-dev
    zhrag eval-set stress ../shared/eval-data/cmrc2018-dev results/sets/cmrc-stress
    zhrag eval-set drcd-traditional ../shared/train-data/drcd/DRCD_dev.json results/sets/drcd-dev-trad
    zhrag eval-set keyword results/sets/drcd-dev results/sets/drcd-dev-kw

DRCD is Traditional Chinese: context, question and answers are converted to Simplified
together (OpenCC ``t2s``). A stress question is the original with its named places,
organisations and people removed (or, lacking those, its leading noun phrase): the short,
under-specified questions reading-comprehension sets are full of ("有多少人参与爆炸袭击"),
where the embedder is weak and exact words matter. A keyword question is the original
without its question word, as typed into a search box ("柏林围墙倒塌时间").
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from rag.span import question_kind

log = logging.getLogger(__name__)

_STRIP_FLAGS = ("nr", "nrt", "ns", "nt", "nz")
# A question word with the copula before it and, after 几/多少, the measure word it takes.
_KEYWORD_DROP = re.compile(
    r"[在是为]?(?:什么(?:样的|时候|地方)?|哪(?:一|几)?[个家种部所位些年天里儿座本首件项支国省市州]?|谁|何(?:时|地|处|人|种)?"
    r"|(?:几|多少)[个位名次项家条座所岁年月日号天种倍]?)时?")
_KIND_WORD = {"date": "时间", "place": "地点", "count": "数量"}


def drcd_to_set(drcd_json: Path, out: Path, *, simplify_questions: bool = True,
                questions_from_last: int | None = None) -> tuple[int, int]:
    """Write ``corpus.jsonl`` (one article per paragraph) and ``queries.jsonl``; returns counts.

    ``simplify_questions=False`` keeps the questions in Traditional characters over the
    Simplified corpus: a training set where the lexical half is weak by construction (about
    a third of the characters differ) and the multilingual embedder is not, so a fusion
    fitted on DRCD also sees queries on which dense retrieval should win.

    ``questions_from_last=N`` keeps every paragraph in the corpus but only the questions of
    the last N paragraphs: run on DRCD_test with the reader's ``holdout_paragraphs``, these
    are the questions the span reader never trained on (eval/reader_probe.py tunes on them)."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    data = json.loads(Path(drcd_json).read_text(encoding="utf-8"))["data"]
    out.mkdir(parents=True, exist_ok=True)
    n_docs = n_q = 0
    n_paragraphs = sum(len(a["paragraphs"]) for a in data)
    first_asked = 0 if questions_from_last is None else n_paragraphs - questions_from_last
    with (out / "corpus.jsonl").open("w", encoding="utf-8") as corpus, \
            (out / "queries.jsonl").open("w", encoding="utf-8") as queries:
        for article in data:
            title = t2s.convert(article.get("title", ""))
            for p in article["paragraphs"]:
                doc_id = f"drcd-{p['id']}"
                corpus.write(json.dumps({"doc_id": doc_id, "title": title, "text": t2s.convert(p["context"])},
                                        ensure_ascii=False) + "\n")
                n_docs += 1
                for qa in (p["qas"] if n_docs > first_asked else []):
                    answers = list(dict.fromkeys(t2s.convert(a["text"]) for a in qa["answers"]))
                    question = t2s.convert(qa["question"]) if simplify_questions else qa["question"]
                    queries.write(json.dumps({"qid": qa["id"], "question": question,
                                              "answers": answers, "gold_doc_ids": [doc_id],
                                              "answer_mode": "span_any"}, ensure_ascii=False) + "\n")
                    n_q += 1
    return n_docs, n_q


def underspecify(question: str) -> str | None:
    """The question without its named entities (or its leading noun phrase); None when too little is left."""
    import jieba.posseg as pseg

    words = [(w.word, w.flag) for w in pseg.cut(question)]
    kept = [w for w, f in words if not (f in _STRIP_FLAGS and len(w) >= 2)]
    if len(kept) == len(words):  # no named entity: drop the leading nouns instead
        i = 0
        while i < len(words) and (words[i][1].startswith("n") or words[i][1] in ("m", "q", "uj")):
            i += 1
        kept = [w for w, _ in words[i:]] if i else kept
    out = "".join(kept).strip("，、的 ")
    core = [ch for ch in out if "\u4e00" <= ch <= "\u9fff" or ch.isalnum()]
    return out if len(core) >= 4 and out != question else None


def keyword_form(question: str) -> str:
    """The question as a search-box query: its question word (and the copula before it)
    dropped and the kind of answer named at the end ("柏林围墙在哪一年时倒塌？" →
    "柏林围墙倒塌时间", "《论自由》的作者是谁?" → "《论自由》的作者"); the question
    itself when nothing is left to drop or too little would remain."""
    q = re.sub(r"[呢吗啊]*[？?。！!\s]*$", "", question)
    kw = re.sub(r"(?:的|是|为|了)+$", "", _KEYWORD_DROP.sub("", q))
    if kw == q or len(kw) < 3:
        return question
    return kw + _KIND_WORD.get(question_kind(question) or "", "")


def _keyword_or_none(question: str) -> str | None:
    kw = keyword_form(question)
    return None if kw == question else kw


def stress_set(source: Path, out: Path) -> int:
    """Under-specified versions of a set's questions over the same corpus; returns the count."""
    return _rewritten_set(source, out, underspecify, "stress")


def keyword_set(source: Path, out: Path) -> int:
    """A set's questions typed as into a search box (``keyword_form``: "小米6防水等级"-like,
    the form a third of DuReader's web queries take) over the same corpus; questions with
    no question word to drop are left out. Returns the count."""
    return _rewritten_set(source, out, _keyword_or_none, "kw")


def _rewritten_set(source: Path, out: Path, rewrite: Callable[[str], str | None], tag: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(source) / "corpus.jsonl", out / "corpus.jsonl")
    n = 0
    with (Path(source) / "queries.jsonl").open(encoding="utf-8") as f, \
            (out / "queries.jsonl").open("w", encoding="utf-8") as o:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            q = rewrite(rec["question"])
            if q is None:
                continue
            o.write(json.dumps({**rec, "qid": f"{rec['qid']}-{tag}", "question": q, "original": rec["question"]},
                               ensure_ascii=False) + "\n")
            n += 1
    return n
