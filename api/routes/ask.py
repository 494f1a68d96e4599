"""Question and search endpoints: thin wrappers over the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import EngineDep, FiltersDep, require_chat_key
from api.schemas import (
    QUESTION_MAX,
    AskRequest,
    AskResponse,
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
           flt: FiltersDep = None) -> SearchResponse:
    query, hits = engine.search(q, k, mode, flt)
    return SearchResponse(query=query, hits=[SearchHit.of(i, h) for i, h in enumerate(hits, 1)])
