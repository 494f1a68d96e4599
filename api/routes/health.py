"""Liveness, index facts and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from api.deps import EngineDep
from api.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/health", response_model=Health)
def health(engine: EngineDep) -> Health:
    stats = engine.store.stats()
    return Health(status="ok", model=engine.store.model, dimension=engine.store.dim, articles=stats["articles"],
                  chunks=stats["chunks"], collections=stats["collections"], index_dir=str(engine.settings.index_dir))


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request, engine: EngineDep) -> str:
    return request.app.state.metrics.render(engine.store.stats())
