"""``POST /v1/chat/completions``: the OpenAI chat-completions API over the cited-answer engine.

The official ``openai`` client works against it, streamed or not. Sources travel in an
extra ``citations`` field of the response (and of the final stream chunk), so OpenAI
clients that do not know it simply ignore it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request
from sse_starlette.sse import EventSourceResponse

from api.deps import EngineDep, StaffDep, needs, note_answer
from api.schemas import ChatRequest
from rag.conversation import Turn
from rag.types import Answer

router = APIRouter(tags=["chat"], dependencies=[Depends(needs("reader"))])
MODEL_ID = "zhrag"


def _extra(answer: Answer, standalone: str) -> dict[str, Any]:
    d = answer.to_dict()
    return {"citations": d["citations"], "refused": answer.refused, "refusal_reason": answer.refusal_reason,
            "short_answer": d["short_answer"], "retrieval_query": standalone}


def _usage(prompt: str, completion: str) -> dict[str, int]:
    # Characters, not tokens: there is no tokenizer for "zhrag"; close enough for Chinese.
    return {"prompt_tokens": len(prompt), "completion_tokens": len(completion),
            "total_tokens": len(prompt) + len(completion)}


@router.get("/v1/models")
def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "zhrag"}]}


@router.post("/v1/chat/completions", response_model=None)
def chat_completions(body: ChatRequest, engine: EngineDep, staff: StaffDep, request: Request):
    history = [Turn(m.role, m.text()) for m in body.messages[:-1]]
    question = body.messages[-1].text()
    filters = body.filters.to_core() if body.filters else None
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if not body.stream:
        standalone, answer = engine.chat(history, question, body.top_k, filters)
        note_answer(request, staff, answer)
        return {
            "id": cid, "object": "chat.completion", "created": created, "model": MODEL_ID,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer.text},
                         "finish_reason": "stop", "logprobs": None}],
            "usage": _usage(question, answer.text), **_extra(answer, standalone),
        }
    # Retrieval runs before the response starts, so a bad question is still a 422 and not
    # an error inside a stream; composing runs as the stream goes.
    standalone, hits = engine.retrieve(history, question, body.top_k, filters)

    def chunk(delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
        return json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID,
                           "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                           **more}, ensure_ascii=False)

    def events() -> Iterator[str]:
        # First event: retrieval is done and the candidate sources are known.
        yield chunk({"role": "assistant", "content": ""}, retrieval_query=standalone,
                    sources=[{"doc_id": h.chunk.doc_id, "chunk_id": h.chunk.id, "title": h.chunk.title} for h in hits])
        answer: Answer | None = None
        for item in engine.compose_stream(standalone, hits):
            if isinstance(item, Answer):
                answer = item
            else:  # one checked sentence, sent as soon as it is ready
                yield chunk({"content": item})
        assert answer is not None
        note_answer(request, staff, answer)
        if answer.refused:
            yield chunk({"content": answer.text})
        yield chunk({}, "stop", usage=_usage(question, answer.text), **_extra(answer, standalone))
        yield "[DONE]"

    return EventSourceResponse(events(), ping=15)
