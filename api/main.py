"""The FastAPI app factory. The lifespan loads the model and the index once per process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api.edge import BodyLimitMiddleware, install_log_redaction, unprocessable, validation_error
from api.metrics import Metrics, MetricsMiddleware
from api.routes import admin, ask, chat, documents, feedback, health, page
from rag.embedding import set_torch_threads
from rag.pipeline import Engine, QuestionError, load_engine
from rag.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Status codes any route may answer with, stated in the OpenAPI document.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body could not be parsed (not UTF-8, say)"},
    401: {"description": "a valid API key is required"},
    403: {"description": "the key's role does not allow this (a reader key on a write, say)"},
    413: {"description": "the request body is over the size limit"},
    422: {"description": "invalid input; `detail` names each field and the problem, never echoing it"},
    502: {"description": "the store (Milvus) failed to write some articles; `detail.failed` names them"},
}


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    """Build the app. ``engine`` lets tests hand in a prepared engine; otherwise the lifespan
    loads one from ``settings`` (building the default index from the seeds if it is missing)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = settings or get_settings()
        app.state.settings = s
        set_torch_threads(s.torch_threads or 1)
        app.state.engine = engine or load_engine(s)
        stats = app.state.engine.store.stats()
        log.info("ready: %s articles, %s chunks, model %s", stats["articles"], stats["chunks"],
                 app.state.engine.store.model)
        yield
        if engine is None:  # ours to close; a handed-in engine belongs to the caller
            app.state.engine.close()

    # FastAPIOffline: the /docs and /redoc pages load their scripts from this server, not
    # from a CDN that an intranet cannot reach.
    app = FastAPIOffline(title="zhrag", version="0.1.0", lifespan=lifespan, responses=COMMON_RESPONSES,
                         description="Cited question answering over Chinese newspaper articles.")
    app.state.metrics = Metrics()
    install_log_redaction()
    configured = settings or get_settings()
    app.add_middleware(BodyLimitMiddleware, max_bytes=configured.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.add_exception_handler(RequestValidationError, validation_error)
    origins = configured.cors_origins
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["*"], allow_headers=["*"])

    @app.exception_handler(QuestionError)
    async def _question_error(_: Request, exc: QuestionError) -> JSONResponse:
        # Same shape as FastAPI's own validation errors, so clients handle one format.
        return unprocessable(["body", "question"], str(exc))

    app.include_router(ask.router)
    app.include_router(documents.router)
    app.include_router(health.router)
    app.include_router(feedback.router)
    app.include_router(admin.router)
    app.include_router(chat.router)
    app.include_router(page.router)
    app.mount("/chat/assets", StaticFiles(directory=page.STATIC), name="chat-assets")
    return app
