"""Request and response models of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from rag.settings import (
    MAX_CHAT_MESSAGE_CHARS,
    MAX_CHAT_MESSAGES,
    MAX_DOCUMENTS_PER_REQUEST,
    MAX_ID_CHARS,
    MAX_META_KEY_CHARS,
    MAX_META_KEYS,
    MAX_META_VALUE_CHARS,
    MAX_QUESTION_CHARS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)
from rag.types import Answer, Citation, Filters, Hit, RefusalReason, clean_text, date_key

QUESTION_MAX = MAX_QUESTION_CHARS
def _not_blank(v: str) -> str:
    if not v.strip():
        raise ValueError("must not be empty or whitespace")
    return v


def _not_dots(v: str) -> str:
    if set(v) <= {"."}:
        raise ValueError("must not consist of dots only")
    return v


Text = Annotated[str, AfterValidator(clean_text)]
NonBlank = Annotated[str, AfterValidator(clean_text), AfterValidator(_not_blank)]
NAME_PATTERN = r"^[\w.:\-]+$"
NAME_MAX = 100
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN), AfterValidator(clean_text),
                 AfterValidator(_not_dots)]
DocIdStr = Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS, pattern=NAME_PATTERN),
                     AfterValidator(clean_text), AfterValidator(_not_dots)]
Label = Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(clean_text)]


class FiltersIn(BaseModel):
    """Which articles may answer: each list means "any of these"; dates are inclusive."""

    model_config = ConfigDict(extra="forbid")
    collections: list[Label] = Field(default=[], max_length=50, description="collection names")
    columns: list[Label] = Field(default=[], max_length=50, description="栏目 (column) names")
    sources: list[Label] = Field(default=[], max_length=50, description="sources, e.g. 中工网")
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
    question: NonBlank = Field(min_length=1, max_length=QUESTION_MAX, description="the question, in Chinese")
    top_k: int = Field(default=5, ge=1, le=50, strict=True, description="passages to retrieve")
    filters: FiltersIn | None = Field(default=None, description="restrict the articles that may answer")


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


class ShortAnswerOut(BaseModel):
    text: str
    char_start: int
    char_end: int
    n: int


class AskResponse(BaseModel):
    answer: str
    refused: bool
    refusal_reason: RefusalReason | None = Field(
        default=None, description="why it refused: no passages, none close to the question, none naming "
                                  "what the question asks about, none naming its places and bodies (when "
                                  "ZHRAG_ENTITY_CHECK is on), no article naming a name the question names, "
                                  "or none of the articles close to the question naming it")
    short_answer: ShortAnswerOut | None = Field(
        default=None, description="for a factoid question, the exact words that answer it (the answer starts with "
                                  "them), with their offsets in the article and the citation they are in")
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
    """An article. Other keys are kept as metadata: at most 20, names up to 50 characters,
    values strings (up to 2,000 characters), numbers or booleans; anything else is refused."""

    model_config = ConfigDict(extra="allow")
    title: NonBlank = Field(min_length=1, max_length=MAX_TITLE_CHARS)
    text: NonBlank = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    doc_id: DocIdStr | None = None
    source: Label | None = None
    date: str | None = Field(default=None, pattern=DATE_PATTERN, description="publication date, YYYY-MM-DD")
    column: Label | None = Field(default=None, description="栏目")

    @model_validator(mode="after")
    def _metadata(self) -> DocumentIn:
        extra = self.model_extra or {}
        if len(extra) > MAX_META_KEYS:
            raise ValueError(f"at most {MAX_META_KEYS} metadata keys are kept; got {len(extra)}")
        for k, v in extra.items():
            if len(k) > MAX_META_KEY_CHARS or not k.strip():
                raise ValueError(f"metadata key names are 1 to {MAX_META_KEY_CHARS} characters")
            clean_text(k)
            if isinstance(v, str):
                if len(v) > MAX_META_VALUE_CHARS:
                    raise ValueError(f"metadata value {k[:50]!r} is over {MAX_META_VALUE_CHARS} characters")
                extra[k] = clean_text(v)
            elif isinstance(v, float) and not math.isfinite(v):
                raise ValueError(f"metadata value {k[:50]!r} is not a finite number")
            elif not isinstance(v, bool | int | float):
                raise ValueError(f"metadata value {k[:50]!r} must be a string, number or boolean")
        if self.date is not None and not date_key(self.date):
            raise ValueError("date is not a calendar date (YYYY-MM-DD)")
        return self


class DocumentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentIn] = Field(min_length=1, max_length=MAX_DOCUMENTS_PER_REQUEST)
    collection: Name = Field(default="default", description="the collection the documents go into")


class DocumentsAdded(BaseModel):
    added: int
    replaced: int
    unchanged: int = Field(description="documents identical to what is stored: not re-indexed")
    chunks: int
    doc_ids: list[str]
    duplicates: list[str] = Field(default=[], description="doc_ids given more than once: the last one was kept")
    reprints: list[str] = Field(default=[], description="documents that repeat an indexed article: recorded on it "
                                                        "(meta.reprints), not indexed again")


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    chars: int
    collection: str
    chunks: int
    meta: dict[str, Any]
    disabled: bool = Field(default=False, description="disabled by an editor: kept, never retrieved")


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
    type: str = Field(max_length=50)
    text: Annotated[str, Field(max_length=MAX_CHAT_MESSAGE_CHARS), AfterValidator(clean_text)] | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: Annotated[str, Field(max_length=MAX_CHAT_MESSAGE_CHARS), AfterValidator(clean_text)] | \
        list[ContentPart] | None = None

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
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_CHAT_MESSAGES)
    stream: bool = Field(default=False, strict=True)
    top_k: int = Field(default=5, ge=1, le=50, strict=True, description="zhrag extension: passages to retrieve")
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


# ----------------------------------------------------------------------------- staff: keys, audit, feedback

Role = Literal["reader", "editor", "admin"]
MAX_FEEDBACK_CHARS = 2000
MAX_FEEDBACK_CITATIONS = 20


class WhoAmI(BaseModel):
    name: str
    role: Role
    key_id: int | None
    keys_configured: bool = Field(description="false on a service with no key at all, where writes are open")


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=NAME_MAX), AfterValidator(clean_text),
                    AfterValidator(_not_blank)] = Field(description="who or what holds it, e.g. 'intranet chat page'")
    role: Role = Field(description="reader: ask, chat, search; editor: also add, delete, review feedback; "
                                   "admin: also keys and the audit log")


class KeyOut(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="the key's first characters, to tell keys apart; not secret")
    created: float
    created_by: str
    revoked: float | None


class KeyCreated(KeyOut):
    key: str = Field(description="the key itself: shown this once, stored only as a hash")
    embed_snippet: str | None = Field(default=None, description="for reader keys: the HTML that embeds the chat")


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: Annotated[str, Field(max_length=MAX_CHAT_MESSAGE_CHARS), AfterValidator(clean_text)]


class CitedRef(BaseModel):
    """Which passage an answer cited (what the chat page received in ``citations``)."""

    model_config = ConfigDict(extra="ignore")
    n: int = Field(ge=0, le=1000)
    doc_id: DocIdStr
    chunk_id: Annotated[str, Field(min_length=1, max_length=MAX_ID_CHARS), AfterValidator(clean_text)]
    title: Annotated[str, Field(max_length=MAX_TITLE_CHARS), AfterValidator(clean_text)] = ""
    char_start: int = Field(ge=0)
    char_end: int = Field(ge=0)


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rating: Literal[1, -1] = Field(description="1: thumbs up, -1: thumbs down")
    question: NonBlank = Field(max_length=QUESTION_MAX)
    answer: Annotated[str, Field(max_length=MAX_CHAT_MESSAGE_CHARS), AfterValidator(clean_text)]
    conversation: list[TurnIn] = Field(default=[], max_length=MAX_CHAT_MESSAGES,
                                       description="the turns before the question")
    citations: list[CitedRef] = Field(default=[], max_length=MAX_FEEDBACK_CITATIONS)
    refused: bool = False
    comment: Annotated[str, Field(max_length=MAX_FEEDBACK_CHARS), AfterValidator(clean_text)] = ""
    corrected: Annotated[str, Field(max_length=MAX_FEEDBACK_CHARS), AfterValidator(clean_text)] = Field(
        default="", description="the answer it should have given")


class FeedbackOut(BaseModel):
    id: int
    at: float
    actor: str
    rating: int
    question: str
    answer: str
    conversation: list[dict[str, str]]
    citations: list[dict[str, Any]]
    refused: bool
    index_version: str
    comment: str
    corrected: str
    status: Literal["new", "confirmed", "rejected"]
    confirmed_doc_ids: list[str]
    reviewed_at: float | None
    reviewer: str | None


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["confirmed", "rejected"]
    confirmed_doc_ids: list[DocIdStr] = Field(default=[], max_length=MAX_FEEDBACK_CITATIONS,
                                              description="the cited articles that really answer the question")
    corrected: Annotated[str, Field(max_length=MAX_FEEDBACK_CHARS), AfterValidator(clean_text)] | None = None


class DisableIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    disabled: bool = Field(strict=True)


class ChunkView(BaseModel):
    chunk_id: str
    char_start: int
    char_end: int
    text: str
    disabled: bool


class CitedSpan(BaseModel):
    chunk_id: str
    char_start: int
    char_end: int
    times: int


class ArticleView(DocumentFull):
    """An article as the documents page shows it: text, chunks, and what answers quoted."""

    disabled: bool
    chunks: list[ChunkView]
    cited: list[CitedSpan]


class RetrievalTestIn(AskRequest):
    mode: Literal["hybrid", "dense", "bm25"] = "hybrid"


class RankedHit(SearchHit):
    used: bool = Field(description="the answer cites this passage")
    cited_as: int | None = Field(description="its [n] in the answer")


class RetrievalTestOut(BaseModel):
    query: str
    answer: str
    refused: bool
    refusal_reason: RefusalReason | None
    hits: list[RankedHit]
