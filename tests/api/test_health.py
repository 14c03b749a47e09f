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


async def test_a_temporal_server_that_never_answers_is_reported_within_the_timeout(
    engine: Engine,
) -> None:
    """A frontend that accepts the connection and then says nothing (a hung server, a
    black-holed port) is 503 `temporal: error` once `FLOWDECK_HEALTH_TIMEOUT_S` has passed, not
    a probe left hanging: the probe's own deadline here is ten times the setting, and shorter
    than the 3 s the check once waited whatever the setting said."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # accepted, never answered

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=f"127.0.0.1:{port}",
        FLOWDECK_HEALTH_TIMEOUT_S=0.25,
    )
    app = create_app(settings=settings, engine=engine)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await asyncio.wait_for(client.get("/api/health/ready"), timeout=2.5)
        assert response.status_code == 503, response.text
        assert response.json() == {"database": "ok", "temporal": "error"}
        assert held, "the check never reached the server"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
