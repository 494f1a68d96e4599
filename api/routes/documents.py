"""Document add / list / get / delete. Every change is committed before the response."""

from __future__ import annotations

from pathlib import Path as FilePath
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Query, UploadFile, status
from pydantic import AfterValidator

from api.deps import EditorDep, EngineDep, FiltersDep, StaffDep
from api.schemas import (
    NAME_PATTERN,
    ArticleView,
    ChunkView,
    CitedSpan,
    DisableIn,
    DocumentFull,
    DocumentOut,
    DocumentsAdded,
    DocumentsIn,
)
from index.staff import Caller, StaffStore
from rag.ingest import SUPPORTED_SUFFIXES, IngestError, article_from_record, parse_file
from rag.pipeline import Engine
from rag.settings import MAX_ID_CHARS, MAX_PERSON_CHARS, MAX_TITLE_CHARS, MAX_UPLOAD_BYTES
from rag.types import Article, clean_text

router = APIRouter(prefix="/documents", tags=["documents"])
DocId = Annotated[str, Path(min_length=1, max_length=200, pattern=NAME_PATTERN)]


@router.get("", response_model=list[DocumentOut], summary="List indexed articles")
def list_documents(engine: EngineDep, staff: StaffDep, offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   q: Annotated[str, Query(max_length=MAX_TITLE_CHARS, description="title contains"),
                                AfterValidator(clean_text)] = "",
                   person: Annotated[str, Query(max_length=MAX_PERSON_CHARS,
                                                description="a reporter, correspondent or photographer the article names"),
                                     AfterValidator(clean_text)] = "",
                   flt: FiltersDep = None) -> list[DocumentOut]:
    off = staff.disabled().doc_ids
    found = engine.store.list_articles(offset, limit, flt, q.strip(), person=person.strip())
    return [DocumentOut(doc_id=a.doc_id, title=a.title, chars=a.chars, collection=a.collection, chunks=a.chunks,
                        meta=a.meta, disabled=a.doc_id in off) for a in found]


@router.get("/{doc_id}", response_model=DocumentFull, summary="One article with its text",
            responses={404: {"description": "no such article"}})
def get_document(doc_id: DocId, engine: EngineDep) -> DocumentFull:
    a = engine.store.get_article(doc_id)
    if a is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no article with doc_id {doc_id!r}")
    return DocumentFull(doc_id=a.doc_id, title=a.title, text=a.text, meta=dict(a.meta))


@router.get("/{doc_id}/view", response_model=ArticleView, summary="An article with its chunks and cited sentences",
            responses={404: {"description": "no such article"}})
def view_document(doc_id: DocId, _: EditorDep, engine: EngineDep, staff: StaffDep) -> ArticleView:
    a = engine.store.get_article(doc_id)
    if a is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no article with doc_id {doc_id!r}")
    off = staff.disabled()
    return ArticleView(doc_id=a.doc_id, title=a.title, text=a.text, meta=dict(a.meta),
                       disabled=a.doc_id in off.doc_ids,
                       chunks=[ChunkView(chunk_id=c.id, char_start=c.char_start, char_end=c.char_end, text=c.text,
                                         disabled=c.id in off.chunk_ids) for c in engine.store.chunks_of(doc_id)],
                       cited=[CitedSpan(chunk_id=c, char_start=s, char_end=e, times=n)
                              for c, s, e, n in staff.cited(doc_id)])


@router.put("/{doc_id}/disabled", status_code=status.HTTP_204_NO_CONTENT, summary="Disable or enable an article",
            description="A disabled article stays stored but is never retrieved or cited.",
            responses={404: {"description": "no such article"}})
def disable_document(doc_id: DocId, body: DisableIn, caller: EditorDep, engine: EngineDep, staff: StaffDep) -> None:
    if engine.store.get_article(doc_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no article with doc_id {doc_id!r}")
    staff.set_disabled("article", doc_id, body.disabled, by=caller)


@router.put("/{doc_id}/chunks/{chunk_id}/disabled", status_code=status.HTTP_204_NO_CONTENT,
            summary="Disable or enable one chunk of an article",
            description="A disabled chunk is never retrieved or cited; the rest of the article still is.",
            responses={404: {"description": "no such article or chunk"}})
def disable_chunk(doc_id: DocId, chunk_id: Annotated[str, Path(min_length=1, max_length=MAX_ID_CHARS)],
                  body: DisableIn, caller: EditorDep, engine: EngineDep, staff: StaffDep) -> None:
    if chunk_id not in {c.id for c in engine.store.chunks_of(doc_id)}:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"article {doc_id!r} has no chunk {chunk_id!r}")
    staff.set_disabled("chunk", chunk_id, body.disabled, by=caller)


@router.post("", response_model=DocumentsAdded, status_code=status.HTTP_201_CREATED, summary="Add or replace articles",
             description="All documents go in one transaction, or none does. A doc_id given twice: the last wins "
                         "(listed in `duplicates`). A document identical to the stored one is not re-indexed.")
def add_documents(body: DocumentsIn, caller: EditorDep, engine: EngineDep, staff: StaffDep) -> DocumentsAdded:
    articles: list[Article] = []
    for i, d in enumerate(body.documents):
        extra = {k: v for k, v in (d.model_extra or {}).items() if isinstance(v, str | int | float | bool)}
        meta = {k: v for k, v in {"source": d.source, "date": d.date, "column": d.column, **extra}.items()
                if v is not None}
        article = article_from_record(d.title, d.text, source_path="api", doc_id=d.doc_id, meta=meta)
        if article is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"documents[{i}]: no article text left after cleaning")
        articles.append(article)
    return _add(engine, staff, caller, articles, body.collection, "documents.add", "api")


def _add(engine: Engine, staff: StaffStore, caller: Caller, articles: list[Article], collection: str,
         action: str, target: str) -> DocumentsAdded:
    """Index articles in one transaction, record it in the audit log, and say what happened."""
    try:
        report = engine.add_articles(articles, collection)
    except ValueError as exc:  # the store refused a value (an unencodable character, say): nothing was written
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)[:300]) from exc
    failed = [{"article": e.path, "reason": e.reason} for e in report.errors]
    staff.audit(caller, action, target, {"collection": collection, "added": report.added,
                                         "replaced": report.replaced, "unchanged": report.unchanged,
                                         "doc_ids": list(report.doc_ids)[:100], "failed": failed[:100]})
    if failed:  # only a store without transactions (Milvus) fails part of a batch
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, {
            "message": f"the store could not write {len(failed)} article(s); the others were written and the "
                       "failed ones left nothing behind: send them again", "failed": failed,
            "added": report.added, "replaced": report.replaced})
    return DocumentsAdded(added=report.added, replaced=report.replaced, unchanged=report.unchanged,
                          chunks=report.chunks, doc_ids=list(report.doc_ids), duplicates=list(report.duplicates),
                          reprints=list(report.reprints))


@router.post("/upload", response_model=DocumentsAdded, status_code=status.HTTP_201_CREATED, summary="Upload one file: a page, PDF, Word file or scan",
             description=f"One file per request, at most {MAX_UPLOAD_BYTES // 2**20} MiB, of type "
                         f"{', '.join(sorted(SUPPORTED_SUFFIXES))}. It is split into articles as `zhrag add` "
                         "would; all of them go in one transaction, or none does. Uploading an edited file "
                         "under the same name replaces its articles.",
             responses={415: {"description": "a file type that cannot be read"}})
def upload_document(caller: EditorDep, engine: EngineDep, staff: StaffDep, file: Annotated[UploadFile, File(description="the file")],
                    collection: Annotated[str, Form(min_length=1, max_length=MAX_ID_CHARS,
                                                    pattern=NAME_PATTERN)] = "default") -> DocumentsAdded:
    name = PurePath((file.filename or "").replace("\\", "/")).name
    if not name or len(name) > MAX_ID_CHARS or not name.isprintable():
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"file: a file name of 1 to {MAX_ID_CHARS} printable characters is required")
    suffix = PurePath(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                            f"file: type {suffix or '(none)'} cannot be read; send one of "
                            f"{', '.join(sorted(SUPPORTED_SUFFIXES))}")
    raw = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"file: larger than {MAX_UPLOAD_BYTES} bytes")
    try:
        articles = parse_file(FilePath(name), raw)  # a name only: the bytes are given, nothing is read from disk
    except IngestError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"file: {exc.reason}"[:300]) from exc
    return _add(engine, staff, caller, articles, collection, "documents.upload", f"file {name}")


@router.delete("/{doc_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete an article",
               responses={404: {"description": "no such article"}})
def delete_document(doc_id: DocId, caller: EditorDep, engine: EngineDep, staff: StaffDep) -> None:
    if not engine.delete([doc_id]):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no article with doc_id {doc_id!r}")
    staff.audit(caller, "documents.delete", f"article {doc_id}")
