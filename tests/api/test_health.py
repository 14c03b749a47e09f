"""Health that tells the truth: liveness asks nothing; readiness asks the database and
Temporal at once, the database from threads of its own (not behind busy request threads)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import anyio.to_thread
import httpx
import pytest
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from schemas.settings import Settings

READINESS = ["/api/health", "/api/health/ready"]


@pytest.fixture
async def no_temporal(engine: Engine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(FLOWDECK_ENV="test", TEMPORAL_ADDRESS="127.0.0.1:1")
    app = create_app(settings=settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_liveness_asks_no_dependency(no_temporal: httpx.AsyncClient) -> None:
    response = await no_temporal.get("/api/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("path", READINESS)
async def test_readiness_names_what_is_unreachable(
    no_temporal: httpx.AsyncClient, path: str
) -> None:
    response = await no_temporal.get(path)
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "temporal": "error"}


@pytest.mark.parametrize("path", READINESS)
async def test_ready_when_both_answer(api: httpx.AsyncClient, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    assert response.json() == {"database": "ok", "temporal": "ok"}


async def test_the_database_check_does_not_queue_behind_busy_request_threads(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> None:
    """Every request thread busy (one, held): readiness still answers, and says ok."""
    app = create_app(settings=settings, engine=engine, temporal_client=temporal_env.client)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    release = threading.Event()
    limiter.total_tokens = 1
    try:
        busy = asyncio.ensure_future(run_in_threadpool(release.wait))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = asyncio.ensure_future(client.get("/api/health/ready"))
            # A guard against waiting for ever, not a timing: queued, it never answers.
            done, _ = await asyncio.wait({ready}, timeout=60)
            release.set()
            await busy
            assert ready in done, "readiness waited for a request thread"
            response = ready.result()
    finally:
        release.set()
        limiter.total_tokens = tokens
    assert response.status_code == 200, response.text
    assert response.json() == {"database": "ok", "temporal": "ok"}
