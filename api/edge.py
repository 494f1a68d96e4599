"""The edge every request passes: a body-size limit and error bodies that are always sendable.

FastAPI's own 422 body echoes the offending input; an input holding a lone surrogate
cannot be encoded as UTF-8, so the error itself used to fail with a 500 and a dropped
connection, and a huge input was echoed back whole. Here an error names the field and
says what is wrong, and never repeats the input.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_MESSAGE_CHARS = 300


def _safe(s: object) -> str:
    text = str(s)[:MAX_MESSAGE_CHARS]
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def error_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"detail": [{"loc": [_safe(p) if isinstance(p, str) else p for p in e.get("loc", ())][:10],
                        "msg": _safe(e.get("msg", "invalid")), "type": _safe(e.get("type", "value_error"))}
                       for e in errors[:20]]}


def unprocessable(loc: list[str | int], msg: str) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
                        content=error_body([{"loc": loc, "msg": msg, "type": "value_error"}]))


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content=error_body(list(exc.errors())))


class BodyLimitMiddleware:
    """Refuses a body over ``max_bytes`` with 413, by its Content-Length or as it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def limited() -> Message:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    refused = True
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(send)
        except Exception:
            if not refused:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": f"request body over the limit of {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": status.HTTP_413_CONTENT_TOO_LARGE,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


_SECRET_PARAM = re.compile(r"([?&](?:key|api_key|apikey|token|access_token)=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    """A URL with its key-like query parameters blanked (the chat page is opened as /chat?key=…)."""
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactKeys(logging.Filter):
    """On uvicorn's access log: keys in query strings are never written to a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact(str(record.msg))
        return True


def install_log_redaction() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactKeys) for f in access.filters):
        access.addFilter(RedactKeys())
