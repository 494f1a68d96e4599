"""The ``zhrag`` command line: build, ask, search, add, delete, serve, eval.

Output for people goes to stdout; progress and logs go to stderr, so ``zhrag ask --json``
can be piped.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.types import Answer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Cited question answering over Chinese articles.")
log = logging.getLogger("zhrag")


def _quiet_third_party() -> None:
    # No model hub is reachable: make every Hugging Face library fail fast instead of retrying.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for name in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "bm25s", "jieba", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    _quiet_third_party()
    try:
        from transformers.utils import logging as tlog

        tlog.set_verbosity_error()
        tlog.disable_progress_bar()
    except Exception:  # transformers missing is reported later, where it is needed
        pass


def _settings(index_dir: Path | None = None):
    from pydantic import ValidationError

    from rag.settings import Settings

    try:
        return Settings(index_dir=index_dir) if index_dir else Settings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"ZHRAG_{'_'.join(map(str, e['loc'])).upper()}: " if e["loc"] else "") + e["msg"]
            for e in exc.errors())
        _fail(f"invalid settings: {problems}")
        raise  # unreachable: _fail exits


def _fail(msg: str, code: int = 1) -> None:
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def format_answer(ans: Answer) -> str:
    """The answer and, under it, each cited source with title, column/source and quoted text."""
    lines = [ans.text]
    if ans.citations:
        lines += ["", "来源："]
    for c in ans.citations:
        meta = c.chunk.meta
        about = [f"栏目：{meta['column']}" if meta.get("column") else "",
                 f"来源：{meta['source']}" if meta.get("source") else "",
                 f"记者：{'、'.join(meta['reporters'])}" if meta.get("reporters") else "",
                 f"日期：{meta['date']}" if meta.get("date") else ""]
        about_s = " · ".join(a for a in about if a)
        lines.append(f"[{c.n}] 《{c.chunk.title}》" + (f"（{about_s}）" if about_s else ""))
        for q in c.quotes:
            lines.append(f"    第{q.start}–{q.end}字：“{q.text}”")
    return "\n".join(lines)


IndexOpt = Annotated[Path | None, typer.Option("--index-dir", help="index directory (default: ZHRAG_INDEX_DIR)")]


@app.command()
def ask(question: Annotated[str, typer.Argument(help="the question, in Chinese")],
        top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="passages to retrieve")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        index_dir: IndexOpt = None) -> None:
    """Answer a question with citations (builds the default index from seeds/ on first use)."""
    from index.store import IndexStoreError
    from rag.pipeline import QuestionError, load_engine

    try:
        engine = load_engine(_settings(index_dir), progress=True)
        ans = engine.ask(question, top_k)
    except (QuestionError, IndexStoreError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2) if as_json else format_answer(ans))


@app.command()
def search(query: str, k: Annotated[int, typer.Option("-k", min=1, max=100)] = 5,
           mode: Annotated[str, typer.Option(help="hybrid, dense or bm25")] = "hybrid",
           index_dir: IndexOpt = None) -> None:
    """Show the passages retrieved for a query, with their scores."""
    from rag.pipeline import load_engine

    if mode not in ("hybrid", "dense", "bm25"):
        _fail("--mode must be hybrid, dense or bm25")
    engine = load_engine(_settings(index_dir), progress=True)
    try:
        _, hits = engine.search(query, k, mode)  # type: ignore[arg-type]
    except ValueError as exc:
        _fail(str(exc))
        return
    for i, h in enumerate(hits, 1):
        typer.echo(f"{i}. [{h.score:.4f} cos={h.dense_score:.3f}] 《{h.chunk.title}》 "
                   f"{h.chunk.char_start}-{h.chunk.char_end}\n   {h.chunk.text[:120]}")


@app.command()
def build(paths: Annotated[list[Path] | None, typer.Argument(help="files or folders (default: seeds/)")] = None,
          rebuild: Annotated[bool, typer.Option(help="replace an existing index")] = False,
          index_dir: IndexOpt = None) -> None:
    """Build an index from files (txt, md, html, jsonl) and save it."""
    from rag.chunking import ChunkParams
    from rag.embedding import load_embedder
    from rag.pipeline import build_from_paths

    s = _settings(index_dir)
    if (s.index_dir / "manifest.json").exists() and not rebuild:
        _fail(f"an index already exists at {s.index_dir}; pass --rebuild to replace it, or use 'zhrag add'")
    emb = load_embedder(s.embed_model, cache_dir=s.cache_dir, batch_size=s.embed_batch_size, dtype=s.embed_dtype)
    store, report = build_from_paths(list(paths or [s.seeds_dir]), emb, ChunkParams(s.chunk_size, s.chunk_overlap),
                                     progress=True)
    if not report.articles:
        _fail("no articles could be read; nothing was written")
    store.save(s.index_dir)
    typer.echo(f"indexed {len(report.articles)} articles ({len(store.chunks)} chunks) into {s.index_dir}; "
               f"{len(report.errors)} file(s) failed")
    for e in report.errors:
        typer.echo(f"  failed: {e}", err=True)


@app.command()
def add(paths: list[Path], index_dir: IndexOpt = None) -> None:
    """Add (or replace) articles in the existing index."""
    from rag.ingest import ingest_paths
    from rag.pipeline import load_engine

    engine = load_engine(_settings(index_dir), progress=True)
    report = ingest_paths(paths)
    res = engine.store.add_articles(report.articles, engine.embedder, progress=True)
    engine.save()
    typer.echo(f"added {res.articles_added}, replaced {res.articles_replaced} articles ({res.chunks_added} chunks)")
    for e in report.errors:
        typer.echo(f"  failed: {e}", err=True)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def delete(doc_ids: list[str], index_dir: IndexOpt = None) -> None:
    """Delete articles by doc_id."""
    from rag.pipeline import load_engine

    engine = load_engine(_settings(index_dir), build_if_missing=False)
    n = engine.store.delete_documents(doc_ids)
    engine.save()
    typer.echo(f"deleted {n} of {len(doc_ids)} article(s)")
    if n < len(doc_ids):
        raise typer.Exit(1)


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="bind address (default ZHRAG_HOST)")] = None,
          port: Annotated[int | None, typer.Option(help="port (default ZHRAG_PORT)")] = None,
          index_dir: IndexOpt = None) -> None:
    """Serve the HTTP API (and the chat page at /chat) with uvicorn."""
    import uvicorn

    if index_dir:
        os.environ["ZHRAG_INDEX_DIR"] = str(index_dir)
    s = _settings(index_dir)
    uvicorn.run("api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info")


@app.command("eval")
def eval_cmd(
    set_dir: Annotated[Path, typer.Argument(help="evaluation set folder (corpus.jsonl, queries.jsonl)")],
    distractors: Annotated[Path | None, typer.Option(help="news-distractors folder or corpus.jsonl to mix in")] = None,
    n_distractors: Annotated[int | None, typer.Option(min=0, help="use only the first N distractors")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="evaluate a seeded sample of N queries")] = None,
    max_docs: Annotated[int | None, typer.Option(min=1, help="cut the corpus to N articles (gold kept)")] = None,
    answers: Annotated[int, typer.Option(min=0, help="compose and score answers for the first N queries")] = 200,
    modes: Annotated[str, typer.Option(help="comma-separated: dense,bm25,hybrid,hybrid-rrf")] = "dense,bm25,hybrid,hybrid-rrf",
    out: Annotated[Path | None, typer.Option(help="JSON result file (default results/<set>.json)")] = None,
) -> None:
    """Score retrieval (hit@k, MRR, nDCG) and answers (EM, F1, citation precision) on a public set."""
    from eval.run import MODES, EvalConfig, format_table, run_eval, write_result

    mode_list = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not mode_list or any(m not in MODES for m in mode_list):
        _fail(f"--modes takes a comma-separated subset of {','.join(MODES)}")
    if not (set_dir / "queries.jsonl").is_file():
        _fail(f"{set_dir} has no queries.jsonl")
    cfg = EvalConfig(set_dir=set_dir, distractors=distractors, n_distractors=n_distractors, sample=sample,
                     max_docs=max_docs, answers=answers, modes=mode_list)
    result = run_eval(cfg, _settings())
    name = set_dir.name + ("+distractors" if distractors else "") + (f"-sample{sample}" if sample else "")
    path = out or Path("results") / f"{name}.json"
    write_result(result, path)
    typer.echo(format_table(result))
    typer.echo(f"\nwrote {path}")


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code so tests can call it."""
    _setup_logging(verbose=bool(os.environ.get("ZHRAG_VERBOSE")))
    try:
        # Standalone mode prints usage errors the usual way and ends in SystemExit(code).
        app(args=argv, prog_name="zhrag")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
