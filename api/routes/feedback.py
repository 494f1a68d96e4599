"""Thumbs up/down on answers (any reader), and their review by editors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status

from api.deps import EditorDep, EngineDep, ReaderDep, StaffDep
from api.schemas import FeedbackIn, FeedbackOut, ReviewIn
from index.staff import Feedback, StaffError

router = APIRouter(prefix="/feedback", tags=["feedback"])
FeedbackId = Annotated[int, Path(ge=1, le=2**62)]


def _out(fb: Feedback) -> FeedbackOut:
    return FeedbackOut.model_validate(asdict(fb))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=FeedbackOut, summary="Rate an answer")
def add_feedback(body: FeedbackIn, caller: ReaderDep, staff: StaffDep, engine: EngineDep) -> FeedbackOut:
    fb = Feedback(rating=body.rating, question=body.question, answer=body.answer,
                  conversation=tuple(t.model_dump() for t in body.conversation),
                  citations=tuple(c.model_dump() for c in body.citations), refused=body.refused,
                  index_version=engine.index_version(), comment=body.comment, corrected=body.corrected)
    got = staff.get_feedback(staff.add_feedback(fb, by=caller))
    assert got is not None
    return _out(got)


@router.get("", response_model=list[FeedbackOut], summary="Feedback, newest first")
def list_feedback(_: EditorDep, staff: StaffDep,
                  status_: Annotated[Literal["new", "confirmed", "rejected"] | None, Query(alias="status")] = None,
                  offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[FeedbackOut]:
    return [_out(f) for f in staff.list_feedback(status_, offset, limit)]


@router.post("/{feedback_id}/review", response_model=FeedbackOut, summary="Confirm or reject feedback",
             responses={404: {"description": "no such feedback"}},
             description="Confirmed feedback becomes evaluation data (`zhrag feedback export`): its confirmed "
                         "articles are the gold documents, its corrected answer the gold answer; a confirmed "
                         "up-vote of a refusal is an unanswerable question.")
def review(feedback_id: FeedbackId, body: ReviewIn, caller: EditorDep, staff: StaffDep) -> FeedbackOut:
    try:
        return _out(staff.review_feedback(feedback_id, body.status, confirmed_doc_ids=body.confirmed_doc_ids,
                                          corrected=body.corrected, by=caller))
    except StaffError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
