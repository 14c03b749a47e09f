"""Health, no key needed: liveness (the process answers) and readiness (its dependencies do).

`/api/health` is readiness, as SPEC §5 names it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from api.bodies.health import Liveness, Readiness
from api.deps import EngineDep, SettingsDep, get_temporal
from api.errors import OpenAPIResponses, error_responses
from api.services.health import readiness

router = APIRouter(prefix="/health", tags=["health"], responses=error_responses(413))


NOT_READY: OpenAPIResponses = {
    503: {"model": Readiness, "description": "the database or Temporal is unreachable"}
}


@router.get("/live")
async def live() -> Liveness:
    """200 while the process answers; no dependency is asked (restart it only if this fails)."""
    return Liveness()


@router.get("", response_model=Readiness, responses=NOT_READY)
@router.get("/ready", response_model=Readiness, responses=NOT_READY)
async def ready(request: Request, engine: EngineDep, settings: SettingsDep) -> JSONResponse:
    """200 when the database and Temporal both answer (asked at once), else 503 naming the one
    that did not."""

    async def connect() -> Client:
        return await get_temporal(request)

    checked = await readiness(engine, connect, timeout_s=settings.health_timeout_s)
    body = Readiness(
        database="ok" if checked.database else "error",
        temporal="ok" if checked.temporal else "error",
    )
    return JSONResponse(body.model_dump(), status_code=200 if checked.ready else 503)
