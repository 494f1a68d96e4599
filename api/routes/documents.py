"""Document add / list / delete. Every change is saved to disk before the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from api.deps import EngineDep, require_write_key
from api.schemas import DocumentOut, DocumentsAdded, DocumentsIn
from rag.ingest import article_from_record
from rag.types import Article

router = APIRouter(prefix="/documents", tags=["documents"])


@router.get("", response_model=list[DocumentOut], summary="List indexed articles")
def list_documents(engine: EngineDep, offset: Annotated[int, Query(ge=0)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[DocumentOut]:
    arts = list(engine.store.articles.values())[offset:offset + limit]
    return [DocumentOut(doc_id=a.doc_id, title=a.title, chars=len(a.text), meta=dict(a.meta)) for a in arts]


@router.post("", response_model=DocumentsAdded, status_code=status.HTTP_201_CREATED,
             dependencies=[Depends(require_write_key)], summary="Add or replace articles")
def add_documents(body: DocumentsIn, engine: EngineDep) -> DocumentsAdded:
    articles: list[Article] = []
    for i, d in enumerate(body.documents):
        extra = {k: v for k, v in (d.model_extra or {}).items() if isinstance(v, str | int | float | bool)}
        meta = {k: v for k, v in {"source": d.source, "date": d.date, **extra}.items() if v is not None}
        article = article_from_record(d.title, d.text, source_path="api", doc_id=d.doc_id, meta=meta)
        if article is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"documents[{i}]: no article text left after cleaning")
        articles.append(article)
    report = engine.store.add_articles(articles, engine.embedder)
    engine.save()
    return DocumentsAdded(added=report.articles_added, replaced=report.articles_replaced,
                          chunks=report.chunks_added, doc_ids=[a.doc_id for a in articles])


@router.delete("/{doc_id}", status_code=status.HTTP_204_NO_CONTENT,
               dependencies=[Depends(require_write_key)], summary="Delete an article")
def delete_document(doc_id: str, engine: EngineDep) -> None:
    if engine.store.delete_documents([doc_id]) == 0:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no article with doc_id {doc_id!r}")
    engine.save()
