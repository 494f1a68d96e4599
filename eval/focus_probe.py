"""How often the focus rule would hold back an answerable question's own article.

A who, where or count-of-things question is answered only from passages that name its focus
(rag/question.py, rag/compose.py). Eval samples hold too few such questions to judge that rule,
so this probe reads every question of a set against its gold article (title and text, as the
composer reads a passage) and counts, per kind of focus, the questions whose article does not
name it: those the rule refuses whatever the retrieval (eval/RESULTS.md, "The question's focus
read on all of DRCD"). Run it on training sets only when choosing a rule.

With ``--names`` it counts instead the questions that name something (rag/question.py:
question_names) no article of their set, with the distractors, names: those the name check
(rag/names.py) refuses however they are retrieved ("Names no article contains").

    python -m eval.focus_probe results/sets/drcd-dev results/sets/drcd-test
    python -m eval.focus_probe --names --distractors ../shared/eval-data/news-distractors results/sets/drcd-dev results/sets/drcd-test
"""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from eval.data import load_corpus, load_queries
from rag.names import article_words, named_in
from rag.question import names_focus, question_entities, question_focus, question_names


def probe(set_dirs: Sequence[Path]) -> dict[str, Counter[str]]:
    """Per focus kind: how many questions have one, and how many gold articles lack it."""
    out: dict[str, Counter[str]] = {}
    for set_dir in set_dirs:
        articles = {a.doc_id: a for a in load_corpus(set_dir)}
        for q in load_queries(set_dir):
            focus = question_focus(q.question)
            golds = [articles[d] for d in q.gold if d in articles]
            if focus is None or not focus.holds_back() or not golds:
                continue
            entities = question_entities(q.question)
            # title and text, as a chunk's embedding_text() gives them to the composer
            named = any(names_focus(f"{a.title}\n{a.text}", focus, entities) for a in golds)
            counts = out.setdefault(focus.kind, Counter())
            counts["questions"] += 1
            counts["article lacks it"] += not named
    return out


def probe_names(set_dirs: Sequence[Path], distractors: Path | None) -> tuple[int, list[tuple[str, str]]]:
    """How many questions have names, and which name no article of their index names."""
    with_names, unknown = 0, []
    for set_dir in set_dirs:
        text = "\x00".join(article_words(a) for a in load_corpus(set_dir, distractors=distractors))
        for q in load_queries(set_dir):
            names = question_names(q.question)
            with_names += bool(names)
            unknown += [(q.question, n) for n in names if not named_in(n, text)]
    return with_names, unknown


def format_table(result: dict[str, Counter[str]]) -> str:
    lines = ["| focus kind | questions | gold article lacks the focus |", "|---|---|---|"]
    for kind in ("who", "where", "count"):
        c = result.get(kind, Counter())
        lines.append(f"| {kind} | {c['questions']} | {c['article lacks it']} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sets", nargs="+", type=Path, help="evaluation set folders (queries.jsonl, corpus.jsonl)")
    ap.add_argument("--names", action="store_true", help="count questions naming what no article names")
    ap.add_argument("--distractors", type=Path, help="articles added to every set's index (with --names)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.names:
        with_names, unknown = probe_names(args.sets, args.distractors)
        print(f"questions with names: {with_names}; naming something no article names: "  # noqa: T201
              f"{len({q for q, _ in unknown})}")
        for question, name in unknown:
            print(f"  {name}\t{question}")  # noqa: T201
        return
    print(format_table(probe(args.sets)))  # noqa: T201 - a command's output


if __name__ == "__main__":
    main()
