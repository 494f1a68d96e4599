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

from rag.reader import E5_LAYERS
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


def _embedded_only(s, command: str) -> None:
    """build, check, backup and reindex work on the embedded SQLite file, not on Milvus."""
    if s.store:
        _fail(f"'zhrag {command}' works on the embedded store, but ZHRAG_STORE names {s.store}; use 'zhrag add' "
              f"to add files there, and Milvus's own tools to check or back it up")


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
                 f"摄影：{'、'.join(meta['photographers'])}" if meta.get("photographers") else "",
                 f"日期：{meta['date']}" if meta.get("date") else ""]
        about_s = " · ".join(a for a in about if a)
        lines.append(f"[{c.n}] 《{c.chunk.title}》" + (f"（{about_s}）" if about_s else ""))
        for q in c.quotes:
            lines.append(f"    第{q.start}–{q.end}字：“{q.text}”")
    return "\n".join(lines)


IndexOpt = Annotated[Path | None, typer.Option("--index-dir", help="index directory (default: ZHRAG_INDEX_DIR)")]
CollectionOpt = Annotated[str, typer.Option("--collection", "-c", help="collection the articles belong to")]
InOpt = Annotated[list[str] | None, typer.Option("--in", help="only these collections (repeatable)")]
ColumnOpt = Annotated[list[str] | None, typer.Option("--column", help="only this 栏目 (repeatable)")]
SourceOpt = Annotated[list[str] | None, typer.Option("--source", help="only this source (repeatable)")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="published on or after YYYY-MM-DD")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="published on or before YYYY-MM-DD")]


def _filters(collections, columns, sources, since, until):
    from rag.types import Filters

    try:
        f = Filters(tuple(collections or ()), tuple(columns or ()), tuple(sources or ()), since, until)
    except ValueError as exc:
        _fail(str(exc))
        raise
    return None if f.is_empty() else f


def _engine(index_dir: Path | None, **kw):
    """The engine, or a clear error (never a traceback) when the index cannot be opened."""
    from index.store import IndexStoreError
    from rag.pipeline import load_engine

    try:
        return load_engine(_settings(index_dir), **kw)
    except IndexStoreError as exc:
        _fail(str(exc))
        raise


@app.command()
def ask(question: Annotated[str, typer.Argument(help="the question, in Chinese")],
        top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="passages to retrieve")] = 5,
        as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
        index_dir: IndexOpt = None, collections: InOpt = None, columns: ColumnOpt = None,
        sources: SourceOpt = None, since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Answer a question with citations (builds the default index from seeds/ on first use)."""
    from rag.pipeline import QuestionError

    flt = _filters(collections, columns, sources, since, until)
    engine = _engine(index_dir, progress=True)
    try:
        ans = engine.ask(question, top_k, flt)
    except (QuestionError, ValueError) as exc:
        _fail(str(exc))
        return
    typer.echo(json.dumps(ans.to_dict(), ensure_ascii=False, indent=2) if as_json else format_answer(ans))


@app.command()
def search(query: str, k: Annotated[int, typer.Option("-k", min=1, max=100)] = 5,
           mode: Annotated[str, typer.Option(help="hybrid, dense or bm25")] = "hybrid",
           index_dir: IndexOpt = None, collections: InOpt = None, columns: ColumnOpt = None,
           sources: SourceOpt = None, since: SinceOpt = None, until: UntilOpt = None) -> None:
    """Show the passages retrieved for a query, with their scores."""
    if mode not in ("hybrid", "dense", "bm25"):
        _fail("--mode must be hybrid, dense or bm25")
    flt = _filters(collections, columns, sources, since, until)
    engine = _engine(index_dir, progress=True)
    try:
        _, hits = engine.search(query, k, mode, flt)  # type: ignore[arg-type]
    except ValueError as exc:
        _fail(str(exc))
        return
    for i, h in enumerate(hits, 1):
        cos = "" if h.dense_score is None else f" cos={h.dense_score:.3f}"
        typer.echo(f"{i}. [{h.score:.4f}{cos}] 《{h.chunk.title}》 "
                   f"{h.chunk.char_start}-{h.chunk.char_end}\n   {h.chunk.text[:120]}")


def _report(rep, verb: str = "added") -> None:
    typer.echo(f"{verb} {rep.added}, replaced {rep.replaced}, removed {rep.removed}, unchanged {rep.unchanged} "
               f"article(s) ({rep.chunks} chunks) from {rep.files} file(s)")
    for d in rep.duplicates:
        typer.echo(f"  doc_id {d} was given more than once: the last one was kept", err=True)
    for e in rep.errors:
        typer.echo(f"  failed: {e}", err=True)
    for w in rep.warnings:
        typer.echo(f"  warning: {w}", err=True)
    for r in rep.reprints:
        typer.echo(f"  reprint: {r}", err=True)


@app.command()
def build(paths: Annotated[list[Path] | None, typer.Argument(help="files or folders (default: seeds/)")] = None,
          rebuild: Annotated[bool, typer.Option(help="replace an existing index (the old file is kept aside)")] = False,
          collection: CollectionOpt = "default", index_dir: IndexOpt = None) -> None:
    """Build a new index from files (txt, md, html, jsonl)."""
    from index.sqlite import SQLiteStore
    from rag.indexing import Indexer
    from rag.pipeline import build_store, chunk_params, embedder_for, move_aside

    s = _settings(index_dir)
    _embedded_only(s, "build")
    if SQLiteStore.exists(s.index_dir):
        if not rebuild:
            _fail(f"an index already exists at {s.index_dir}; pass --rebuild to replace it, or use 'zhrag add'")
        typer.echo(f"the previous index was moved to {move_aside(s.index_dir, 'replaced')}", err=True)
    emb = embedder_for(s)
    reports = []

    def fill(store) -> None:
        reports.append(Indexer(store, emb, chunk_params(s)).add_paths(list(paths or [s.seeds_dir]),
                                                                       collection=collection, progress=True))
        if not reports[0].added:
            raise ValueError("no articles could be read; nothing was written")

    try:
        store = build_store(s.index_dir, emb, chunk_params(s), fill=fill)
    except ValueError as exc:
        for e in reports[0].errors if reports else ():
            typer.echo(f"  failed: {e}", err=True)
        _fail(str(exc))
        return
    _report(reports[0], "indexed")
    typer.echo(f"index at {s.index_dir}: {store.stats()['articles']} articles, {store.stats()['chunks']} chunks")


@app.command()
def add(paths: list[Path], collection: CollectionOpt = "default", index_dir: IndexOpt = None) -> None:
    """Add files to the index; an edited file replaces its articles, an unchanged one is skipped."""
    engine = _engine(index_dir, progress=True)
    rep = engine.add_paths(paths, collection, progress=True)
    _report(rep)
    if rep.errors:
        raise typer.Exit(1)


@app.command()
def delete(doc_ids: list[str], index_dir: IndexOpt = None) -> None:
    """Delete articles by doc_id."""
    engine = _engine(index_dir, build_if_missing=False)
    n = len(engine.delete(doc_ids))
    typer.echo(f"deleted {n} of {len(doc_ids)} article(s)")
    if n < len(doc_ids):
        raise typer.Exit(1)


@app.command()
def check(repair: Annotated[bool, typer.Option(help="rebuild the lexical index from the stored text")] = False,
          index_dir: IndexOpt = None) -> None:
    """Check the whole index (SQLite integrity, lexical index, vector checksums)."""
    from index.sqlite import SQLiteStore
    from index.store import IndexStoreError
    from rag.lexical import analyzer

    s = _settings(index_dir)
    _embedded_only(s, "check")
    try:
        store = SQLiteStore.open(s.index_dir, analyzer(), quick_check=False, any_analyzer=repair)
    except IndexStoreError as exc:
        _fail(str(exc))
        return
    if not store.analyzer_matches and not repair:
        _fail("the lexical index was made by another analyzer; run 'zhrag check --repair'")
    if repair:
        typer.echo(f"re-analysed {store.rebuild_lexical()} chunks into a new lexical index")
    problems = store.check()
    for p in problems:
        typer.echo(f"  {p}")
    typer.echo("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


@app.command()
def backup(dest: Path, index_dir: IndexOpt = None) -> None:
    """Copy the index to DEST consistently, while servers keep running."""
    _embedded_only(_settings(index_dir), "backup")
    engine = _engine(index_dir, build_if_missing=False)
    engine.store.backup(dest)
    typer.echo(f"backed up {engine.store.stats()['articles']} articles to {dest}")


@app.command()
def reindex(index_dir: IndexOpt = None) -> None:
    """Re-embed every stored article with the configured model (after a model change).

    The new index is built beside the old one and swapped in when complete; the old file is kept.
    """
    from index.sqlite import SQLiteStore
    from rag.indexing import Indexer
    from rag.lexical import analyzer
    from rag.pipeline import build_store, chunk_params, embedder_for, move_aside

    s = _settings(index_dir)
    _embedded_only(s, "reindex")
    if not SQLiteStore.exists(s.index_dir):
        _fail(f"no index at {s.index_dir}")
    old = SQLiteStore.open(s.index_dir, analyzer(), any_analyzer=True)
    emb = embedder_for(s)
    tmp_dir = s.index_dir / "reindex"
    tmp_dir.mkdir(exist_ok=True)
    store = build_store(tmp_dir, emb, chunk_params(s),
                        fill=lambda st: Indexer(st, emb, chunk_params(s)).reembed_from(old, progress=True))
    n = store.stats()["articles"]
    store.close()
    old.close()
    aside = move_aside(s.index_dir, "before-reindex")
    SQLiteStore.db_path(tmp_dir).rename(SQLiteStore.db_path(s.index_dir))
    typer.echo(f"re-embedded {n} articles with {emb.name}; the previous index is kept as {aside}")


@app.command()
def migrate(to: Annotated[str, typer.Option("--to", help="milvus://host:19530 or milvus-lite:///path/file.db")],
            index_dir: IndexOpt = None) -> None:
    """Copy the embedded index into Milvus with its vectors (no re-embedding); safe to run again."""
    from index.migrate import copy_store
    from index.milvus import MilvusStore
    from index.sqlite import SQLiteStore
    from index.store import IndexStoreError
    from rag.lexical import analyzer

    s = _settings(index_dir)
    if not to.startswith(("milvus://", "milvus-lite://")):
        _fail("--to takes milvus://host:port or milvus-lite:///path/file.db")
    if not SQLiteStore.exists(s.index_dir):
        _fail(f"no embedded index at {s.index_dir}")
    try:
        source = SQLiteStore.open(s.index_dir, analyzer())
        target = MilvusStore.open(to, analyzer(), model=source.model, dim=source.dim)
        rep = copy_store(source, target, progress=True)
    except IndexStoreError as exc:
        _fail(str(exc))
        return
    typer.echo(f"copied {rep.articles} articles ({rep.chunks} chunks) from {s.index_dir} to {to}")
    for doc_id, why in rep.failed:
        typer.echo(f"  failed: {doc_id}: {why}", err=True)
    if rep.failed:
        _fail(f"{len(rep.failed)} article(s) were not copied; run the same command again to retry them")
    typer.echo(f"serve from it with: ZHRAG_STORE={to} zhrag serve")


@app.command()
def serve(host: Annotated[str | None, typer.Option(help="bind address (default ZHRAG_HOST)")] = None,
          port: Annotated[int | None, typer.Option(help="port (default ZHRAG_PORT)")] = None,
          workers: Annotated[int, typer.Option(min=1, max=16, help="server processes; each loads the model "
                                                                   "(about 1.2 GB) and embeds on one core")] = 1,
          index_dir: IndexOpt = None) -> None:
    """Serve the HTTP API (and the chat page at /chat) with uvicorn.

    Each process embeds on one core (torch is pinned to one thread per request), so more
    processes help on more cores; on this 2-core machine one process already keeps both
    busy with distinct questions (bench/load.py: 28-32 /search a second with one or two).
    The processes share the index file and see each other's writes; /metrics counts the
    requests of the process that answers it."""
    import uvicorn

    if index_dir:
        os.environ["ZHRAG_INDEX_DIR"] = str(index_dir)
    s = _settings(index_dir)
    uvicorn.run("api.main:create_app", factory=True, host=host or s.host, port=port or s.port, log_level="info",
                workers=workers)


keys_app = typer.Typer(no_args_is_help=True, help="API keys: reader, editor and admin (kept hashed).")
feedback_app = typer.Typer(no_args_is_help=True, help="Answer feedback from the chat page.")
app.add_typer(keys_app, name="keys")
app.add_typer(feedback_app, name="feedback")


def _staff(index_dir: Path | None):
    """The staff records (keys, audit, feedback); opening them loads no model."""
    from index.staff import StaffStore

    return StaffStore(_settings(index_dir).staff_path())


def _local_admin():
    """Whoever runs the command line on the server's machine holds its files: an admin."""
    import getpass

    from index.staff import Caller

    return Caller(f"command line ({getpass.getuser()})", "admin")


@keys_app.command("create")
def keys_create(name: Annotated[str, typer.Option(help="who holds it, e.g. 'intranet chat page'")],
                role: Annotated[str, typer.Option(help="reader, editor or admin")] = "reader",
                url: Annotated[str | None, typer.Option(help="the service's address, to print the embed snippet "
                                                             "for a reader key")] = None,
                index_dir: IndexOpt = None) -> None:
    """Create a key and print it (this once: only its hash is kept)."""
    from index.staff import ROLES, StaffError, embed_snippet

    if role not in ROLES:
        _fail(f"--role takes one of {', '.join(ROLES)}")
    try:
        key, info = _staff(index_dir).create_key(name.strip(), role, by=_local_admin())  # type: ignore[arg-type]
    except StaffError as exc:
        _fail(str(exc))
        return
    typer.echo(key)
    typer.echo(f"key {info.id} ({info.role}, {info.name!r}) created; keep it now: it cannot be shown again", err=True)
    if url and role == "reader":
        typer.echo(f"embed the chat page with:\n{embed_snippet(url, key)}", err=True)


@keys_app.command("list")
def keys_list(index_dir: IndexOpt = None) -> None:
    """List keys: id, role, name, prefix, state."""
    import datetime as dt

    for k in _staff(index_dir).list_keys():
        state = "revoked " + dt.datetime.fromtimestamp(k.revoked).isoformat(timespec="seconds") if k.revoked \
            else "active"
        typer.echo(f"{k.id}\t{k.role}\t{k.prefix}…\t{state}\t{k.name}")


@keys_app.command("revoke")
def keys_revoke(key_id: int, index_dir: IndexOpt = None) -> None:
    """Revoke a key; running servers refuse it from the next request on."""
    from index.staff import StaffError

    try:
        info = _staff(index_dir).revoke_key(key_id, by=_local_admin())
    except StaffError as exc:
        _fail(str(exc))
        return
    typer.echo(f"key {info.id} ({info.role}, {info.name!r}) revoked")


@feedback_app.command("list")
def feedback_list(status: Annotated[str | None, typer.Option(help="new, confirmed or rejected")] = None,
                  index_dir: IndexOpt = None) -> None:
    """List feedback, newest first."""
    from index.staff import StaffError

    try:
        items = _staff(index_dir).list_feedback(status, limit=1000)
    except StaffError as exc:
        _fail(str(exc))
        return
    for f in items:
        typer.echo(f"{f.id}\t{'+1' if f.rating > 0 else '-1'}\t{f.status}\t{f.question}"
                   + ("\t(refused)" if f.refused else ""))


@feedback_app.command("export")
def feedback_export(out: Annotated[Path, typer.Argument(help="folder for queries.jsonl and corpus.jsonl")],
                    only_named: Annotated[bool, typer.Option(help="corpus: only the articles the queries name "
                                                                  "(default: the whole knowledge base)")] = False,
                    index_dir: IndexOpt = None) -> None:
    """Write confirmed feedback as an evaluation set that 'zhrag eval' scores like any other."""
    from eval.feedback import export_set

    engine = _engine(index_dir, build_if_missing=False)
    items = engine.staff.list_feedback("confirmed", limit=10**9)
    rep = export_set(items, (a for a, _ in engine.store.iter_articles()), out, only_named=only_named)
    for why in rep.skipped:
        typer.echo(f"  skipped {why}", err=True)
    typer.echo(f"wrote {rep.queries} questions ({rep.unanswerable} unanswerable) and {rep.articles} articles to {out}")
    if not rep.queries:
        _fail("no confirmed feedback to export: review feedback on the staff page (/staff) first")


@app.command("eval")
def eval_cmd(
    set_dir: Annotated[Path, typer.Argument(help="evaluation set folder (corpus.jsonl, queries.jsonl)")],
    distractors: Annotated[Path | None, typer.Option(help="news-distractors folder or corpus.jsonl to mix in")] = None,
    n_distractors: Annotated[int | None, typer.Option(min=0, help="use only the first N distractors")] = None,
    sample: Annotated[int | None, typer.Option(min=1, help="evaluate a seeded sample of N queries")] = None,
    max_docs: Annotated[int | None, typer.Option(min=1, help="cut the corpus to N articles (gold kept)")] = None,
    answers: Annotated[int, typer.Option(min=0, help="compose and score answers for the first N queries")] = 200,
    unanswerable: Annotated[int, typer.Option(min=0, help="ask the first N queries again without their gold "
                                                          "articles and measure refusal")] = 0,
    modes: Annotated[str, typer.Option(help="comma-separated: dense,bm25,hybrid,hybrid-rrf,hybrid-learned,hybrid-rerank")] = "dense,bm25,hybrid,hybrid-rrf",
    out: Annotated[Path | None, typer.Option(help="JSON result file (default results/<set>.json)")] = None,
    backend: Annotated[str, typer.Option(help="sqlite (the embedded store) or milvus-lite (the Milvus backend)")]
    = "sqlite",
) -> None:
    """Score retrieval (hit@k, MRR, nDCG) and answers (EM, F1, citation precision) on a public set."""
    from eval.run import MODES, EvalConfig, format_table, run_eval

    if backend not in ("sqlite", "milvus-lite"):
        _fail("--backend takes sqlite or milvus-lite")
    mode_list = tuple(m.strip() for m in modes.split(",") if m.strip())
    if not mode_list or any(m not in MODES for m in mode_list):
        _fail(f"--modes takes a comma-separated subset of {','.join(MODES)}")
    if not (set_dir / "queries.jsonl").is_file():
        _fail(f"{set_dir} has no queries.jsonl")
    cfg = EvalConfig(backend=backend, set_dir=set_dir, distractors=distractors, n_distractors=n_distractors, sample=sample,
                     max_docs=max_docs, answers=answers, unanswerable=unanswerable,
                     modes=mode_list)
    name = set_dir.name + ("+distractors" if distractors else "") + (f"-sample{sample}" if sample else "")
    path = out or Path("results") / f"{name}.json"
    try:
        result = run_eval(cfg, _settings(), out=path)  # written after every stage
    except ValueError as exc:  # a set this version cannot read (an unknown answer_mode, say)
        _fail(str(exc))
        return
    typer.echo(format_table(result))
    typer.echo(f"\nwrote {path}")


@app.command("eval-set")
def eval_set(kind: Annotated[str, typer.Argument(help="drcd or drcd-traditional (from a DRCD json; the second "
                                                     "keeps its questions in Traditional characters), "
                                                     "drcd-reader-heldout (a DRCD_test json: only the questions "
                                                     "the span reader did not train on) or "
                                                     "stress or keyword (from a set folder: its "
                                                     "questions under-specified, or as search-box queries)")],
             source: Path, out: Path) -> None:
    """Make an evaluation set: DRCD in the shared format, or under-specified questions of a set."""
    from eval.sets import drcd_to_set, keyword_set, stress_set

    if kind in ("drcd", "drcd-traditional"):
        docs, n = drcd_to_set(source, out, simplify_questions=kind == "drcd")
        typer.echo(f"wrote {docs} paragraphs and {n} questions to {out}")
    elif kind == "drcd-reader-heldout":
        from eval.reader_train import TrainParams

        docs, n = drcd_to_set(source, out, questions_from_last=TrainParams().holdout_paragraphs)
        typer.echo(f"wrote {docs} paragraphs and {n} questions to {out}")
    elif kind == "stress":
        typer.echo(f"wrote {stress_set(source, out)} under-specified questions to {out}")
    elif kind == "keyword":
        typer.echo(f"wrote {keyword_set(source, out)} search-box questions to {out}")
    else:
        _fail("kind must be drcd, drcd-traditional, drcd-reader-heldout, stress or keyword")


@app.command("fusion-collect")
def fusion_collect(set_dir: Path, out: Path,
                   distractors: Annotated[Path | None, typer.Option(help="news-distractors to mix in")] = None,
                   sample: Annotated[int | None, typer.Option(min=1)] = None) -> None:
    """Retrieve each query's dense and BM25 lists once and tabulate MRR@10 per fusion share."""
    from eval.fusion import collect
    from rag.embedding import CachedEmbedder
    from rag.pipeline import embedder_for

    s = _settings()
    emb = CachedEmbedder(embedder_for(s), s.cache_dir / "embeddings")
    t = collect(set_dir, emb, s, distractors=distractors, sample=sample)
    out.parent.mkdir(parents=True, exist_ok=True)
    t.save(out)
    typer.echo(f"{t.name}: {len(t.mrr)} queries -> {out}")


@app.command("fusion-loso")
def fusion_loso(tables: Annotated[list[Path], typer.Argument(help="tables to hold out in turn (.npz)")],
                train: Annotated[list[Path] | None, typer.Option(help="tables only ever trained on")] = None,
                out: Annotated[Path, typer.Option()] = Path("results/fusion-loso.json")) -> None:
    """Leave-one-set-out: fit on all but one table (plus --train ones), report on that one."""
    from eval.fusion import Table, format_rows, loso, write_json

    rows = loso([Table.load(p) for p in tables], [Table.load(p) for p in train or []])
    write_json(rows, out)
    typer.echo(format_rows(rows))


@app.command("fusion-fit")
def fusion_fit(tables: Annotated[list[Path], typer.Argument(help="training tables (.npz), never reported sets")],
               out: Annotated[Path, typer.Option()] = Path("rag/fusion_model.json"),
               adaptive: Annotated[bool, typer.Option(help="fit the adaptive fusion's share, gain and clamp "
                                                             "instead, and print them")] = False) -> None:
    """Fit the learned fusion on training tables and write the model the service loads; with
    --adaptive, fit the default fusion's four numbers instead and print them (they live in
    rag/retrieve.py: FusionParams, so a change is a reviewed commit, not a file swap)."""
    from eval.fusion import Table, fit, fit_adaptive

    if adaptive:
        p, mrr = fit_adaptive([Table.load(t) for t in tables])
        typer.echo(f"mean MRR@10 {mrr:.4f} with dense_share={p.dense_share} gain={p.gain} cover_gain={p.cover_gain} "
                   f"min_share={p.min_share} max_share={p.max_share} (rag/retrieve.py: FusionParams)")
        return

    model = fit([Table.load(p) for p in tables])
    model.save(out)
    typer.echo(f"wrote {out}: weights {', '.join(f'{w:.3f}' for w in model.weights)}")


DrcdFiles = Annotated[list[Path], typer.Argument(help="DRCD json files (training data only), e.g. "
                                                     "../shared/train-data/drcd/DRCD_*.json")]


def _training_base(drcd: list[Path]) -> Path:
    """What both trainers start from: every DRCD file there, and the converted e5 folder."""
    from rag.e5_convert import ensure_model

    for f in drcd:
        if not f.is_file():
            _fail(f"no such file: {f}")
    return ensure_model(_settings().cache_dir / "models")


@app.command("train-reader")
def train_reader(drcd: DrcdFiles,
                 epochs: Annotated[int, typer.Option(min=1)] = 2,
                 keyword_share: Annotated[float, typer.Option(min=0.0, max=1.0, help=(
                     "share of questions read as search-box queries (question word dropped)"))] = 0.3,
                 lora_from: Annotated[int, typer.Option(min=0, max=E5_LAYERS - 1, help=(
                     "the adapter goes on e5's layers from this one up (the first is 0; lower is slower to train)"))] = 0,
                 out: Annotated[Path, typer.Option(help="where the adapter goes")] = Path("rag/reader_model"),
                 limit: Annotated[int | None, typer.Option(help="train on the first N examples only (a smoke run)")]
                 = None) -> None:
    """Train the short-answer span reader (a LoRA adapter over e5) and write its weights and record."""
    from dataclasses import replace

    from eval.reader_train import TrainParams, train

    p = replace(TrainParams(), epochs=epochs, keyword_share=keyword_share, lora_layers=tuple(range(lora_from, E5_LAYERS)))
    rec = train(drcd, _training_base(drcd), out, p, limit=limit)
    typer.echo(f"wrote {out}: held-out EM {rec['held_out']['em']:.3f}, F1 {rec['held_out']['f1']:.3f} "
               f"({rec['data']['training_examples']} examples, {rec['seconds']} s)")


@app.command("score-reader")
def score_reader(drcd: DrcdFiles,
                 weights: Annotated[Path, typer.Option(help="the adapter's folder")] = Path("rag/reader_model")) -> None:
    """Held-out EM/F1 of a trained reader, on DRCD's questions as written and as search-box queries."""
    from eval.reader_train import score_adapter

    if not (weights / "adapter.safetensors").is_file():
        _fail(f"no adapter.safetensors in {weights}")
    for form, s in score_adapter(drcd, _training_base(drcd), weights).items():
        typer.echo(f"{form}: EM {s['em']:.3f}, F1 {s['f1']:.3f} ({s['with_answer']} held-out sentences with the answer)")


@app.command("train-reranker")
def train_reranker(drcd: DrcdFiles,
                   epochs: Annotated[int, typer.Option(min=1)] = 1,
                   questions: Annotated[int, typer.Option(min=0, help="training questions sampled (0: all)")] = 3000,
                   layers: Annotated[int, typer.Option(min=1, max=E5_LAYERS, help="e5 layers the reranker keeps")] = 4,
                   out: Annotated[Path, typer.Option(help="where the adapter goes")] = Path("rag/reranker_model"),
                   limit: Annotated[int | None, typer.Option(help="train on the first N groups only (a smoke run)")]
                   = None) -> None:
    """Train the cross-encoder reranker (a LoRA adapter over e5's lower layers) and write its weights and record."""
    from dataclasses import replace

    from eval.rerank_train import TrainParams, train
    from rag.rerank import RerankParams

    rec = train(drcd, _training_base(drcd), out, replace(TrainParams(), epochs=epochs, questions=questions),
                RerankParams(layers=layers), limit=limit)
    last = rec["history"][-1]
    typer.echo(f"wrote {out}: held-out MRR@10 {rec['held_out_before']['mrr@10']:.3f} -> {last['mrr@10']:.3f}, "
               f"hit@1 {rec['held_out_before']['hit@1']:.3f} -> {last['hit@1']:.3f} "
               f"({rec['data']['training_groups']} groups, {rec['seconds']} s)")


@app.command("gate-fit")
def gate_fit(results: Annotated[list[Path], typer.Argument(help="zhrag eval results (.json) of training sets, "
                                                                "run with --answers and --unanswerable")],
             out: Annotated[Path, typer.Option()] = Path("rag/gate_model.json"),
             budget: Annotated[float, typer.Option(min=0.0, max=0.5, help="false refusals allowed on the "
                                                                          "training rows")] = 0.05,
             reads: Annotated[bool, typer.Option(help="also read the answer: the span reader's margin "
                                                      "(needs runs with ZHRAG_ANSWER_GATE=off)")] = True,
             folds: Annotated[int, typer.Option(min=0, max=20, help="choose the threshold on questions held "
                                                               "out in this many folds (0: on the fitted rows)")] = 5,
             ) -> None:
    """Fit the learned answerability gate and choose its threshold on training runs only."""
    from dataclasses import replace

    import numpy as np

    from eval.gate import choose_threshold, cross_validated_threshold, fit_decided, questions, rates, rows
    from rag.compose import GATE_FEATURES, PASSAGE_FEATURES

    features = GATE_FEATURES if reads else PASSAGE_FEATURES
    try:
        parts = [rows(p, features) for p in results]
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    x, y, refused = (np.concatenate([p[i] for p in parts]) for i in range(3))
    # Questions refused for another reason (a name no article names...) are refused whatever
    # the gate says: they count against the budget, but the gate is not fitted on them.
    gate = fit_decided(x, y, refused, features)
    if folds >= 2:
        groups = np.concatenate([[f"{k}:{q}" for q in questions(p)] for k, p in enumerate(results)])
        gate = replace(gate, threshold=cross_validated_threshold(x, y, refused, groups, features,
                                                                 folds=folds, budget=budget))
    else:
        gate = choose_threshold(gate, x, y, refused, budget)
    r = rates(gate, x, y, refused, gate.threshold)
    gate.save(out, fitted_on=[p.name for p in results], rows=int(len(y)), false_refusal_budget=budget,
              threshold_folds=folds)
    typer.echo(f"wrote {out}: threshold {gate.threshold:.2f}; on the training rows false refusals "
               f"{r['false_refusals']:.3f}, refusal when unanswerable {r['refusal_when_unanswerable']:.3f}")


@app.command("gate-report")
def gate_report(results: Annotated[list[Path], typer.Argument(help="zhrag eval results (.json) to judge on")],
                model: Annotated[Path, typer.Option()] = Path("rag/gate_model.json")) -> None:
    """False refusals and refusals of unanswerable questions at each gate threshold, per result."""
    from eval.gate import curve
    from rag.compose import AnswerGate

    gate = AnswerGate.load(model)
    for p in results:
        try:
            points = curve(gate, p)
        except ValueError as exc:  # a run whose refusals were never read: say so, not a traceback
            raise typer.BadParameter(str(exc)) from exc
        typer.echo(f"\n{p.name} (threshold chosen on training data: {gate.threshold:.2f})\n\n"
                   "| gate threshold | false refusals | refusal when unanswerable |\n|---|---|---|")
        for c in points:
            mark = " (default)" if abs(c["threshold"] - gate.threshold) < 1e-9 else ""
            typer.echo(f"| {c['threshold']:.2f}{mark} | {c['false_refusals']:.3f} | "
                       f"{c['refusal_when_unanswerable']:.3f} |")


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
