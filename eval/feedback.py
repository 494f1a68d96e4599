"""Reviewed feedback as an evaluation set in the shared format, so ``zhrag eval`` scores
the service on the questions staff really asked.

- A confirmed query's gold articles are the ones the editor confirmed among its citations;
  its answer is the corrected answer, if one was given (otherwise the query is scored on
  retrieval and citations only).
- A confirmed up-vote of a refusal is an unanswerable question: no gold article, and the
  evaluation expects a refusal.
- A follow-up question is exported as the standalone question retrieval used (the
  conversation is resolved the way the chat resolves it), with the conversation kept
  beside it for reference.
- ``corpus.jsonl`` holds the knowledge base's articles (every one, or those the queries
  name), so the evaluation searches the same archive.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.staff import Feedback
from rag.conversation import Turn, standalone_question
from rag.types import Article


@dataclass(frozen=True)
class ExportReport:
    queries: int
    unanswerable: int
    articles: int
    skipped: tuple[str, ...]  # feedback left out, and why


def feedback_queries(items: Sequence[Feedback]) -> tuple[list[dict], list[str]]:
    """Evaluation records for confirmed feedback; the reasons others were left out."""
    out, skipped = [], []
    for fb in items:
        if fb.status != "confirmed":
            skipped.append(f"feedback {fb.id}: not confirmed ({fb.status})")
            continue
        history = [Turn(t["role"], t["content"]) for t in fb.conversation]
        question = standalone_question(history, fb.question)
        base = {"qid": f"feedback-{fb.id}", "question": question, "answer_mode": "span_any",
                "asked": fb.question, "conversation": list(fb.conversation), "index_version": fb.index_version}
        if fb.refused and fb.rating > 0:
            out.append({**base, "answers": [], "gold_doc_ids": [], "unanswerable": True})
        elif fb.confirmed_doc_ids:
            out.append({**base, "answers": [fb.corrected] if fb.corrected else [],
                        "gold_doc_ids": list(fb.confirmed_doc_ids)})
        else:
            skipped.append(f"feedback {fb.id}: confirmed without confirmed articles, and not an up-voted refusal")
    return out, skipped


def _write_lines(path: Path, records: Iterable[dict]) -> None:
    """Temporary file, fsync, rename: an interrupted export leaves the old file or none."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def export_set(items: Sequence[Feedback], articles: Iterable[Article], out: Path, *,
               only_named: bool = False) -> ExportReport:
    queries, skipped = feedback_queries(items)
    named = {d for q in queries for d in q["gold_doc_ids"]}
    out.mkdir(parents=True, exist_ok=True)
    n = 0

    def corpus() -> Iterable[dict]:
        nonlocal n
        for a in articles:
            if only_named and a.doc_id not in named:
                continue
            n += 1
            yield {"doc_id": a.doc_id, "title": a.title, "text": a.text,
                   **{k: v for k, v in a.meta.items() if k in ("date", "column", "source")}}

    _write_lines(out / "corpus.jsonl", corpus())
    _write_lines(out / "queries.jsonl", queries)
    return ExportReport(len(queries), sum(1 for q in queries if not q["gold_doc_ids"]), n, tuple(skipped))
