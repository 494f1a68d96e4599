"""Request and response models of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rag.types import Answer, Citation, Filters, Hit, date_key

# A hard ceiling for the schema; the configured ZHRAG_MAX_QUESTION_CHARS is checked too.
QUESTION_MAX = 2000


def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or whitespace")
    return v


NAME_PATTERN = r"^[\w.:\-]+$"
NAME_MAX = 100
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class FiltersIn(BaseModel):
    """Which articles may answer: each list means "any of these"; dates are inclusive."""

    model_config = ConfigDict(extra="forbid")
    collections: list[str] = Field(default=[], max_length=50, description="collection names")
    columns: list[str] = Field(default=[], max_length=50, description="栏目 (column) names")
    sources: list[str] = Field(default=[], max_length=50, description="sources, e.g. 中工网")
    date_from: str | None = Field(default=None, pattern=DATE_PATTERN, description="published on or after")
    date_to: str | None = Field(default=None, pattern=DATE_PATTERN, description="published on or before")

    @field_validator("date_from", "date_to")
    @classmethod
    def _real_date(cls, v: str | None) -> str | None:
        if v is not None and not date_key(v):
            raise ValueError("not a calendar date (YYYY-MM-DD)")
        return v

    def to_core(self) -> Filters | None:
        f = Filters(tuple(self.collections), tuple(self.columns), tuple(self.sources), self.date_from, self.date_to)
        return None if f.is_empty() else f


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=QUESTION_MAX, description="the question, in Chinese")
    top_k: int = Field(default=5, ge=1, le=50, description="passages to retrieve")
    filters: FiltersIn | None = Field(default=None, description="restrict the articles that may answer")

    _q = field_validator("question")(_not_blank)


class QuoteOut(BaseModel):
    text: str
    char_start: int
    char_end: int


class PassageOut(BaseModel):
    """A span of an article: ``article.text[char_start:char_end] == text``."""

    doc_id: str
    chunk_id: str
    title: str
    text: str
    char_start: int
    char_end: int
    meta: dict[str, Any] = {}


class CitationOut(PassageOut):
    n: int
    score: float
    quotes: list[QuoteOut] = []

    @staticmethod
    def of(c: Citation) -> CitationOut:
        return CitationOut.model_validate(c.to_dict())


class AskResponse(BaseModel):
    answer: str
    refused: bool
    citations: list[CitationOut]

    @staticmethod
    def of(a: Answer) -> AskResponse:
        return AskResponse.model_validate(a.to_dict())


class SearchHit(PassageOut):
    rank: int
    score: float
    dense_score: float | None
    bm25_score: float | None

    @staticmethod
    def of(rank: int, h: Hit) -> SearchHit:
        return SearchHit.model_validate({**h.to_dict(), "rank": rank})


class SearchResponse(BaseModel):
    query: str
    hits: list[SearchHit]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1, max_length=1_000_000)
    doc_id: str | None = Field(default=None, max_length=200, pattern=r"^[\w.:\-]+$")
    source: str | None = None
    date: str | None = None

    _t = field_validator("title", "text")(_not_blank)


class DocumentsIn(BaseModel):
    documents: list[DocumentIn] = Field(min_length=1, max_length=1000)
    collection: str = Field(default="default", min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN,
                            description="the collection the documents go into")


class DocumentsAdded(BaseModel):
    added: int
    replaced: int
    unchanged: int = Field(description="documents identical to what is stored: not re-indexed")
    chunks: int
    doc_ids: list[str]
    duplicates: list[str] = Field(default=[], description="doc_ids given more than once: the last one was kept")


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    chars: int
    collection: str
    chunks: int
    meta: dict[str, Any]


class DocumentFull(BaseModel):
    doc_id: str
    title: str
    text: str
    meta: dict[str, Any]


class Health(BaseModel):
    status: str
    model: str
    dimension: int
    articles: int
    chunks: int
    collections: dict[str, int]
    index_dir: str


# ----------------------------------------------------------------------------- OpenAI-compatible chat


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text or "" for p in self.content if p.type in ("text", "input_text"))


class ChatRequest(BaseModel):
    # OpenAI clients send many optional parameters (temperature, top_p, user...): accept and ignore.
    model_config = ConfigDict(extra="allow")
    model: str = "zhrag"
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    top_k: int = Field(default=5, ge=1, le=50, description="zhrag extension: passages to retrieve")
    filters: FiltersIn | None = Field(default=None, description="zhrag extension: restrict the articles")

    @field_validator("messages")
    @classmethod
    def _last_is_user(cls, v: list[ChatMessage]) -> list[ChatMessage]:
        if v[-1].role != "user":
            raise ValueError("the last message must have role 'user'")
        text = v[-1].text()
        if not text.strip():
            raise ValueError("the last user message is empty")
        if len(text) > QUESTION_MAX:
            raise ValueError(f"the last user message is longer than {QUESTION_MAX} characters")
        return v
