"""Evaluation sets in the ``../shared/eval-data`` format, read in place (never copied).

``corpus.jsonl``: ``{doc_id, title, text}``; ``queries.jsonl``: ``{qid, question, answers,
gold_doc_ids, answer_mode}``. The corpus goes through the project's own ingest, so the
evaluation measures the pipeline the service runs.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from rag.ingest import ingest_paths
from rag.types import Article

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "eval-data"


# answer_mode values: "span_any" (correct when any answer matches) or a grouped mode, whose
# answers are groups of alternatives (correct when every group has a match in the answer).
SPAN_ANY = "span_any"
GROUPED_MODES = frozenset({"all_groups", "span_all_groups", "groups"})


@dataclass(frozen=True)
class Query:
    qid: str
    question: str
    answers: tuple[str, ...]  # every alternative (all groups flattened)
    gold: frozenset[str]
    groups: tuple[tuple[str, ...], ...] = ()  # grouped modes only

    def answer_groups(self) -> tuple[tuple[str, ...], ...]:
        """The groups that must all be matched; span_any is one group of alternatives."""
        return self.groups or (self.answers,)


def _parse_answers(mode: object, answers: object) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    if not isinstance(answers, list):
        raise TypeError("'answers' must be a list")
    if mode in (None, SPAN_ANY):
        if not all(isinstance(a, str) for a in answers):
            raise TypeError("span_any answers must be strings")
        return tuple(answers), ()
    if mode in GROUPED_MODES:
        groups = tuple(tuple(g) if isinstance(g, list) else (g,) for g in answers)
        if not all(isinstance(a, str) for g in groups for a in g):
            raise TypeError("grouped answers must be strings or lists of strings")
        return tuple(a for g in groups for a in g), groups
    raise ValueError(f"unknown answer_mode {mode!r}; this version scores {SPAN_ANY!r} and "
                     f"{', '.join(sorted(GROUPED_MODES))}")


def load_queries(set_dir: Path, *, sample: int | None = None, seed: int = 13) -> list[Query]:
    path = Path(set_dir) / "queries.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: an evaluation set needs queries.jsonl and corpus.jsonl")
    queries = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                answers, groups = _parse_answers(r.get("answer_mode"), r.get("answers") or [])
                queries.append(Query(str(r["qid"]), r["question"], answers, frozenset(map(str, r["gold_doc_ids"])),
                                     groups))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{lineno}: not a query record ({exc})") from exc
    if sample is not None and sample < len(queries):
        # A seeded sample, kept in file order, so runs are comparable.
        keep = set(random.Random(seed).sample(range(len(queries)), sample))
        queries = [q for i, q in enumerate(queries) if i in keep]
    return queries


def load_corpus(set_dir: Path, *, distractors: Path | None = None, n_distractors: int | None = None,
                max_docs: int | None = None, must_keep: frozenset[str] = frozenset(), seed: int = 13) -> list[Article]:
    """The set's articles (optionally cut to ``max_docs``, always keeping ``must_keep``), plus distractors."""
    corpus_path = Path(set_dir) / "corpus.jsonl"
    if not corpus_path.is_file():
        raise FileNotFoundError(f"{corpus_path} not found")
    report = ingest_paths([corpus_path])
    if report.errors:
        raise ValueError(f"corpus could not be read: {report.errors[0]}")
    articles = list(report.articles)
    if max_docs is not None and max_docs < len(articles):
        gold = [a for a in articles if a.doc_id in must_keep]
        rest = [a for a in articles if a.doc_id not in must_keep]
        random.Random(seed).shuffle(rest)
        articles = gold + rest[: max(0, max_docs - len(gold))]
    if distractors is not None:
        dpath = Path(distractors)
        dpath = dpath / "corpus.jsonl" if dpath.is_dir() else dpath
        drep = ingest_paths([dpath])
        if drep.errors:
            raise ValueError(f"distractors could not be read: {drep.errors[0]}")
        extra = list(drep.articles)[: n_distractors if n_distractors is not None else None]
        ids = {a.doc_id for a in articles}
        articles += [a for a in extra if a.doc_id not in ids]
    return articles
