"""Question and search endpoints: thin wrappers over the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import EngineDep, require_chat_key
from api.schemas import (
    DATE_PATTERN,
    QUESTION_MAX,
    AskRequest,
    AskResponse,
    FiltersIn,
    SearchHit,
    SearchResponse,
)
from rag.retrieve import Mode

router = APIRouter(tags=["questions"], dependencies=[Depends(require_chat_key)])


@router.post("/ask", response_model=AskResponse, summary="Answer a question with citations")
def ask(body: AskRequest, engine: EngineDep, request: Request) -> AskResponse:
    ans = engine.ask(body.question, body.top_k, body.filters.to_core() if body.filters else None)
    request.app.state.metrics.count_answer(ans.refused)
    return AskResponse.of(ans)


@router.get("/search", response_model=SearchResponse, summary="Retrieve passages for a query")
def search(engine: EngineDep,
           q: Annotated[str, Query(min_length=1, max_length=QUESTION_MAX, description="the query")],
           k: Annotated[int, Query(ge=1, le=100, description="how many passages")] = 5,
           mode: Annotated[Mode, Query(description="hybrid, dense or bm25")] = "hybrid",
           collection: Annotated[list[str] | None, Query(max_length=50, description="only these collections")] = None,
           column: Annotated[list[str] | None, Query(max_length=50, description="only these 栏目")] = None,
           source: Annotated[list[str] | None, Query(max_length=50, description="only these sources")] = None,
           date_from: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None,
           date_to: Annotated[str | None, Query(pattern=DATE_PATTERN)] = None) -> SearchResponse:
    flt = FiltersIn(collections=collection or [], columns=column or [], sources=source or [],
                    date_from=date_from, date_to=date_to).to_core()
    query, hits = engine.search(q, k, mode, flt)
    return SearchResponse(query=query, hits=[SearchHit.of(i, h) for i, h in enumerate(hits, 1)])
