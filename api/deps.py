"""Dependencies routes receive: the engine loaded by the lifespan, settings, API-key checks."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status

from api.schemas import DATE_PATTERN
from rag.pipeline import Engine
from rag.settings import Settings
from rag.types import Filters, date_key


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


EngineDep = Annotated[Engine, Depends(get_engine)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    return None


def _check(settings: Settings, authorization: str | None, x_api_key: str | None) -> None:
    expected = settings.api_key
    if not expected:
        return
    got = _presented_key(authorization, x_api_key)
    # compare_digest: a plain == leaks the key's prefix through timing.
    if got is None or not hmac.compare_digest(got.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a valid API key is required "
                            "(header 'Authorization: Bearer <key>' or 'X-API-Key')",
                            headers={"WWW-Authenticate": "Bearer"})


def require_write_key(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None,
                      x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Write endpoints need the key whenever ZHRAG_API_KEY is set."""
    _check(settings, authorization, x_api_key)


def require_chat_key(settings: SettingsDep, authorization: Annotated[str | None, Header()] = None,
                     x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Question endpoints need the key only when ZHRAG_CHAT_REQUIRES_KEY is set too."""
    if settings.chat_requires_key:
        _check(settings, authorization, x_api_key)


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
