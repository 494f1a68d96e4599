"""Question and search endpoints: thin wrappers over the engine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from api.deps import EngineDep, FiltersDep, StaffDep, needs, note_answer
from api.schemas import (
    QUESTION_MAX,
    AskRequest,
    AskResponse,
    RankedHit,
    RetrievalTestIn,
    RetrievalTestOut,
    SearchHit,
    SearchResponse,
)
from rag.retrieve import Mode

router = APIRouter(tags=["questions"], dependencies=[Depends(needs("reader"))])


@router.post("/ask", response_model=AskResponse, summary="Answer a question with citations")
def ask(body: AskRequest, engine: EngineDep, staff: StaffDep, request: Request) -> AskResponse:
    ans = engine.ask(body.question, body.top_k, body.filters.to_core() if body.filters else None)
    note_answer(request, staff, ans)
    return AskResponse.of(ans)


@router.post("/retrieval-test", response_model=RetrievalTestOut, summary="Ranked passages and what the answer makes of them",
             description="For the retrieval-testing page: every passage with its dense, BM25 and fused scores, "
                         "which of them the answer cites, and whether and why it refuses. Nothing is recorded.")
def retrieval_test(body: RetrievalTestIn, engine: EngineDep) -> RetrievalTestOut:
    query, hits = engine.search(body.question, body.top_k, body.mode,
                                body.filters.to_core() if body.filters else None)
    ans = engine.compose(query, hits)
    cited = {c.chunk.id: c.n for c in ans.citations}
    return RetrievalTestOut(query=query, answer=ans.text, refused=ans.refused, refusal_reason=ans.refusal_reason,
                            hits=[RankedHit.model_validate({**h.to_dict(), "rank": i, "used": h.chunk.id in cited,
                                                            "cited_as": cited.get(h.chunk.id)})
                                  for i, h in enumerate(hits, 1)])


@router.get("/search", response_model=SearchResponse, summary="Retrieve passages for a query")
def search(engine: EngineDep,
           q: Annotated[str, Query(min_length=1, max_length=QUESTION_MAX, description="the query")],
           k: Annotated[int, Query(ge=1, le=100, description="how many passages")] = 5,
           mode: Annotated[Mode, Query(description="hybrid, dense or bm25")] = "hybrid",
           flt: FiltersDep = None) -> SearchResponse:
    query, hits = engine.search(q, k, mode, flt)
    return SearchResponse(query=query, hits=[SearchHit.of(i, h) for i, h in enumerate(hits, 1)])
