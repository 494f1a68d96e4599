"""Dependencies routes receive: the engine loaded by the lifespan, settings, the staff records,
and who is calling (API keys with roles)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status

from api.schemas import DATE_PATTERN
from index.staff import Caller, Role, StaffStore
from rag.pipeline import Engine
from rag.settings import Settings
from rag.types import Answer, Filters, date_key


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_staff(request: Request) -> StaffStore:
    return request.app.state.engine.staff


StaffDep = Annotated[StaffStore, Depends(get_staff)]

_NEEDS = {"reader": "asking questions", "editor": "changing the knowledge base or reviewing feedback",
          "admin": "managing keys and reading the audit log"}


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _unauthorized(msg: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, msg, headers={"WWW-Authenticate": "Bearer"})


def identify(settings: Settings, staff: StaffStore, key: str | None) -> Caller | None:
    """The presented key's holder; None when no key was presented. Once any key exists, an
    unknown key is a 401, never a silent anonymous request: a page with a mistyped or
    revoked key should say so."""
    if key is None:
        return None
    for env_key, name in ((settings.admin_key, "ZHRAG_ADMIN_KEY"), (settings.api_key, "ZHRAG_API_KEY")):
        # compare_digest: a plain == leaks the key's prefix through timing.
        if env_key and hmac.compare_digest(key.encode("utf-8", "surrogatepass"), env_key.encode()):
            return Caller(name, "admin")
    caller = staff.caller_for(key)
    if caller is None:
        if not keys_configured(settings, staff):
            return None  # no key exists anywhere (a laptop): OpenAI clients must send some key; ignore it
        raise _unauthorized("this API key is unknown or has been revoked")
    return caller


def keys_configured(settings: Settings, staff: StaffStore) -> bool:
    return bool(settings.admin_key or settings.api_key or staff.has_active_keys())


# Who calls a service with no key anywhere (a laptop): everything but the admin API is open.
OPEN = Caller("open (no keys configured)", "editor")


def needs(role: Role):
    """A dependency that admits callers holding at least ``role`` and returns who they are.

    No key at all: questions are open unless ``ZHRAG_CHAT_REQUIRES_KEY``; writes are open
    only while no key exists anywhere (a laptop); the admin API never is.
    """

    def dependency(settings: SettingsDep, staff: StaffDep, authorization: Annotated[str | None, Header()] = None,
                   x_api_key: Annotated[str | None, Header()] = None) -> Caller:
        caller = identify(settings, staff, _presented_key(authorization, x_api_key))
        if caller is None:
            if role != "admin" and not keys_configured(settings, staff):
                return OPEN
            if role == "reader" and not settings.chat_requires_key:
                return Caller("anonymous", "reader")
            raise _unauthorized(f"a valid API key is required for {_NEEDS[role]} "
                                "(header 'Authorization: Bearer <key>' or 'X-API-Key')")
        if not caller.may(role):
            # Only editor and admin rights can be missing: every key can read.
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this is a {caller.role} key; {_NEEDS[role]} needs an {role} key")
        return caller

    return dependency


def note_answer(request: Request, staff: StaffStore, answer: Answer) -> None:
    """Count the answer and remember which sentences it quoted (the documents page shows them)."""
    request.app.state.metrics.count_answer(answer.refused)
    staff.record_citations([(c.chunk.doc_id, c.chunk.id, q.start, q.end) for c in answer.citations for q in c.quotes])


ReaderDep = Annotated[Caller, Depends(needs("reader"))]
EditorDep = Annotated[Caller, Depends(needs("editor"))]
AdminDep = Annotated[Caller, Depends(needs("admin"))]


def query_filters(
        collection: Annotated[list[str] | None, Query(max_length=50, description="only these collections")] = None,
        column: Annotated[list[str] | None, Query(max_length=50, description="only these 栏目")] = None,
        source: Annotated[list[str] | None, Query(max_length=50, description="only these sources")] = None,
        date_from: Annotated[str | None, Query(pattern=DATE_PATTERN, description="published on or after")] = None,
        date_to: Annotated[str | None, Query(pattern=DATE_PATTERN, description="published on or before")] = None,
) -> Filters | None:
    """Filters given as query parameters (GET endpoints); the same fields as the JSON ``filters``."""
    for name, v in (("date_from", date_from), ("date_to", date_to)):
        if v is not None and not date_key(v):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                [{"loc": ["query", name], "msg": "not a calendar date (YYYY-MM-DD)",
                                  "type": "value_error"}])
    f = Filters(tuple(collection or ()), tuple(column or ()), tuple(source or ()), date_from, date_to)
    return None if f.is_empty() else f


FiltersDep = Annotated[Filters | None, Depends(query_filters)]
