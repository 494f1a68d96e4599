"""The pipeline composed in one place: open (or build, or migrate) the knowledge base,
retrieve, compose.

The CLI and the API lifespan both call :func:`load_engine`, so there is one way to get
from settings to a ready service.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from index import legacy
from index.sqlite import DB_NAME, MAX_TERM_SHARE, SQLiteStore
from index.staff import Disabled, StaffStore
from index.store import DEFAULT_COLLECTION, IndexMismatchError, IndexNotFoundError, Store
from rag.chunking import ChunkParams
from rag.compose import AnswerGate, AnswerGenerator, ComposeParams, ExtractiveComposer
from rag.conversation import Turn, standalone_question
from rag.embedding import Embedder, load_embedder, set_torch_threads
from rag.indexing import Indexer, IndexReport
from rag.lexical import analyzer
from rag.reader import SpanReader
from rag.rerank import RerankingRetriever
from rag.retrieve import HybridRetriever, Mode, Retriever
from rag.script import simplified
from rag.settings import Settings
from rag.types import Answer, Article, Filters, Hit, clean_text

log = logging.getLogger(__name__)


class QuestionError(ValueError):
    """A question the service cannot take (empty, too long); the message says why."""


def check_question(question: str, max_chars: int, *, simplify: bool = True) -> str:
    """Every question, from the API or the command line: text the service can read, not
    empty, within the limit; with ``simplify``, in Simplified characters when typed in
    Traditional ones (rag/script.py)."""
    try:
        question = clean_text(question)
    except ValueError as exc:
        raise QuestionError(f"the question {exc}") from exc
    q = " ".join(question.split())
    if not q:
        raise QuestionError("the question is empty")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q)} characters long; the limit is {max_chars}")
    return simplified(q) if simplify else q


def answer(question: str, *, retriever: Retriever, composer: AnswerGenerator, top_k: int = 5,
           filters: Filters | None = None) -> Answer:
    """Retrieve the top passages for the question and compose a cited answer from them."""
    hits = retriever.search(question, top_k, filters)
    return composer.compose(question, hits)


@dataclass
class Engine:
    """Everything a running service needs, loaded once."""

    settings: Settings
    embedder: Embedder
    store: Store
    retriever: HybridRetriever | RerankingRetriever
    composer: AnswerGenerator
    indexer: Indexer
    staff: StaffStore

    def ask(self, question: str, top_k: int | None = None, filters: Filters | None = None) -> Answer:
        return self.chat((), question, top_k, filters)[1]

    def search(self, query: str, k: int, mode: Mode = "hybrid", filters: Filters | None = None) -> tuple[str, list[Hit]]:
        """The checked query and its passages, by one retrieval mode."""
        q = self._checked(query)
        return q, self.retriever.with_mode(mode).search(q, k, filters)

    def _checked(self, question: str) -> str:
        """:func:`check_question` with this service's limit and script setting."""
        return check_question(question, self.settings.max_question_chars, simplify=self.settings.simplify_questions)

    def chat(self, history: Sequence[Turn], question: str, top_k: int | None = None,
             filters: Filters | None = None) -> tuple[str, Answer]:
        """Answer the last question of a conversation; returns the question retrieval used too."""
        standalone, hits = self.retrieve(history, question, top_k, filters)
        return standalone, self.compose(standalone, hits)

    def compose(self, question: str, hits: Sequence[Hit]) -> Answer:
        return self.composer.compose(question, hits)

    def compose_stream(self, question: str, hits: Sequence[Hit]) -> Iterator[str | Answer]:
        """The answer's checked sentences as they are ready, then the whole :class:`Answer`."""
        from rag.generate import stream_answer

        return stream_answer(self.composer, question, hits)

    def retrieve(self, history: Sequence[Turn], question: str, top_k: int | None = None,
                 filters: Filters | None = None) -> tuple[str, list[Hit]]:
        """The first half of :meth:`chat`: the question retrieval uses and its passages (a
        streamed answer shows its sources while the answer is still being composed)."""
        q = self._checked(question)
        if self.settings.simplify_questions:  # earlier questions read as the last one is
            history = [replace(t, content=simplified(t.content)) if t.role == "user" else t for t in history]
        standalone = standalone_question(history, q)
        return standalone, self.retriever.search(standalone, top_k or self.settings.top_k, filters)

    def add_articles(self, articles: Sequence[Article], collection: str = DEFAULT_COLLECTION) -> IndexReport:
        return self.indexer.add_articles(articles, collection=collection)

    def add_paths(self, paths: Sequence[Path], collection: str = DEFAULT_COLLECTION, *,
                  progress: bool = False) -> IndexReport:
        return self.indexer.add_paths(paths, collection=collection, progress=progress)

    def delete(self, doc_ids: Sequence[str]) -> list[str]:
        return self.store.delete(doc_ids)

    def index_version(self) -> str:
        """Which state of the knowledge base an answer came from (its change number)."""
        stats = self.store.stats()
        return f"{self.store.model}@{stats.get('seq', stats['chunks'])}"

    def close(self) -> None:
        self.store.close()
        self.staff.close()


def chunk_params(settings: Settings) -> ChunkParams:
    return ChunkParams(settings.chunk_size, settings.chunk_overlap)


def embedder_for(settings: Settings) -> Embedder:
    """The embedder the settings name, as every command and the service load it."""
    return load_embedder(settings.embed_model, cache_dir=settings.cache_dir, batch_size=settings.embed_batch_size,
                         dtype=settings.embed_dtype)


def move_aside(directory: Path, why: str) -> Path:
    """Rename the index file out of the way (never delete it): ``zhrag.db.<why>-<time>``."""
    aside = directory / f"{DB_NAME}.{why}-{time.strftime('%Y%m%d%H%M%S')}"
    SQLiteStore.db_path(directory).rename(aside)
    return aside


def _publish(tmp: Path, final: Path) -> bool:
    """Move a finished database into place only if none is there (another process may have
    built one meanwhile and be using it: replacing it under its feet would lose its writes)."""
    try:
        os.link(tmp, final)
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)


def build_store(directory: Path, embedder: Embedder, params: ChunkParams, *, fill,
                max_term_share: float = MAX_TERM_SHARE) -> SQLiteStore:
    """Build a new database beside the final name, fill it, then publish it atomically: a
    crash part-way leaves no half-built index where a later start would trust it."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{DB_NAME}.building-{os.getpid()}"
    for p in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        p.unlink(missing_ok=True)
    an = analyzer()
    SQLiteStore.create(tmp, model=embedder.name, dim=embedder.dim, analyzer=an,
                       chunking={"size": params.size, "overlap": params.overlap})
    store = SQLiteStore.open(directory, an, path=tmp)
    try:
        fill(store)
    finally:
        store.close()
    if not _publish(tmp, SQLiteStore.db_path(directory)):
        log.warning("another process built the index at %s first; using that one", directory)
    return SQLiteStore.open(directory, an, expect_model=embedder.name, expect_dim=embedder.dim,
                            max_term_share=max_term_share)


def _seed_names(settings: Settings) -> frozenset[str]:
    d = settings.seeds_dir
    return frozenset(p.name for p in d.iterdir()) if d.is_dir() else frozenset()


def open_store(settings: Settings, embedder: Embedder, *, build_if_missing: bool = True,
               progress: bool = False) -> SQLiteStore:
    """Open the knowledge base; migrate a format-2 index; build the seed index if there is none.

    Only an index that holds nothing but the automatic seed articles is ever rebuilt on
    its own (after a model change); one holding anything a user added is refused with
    a message, never replaced.
    """
    d, params, an = settings.index_dir, chunk_params(settings), analyzer()
    if not SQLiteStore.exists(d) and (old := legacy.read_manifest(d)) is not None:
        if old.get("model") == embedder.name and int(old.get("dimension", 0)) == embedder.dim:
            log.info("migrating the format-2 index at %s (no re-embedding)", d)
            seeds = _seed_names(settings)
            store = build_store(d, embedder, params,
                                fill=lambda s: [s.write([w]) for w in legacy.read_legacy(d, seed_names=seeds)])
            aside = d / "legacy-v2"
            aside.mkdir(exist_ok=True)
            for name in legacy.LEGACY_FILES:
                if (d / name).exists():
                    (d / name).rename(aside / name)
            return store
        raise IndexMismatchError(f"the old index at {d} was built with model {old.get('model')!r}; set "
                                 f"ZHRAG_EMBED_MODEL to it to migrate, or move it aside")
    if SQLiteStore.exists(d):
        try:
            return SQLiteStore.open(d, an, expect_model=embedder.name, expect_dim=embedder.dim,
                                    max_term_share=settings.max_term_share)
        except IndexMismatchError:
            if set(SQLiteStore.read_origins(d)) - {"seeds"}:
                raise
            aside = move_aside(d, "replaced")
            log.warning("the seed index at %s was built for another model; rebuilding it (old file kept as %s)",
                        d, aside.name)
    elif not build_if_missing:
        raise IndexNotFoundError(f"no index at {d}; build one with: zhrag build")
    log.info("building the index at %s from %s", d, settings.seeds_dir)

    def fill(store: SQLiteStore) -> None:
        rep = Indexer(store, embedder, params).add_paths([settings.seeds_dir], origin="seeds", progress=progress,
                                                         key_root=settings.seeds_dir.parent)
        if not rep.added:
            raise IndexNotFoundError(f"no articles could be read from {settings.seeds_dir}")

    return build_store(d, embedder, params, fill=fill, max_term_share=settings.max_term_share)


def open_milvus(settings: Settings, embedder: Embedder, *, progress: bool = False) -> Store:
    """The Milvus backend named by ``ZHRAG_STORE``; an empty one gets the seed articles."""
    from index.milvus import MilvusStore

    store = MilvusStore.open(settings.store, analyzer(), model=embedder.name, dim=embedder.dim)
    if store.stats()["articles"] == 0:
        log.info("filling the empty Milvus store at %s from %s", settings.store, settings.seeds_dir)
        Indexer(store, embedder, chunk_params(settings)).add_paths(
            [settings.seeds_dir], origin="seeds", progress=progress, key_root=settings.seeds_dir.parent)
    return store


def load_engine(settings: Settings, *, build_if_missing: bool = True, progress: bool = False) -> Engine:
    """Load the embedder and the knowledge base (``settings.index_dir``, or ``ZHRAG_STORE``)."""
    embedder = embedder_for(settings)
    if settings.torch_threads:
        set_torch_threads(settings.torch_threads)
    store: Store = (open_milvus(settings, embedder, progress=progress) if settings.store else
                    open_store(settings, embedder, build_if_missing=build_if_missing, progress=progress))
    staff = StaffStore(settings.staff_path())
    retriever = make_retriever(settings, store, embedder, exclude=staff.disabled)
    return Engine(settings, embedder, store, retriever, with_store_answers(make_generator(settings, embedder), store, settings),
                  Indexer(store, embedder, chunk_params(settings), reprints=settings.reprints), staff)


def make_retriever(settings: Settings, store: Store, embedder: Embedder,
                   exclude: Callable[[], Disabled] | None = None) -> HybridRetriever | RerankingRetriever:
    """The fused retriever, with the trained reranker over it when ``settings.rerank`` asks."""
    fused = HybridRetriever(store, embedder, settings.fusion_params(), exclude=exclude)
    if settings.rerank == "off":
        return fused
    from rag.e5_convert import ensure_model
    from rag.rerank import load_reranker

    reranker = load_reranker(ensure_model(settings.cache_dir / "models"))
    return fused if reranker is None else RerankingRetriever(fused, reranker)


def compose_params(settings: Settings) -> ComposeParams:
    gate = AnswerGate.load(settings.gate_model) if settings.answer_gate == "learned" else None
    # "off": the rule with no word-coverage floor, so only the cosine floor refuses.
    coverage = 0.0 if settings.answer_gate == "off" else ComposeParams.min_term_coverage
    return ComposeParams(max_sentences=settings.max_answer_sentences, gate=gate, min_term_coverage=coverage,
                         other_article_margin=settings.other_article_margin,
                         first_article_bonus=settings.first_article_bonus,
                         lead_gap=settings.lead_gap or None,
                         short_answer_article_only=settings.short_answer_article_only,
                         keep_other_answers=settings.keep_other_answers,
                         other_article_shares_word=settings.other_article_shares_word,
                         other_article_names=settings.other_article_names,
                         typed_support=settings.typed_support, count_focus=settings.count_focus,
                         typed_missing=settings.typed_missing,
                         read_passage=settings.read_passage,
                         antecedents=settings.antecedents,
                         focus_bonus=settings.focus_bonus, what_focus_bonus=settings.what_focus_bonus,
                         reason_spans=settings.reason_spans, fitting_spans=settings.fitting_spans,
                         conflicts_read=settings.conflicts_read,
                         entity_check=settings.entity_check)


def make_reader(settings: Settings) -> SpanReader | None:
    if settings.short_answers != "reader":
        return None
    from rag.e5_convert import ensure_model
    from rag.reader import load_reader

    return load_reader(ensure_model(settings.cache_dir / "models"))


def with_store_answers(generator: AnswerGenerator, store: Store, settings: Settings) -> AnswerGenerator:
    """The generator, refusing questions that name something no article of ``store`` names
    (``ZHRAG_NAME_CHECK``), and answering those for a person's or a paper's articles from the
    store's listing (rag/people.py)."""
    from rag.names import NameCheck
    from rag.people import Listings

    return Listings(NameCheck(generator, store) if settings.name_check else generator, store)


def make_generator(settings: Settings, embedder: Embedder) -> AnswerGenerator:
    params = compose_params(settings)
    extractive = ExtractiveComposer(embedder, params, reader=make_reader(settings))
    if settings.generator == "openai":
        from rag.generate import CheckedGenerator, OpenAIChatBackend

        backend = OpenAIChatBackend(settings.llm_base_url, settings.llm_model, api_key=settings.llm_api_key,
                                    timeout=settings.llm_timeout)
        return CheckedGenerator(backend, fallback=extractive, params=params)
    if settings.generator == "local":
        from rag.generate import CheckedGenerator
        from rag.local_llm import LlamaCppBackend

        return CheckedGenerator(LlamaCppBackend(settings.cache_dir / "models", model=settings.local_model), fallback=extractive, params=params)
    return extractive
