"""The pipeline composed in one place: open (or build) the index, retrieve, compose.

The CLI and the API lifespan both call :func:`load_engine`, so there is one way to get
from settings to a ready service.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from index.store import IndexMismatchError, IndexNotFoundError, IndexStore, build_index
from rag.chunking import ChunkParams
from rag.compose import AnswerGenerator, ComposeParams, ExtractiveComposer
from rag.conversation import Turn, standalone_question
from rag.embedding import Embedder, load_embedder
from rag.ingest import IngestReport, ingest_paths
from rag.retrieve import HybridRetriever, Mode, Retriever
from rag.settings import Settings
from rag.types import Answer, Hit

log = logging.getLogger(__name__)


class QuestionError(ValueError):
    """A question the service cannot take (empty, too long); the message says why."""


def check_question(question: str, max_chars: int) -> str:
    q = " ".join(question.split())
    if not q:
        raise QuestionError("the question is empty")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q)} characters long; the limit is {max_chars}")
    return q


def answer(question: str, *, retriever: Retriever, composer: AnswerGenerator, top_k: int = 5) -> Answer:
    """Retrieve the top passages for the question and compose a cited answer from them."""
    hits = retriever.search(question, top_k)
    return composer.compose(question, hits)


@dataclass
class Engine:
    """Everything a running service needs, loaded once."""

    settings: Settings
    embedder: Embedder
    store: IndexStore
    retriever: HybridRetriever
    composer: AnswerGenerator

    def ask(self, question: str, top_k: int | None = None) -> Answer:
        return self.chat((), question, top_k)[1]

    def search(self, query: str, k: int, mode: Mode = "hybrid") -> tuple[str, list[Hit]]:
        """The checked query and its passages, by one retrieval mode."""
        q = check_question(query, self.settings.max_question_chars)
        return q, self.retriever.with_mode(mode).search(q, k)

    def chat(self, history: Sequence[Turn], question: str, top_k: int | None = None) -> tuple[str, Answer]:
        """Answer the last question of a conversation; returns the question retrieval used too."""
        q = check_question(question, self.settings.max_question_chars)
        standalone = standalone_question(history, q)
        return standalone, answer(standalone, retriever=self.retriever, composer=self.composer,
                                  top_k=top_k or self.settings.top_k)

    def save(self) -> None:
        self.store.save(self.settings.index_dir)


def build_from_paths(paths: list[Path], embedder: Embedder, params: ChunkParams, *,
                     progress: bool = False) -> tuple[IndexStore, IngestReport]:
    report = ingest_paths(paths)
    for err in report.errors:
        log.warning("not ingested: %s", err)
    t = time.perf_counter()
    store = build_index(report.articles, embedder, params, progress=progress)
    log.info("indexed %d articles as %d chunks in %.1fs", len(report.articles), len(store.chunks),
             time.perf_counter() - t)
    return store, report


def load_engine(settings: Settings, *, build_if_missing: bool = True, rebuild: bool = False,
                progress: bool = False) -> Engine:
    """Load the embedder and the index at ``settings.index_dir``; build it from the seeds if absent."""
    embedder = load_embedder(settings.embed_model, cache_dir=settings.cache_dir,
                             batch_size=settings.embed_batch_size, dtype=settings.embed_dtype)
    params = ChunkParams(settings.chunk_size, settings.chunk_overlap)
    store: IndexStore | None = None
    if not rebuild:
        try:
            store = IndexStore.load(settings.index_dir, expect_model=embedder.name, expect_dim=embedder.dim)
        except IndexNotFoundError:
            if not build_if_missing:
                raise
        except IndexMismatchError as exc:
            # An index built automatically from the seeds is derived data: rebuild it. One
            # built from a user's own files is not ours to throw away.
            if IndexStore.read_manifest(settings.index_dir).get("origin") != "seeds":
                raise
            log.warning("rebuilding the default index: %s", exc)
    if store is None:
        log.info("building the index at %s from %s", settings.index_dir, settings.seeds_dir)
        store, report = build_from_paths([settings.seeds_dir], embedder, params, progress=progress)
        if not report.articles:
            raise IndexNotFoundError(f"no articles could be read from {settings.seeds_dir}")
        store.origin = "seeds"
        store.save(settings.index_dir)
    fusion = settings.fusion_params()
    retriever = HybridRetriever(store, embedder, fusion)
    return Engine(settings, embedder, store, retriever, make_generator(settings, embedder))


def make_generator(settings: Settings, embedder: Embedder) -> AnswerGenerator:
    params = ComposeParams(max_sentences=settings.max_answer_sentences)
    extractive = ExtractiveComposer(embedder, params)
    if settings.generator == "openai":
        from rag.generate import CheckedGenerator, OpenAIChatBackend

        backend = OpenAIChatBackend(settings.llm_base_url, settings.llm_model, api_key=settings.llm_api_key,
                                    timeout=settings.llm_timeout)
        return CheckedGenerator(backend, fallback=extractive, params=params)
    if settings.generator == "local":
        from rag.generate import CheckedGenerator
        from rag.local_llm import LlamaCppBackend

        return CheckedGenerator(LlamaCppBackend(settings.cache_dir / "models"), fallback=extractive, params=params)
    return extractive
