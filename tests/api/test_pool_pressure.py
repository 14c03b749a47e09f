"""Many runs started at once never wedge the API on its connection pool.

A request that kept a pooled connection while it waited for a worker thread (or for
Temporal) could leave every thread waiting for a connection that only a waiting request
could give back: nothing moved until the pool's timeout, then 500s (`QueuePool limit …
reached`), found by `bench.throughput --scenario http` at 100 in flight. Here the same
deadlock is made small: a pool of one connection, two worker threads, twelve runs at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anyio.to_thread
import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from schemas.settings import Settings
from store.db import create_db_engine
from tests.api.helpers import TenantKeys, make_flow

RUNS = 12


@pytest.fixture
def one_connection(database_url: str, engine: Engine) -> Iterator[Engine]:
    """The test database behind a pool of a single connection that gives up after 5 s."""
    small = create_db_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=5)
    yield small
    small.dispose()


async def test_runs_started_at_once_all_start_with_one_connection_and_two_threads(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    one_connection: Engine,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    flow = await make_flow(api, tenant)  # through the suite's app, with its own pool
    app = create_app(settings=settings, engine=one_connection, temporal_client=temporal_env.client)
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    limiter.total_tokens = 2
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = await asyncio.gather(
                *(
                    client.post(
                        f"/api/flows/{flow['id']}/executions",
                        json={"contact": {"name": f"Lead {n}"}},
                        headers=tenant.auth("manager"),
                    )
                    for n in range(RUNS)
                )
            )
    finally:
        limiter.total_tokens = tokens
    assert [a.status_code for a in answers] == [201] * RUNS, [a.text for a in answers]
    started = {a.json()["id"] for a in answers}
    listed = await api.get(
        "/api/executions",
        params={"flow_id": flow["id"], "limit": 100},
        headers=tenant.auth("viewer"),
    )
    assert {e["id"] for e in listed.json()["items"]} == started


async def test_with_every_connection_busy_a_request_is_503_not_500(
    database_url: str, engine: Engine, settings: Settings, tenant: TenantKeys
) -> None:
    """Overload is a 503 to retry (with `Retry-After`), not an internal error."""
    busy = create_db_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=1)
    app = create_app(settings=settings, engine=busy)
    held = busy.connect()  # the pool's only connection, taken
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/api/flows", headers=tenant.auth("viewer"))
    finally:
        held.close()
        busy.dispose()
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "busy" in response.json()["error"]["message"]
