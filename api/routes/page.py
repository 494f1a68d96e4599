"""The embeddable chat page: ``/chat`` (for an iframe) and ``/chat/embed.js`` (one script tag);
the staff pages at ``/staff``.

Static files shipped in the package: no CDN, so it works on an intranet with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["chat page"], include_in_schema=False)


@router.get("/chat")
def chat_page() -> FileResponse:
    return FileResponse(STATIC / "chat.html", media_type="text/html; charset=utf-8")


@router.get("/chat/")
def chat_slash() -> RedirectResponse:
    return RedirectResponse("/chat")


@router.get("/staff")
def staff_page() -> FileResponse:
    """Documents, retrieval testing, feedback review, keys and audit; the key is typed in, never in the HTML."""
    return FileResponse(STATIC / "staff.html", media_type="text/html; charset=utf-8")


@router.get("/chat/embed.js")
def embed_js() -> FileResponse:
    return FileResponse(STATIC / "embed.js", media_type="text/javascript; charset=utf-8")


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/chat")
