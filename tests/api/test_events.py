"""The event log: the JSON page and the live server-sent-events stream over a real socket."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from starlette.requests import Request
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from api.services.stream import event_stream
from schemas.settings import Settings
from store.db import session_scope
from store.models import Event
from tests.api.helpers import TenantKeys

READ_TIMEOUT_S = 5.0


def _write_events(
    engine: Engine, tenant_id: str, *types: str, execution_id: str = "e1"
) -> list[int]:
    with session_scope(engine) as session:
        rows = [
            Event(
                tenant_id=tenant_id,
                type=type_,
                execution_id=execution_id,
                flow_id="f1",
                data={"n": i},
            )
            for i, type_ in enumerate(types)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows if r.id is not None]


async def test_the_event_page_reads_on_after_an_id(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    ids = _write_events(engine, tenant.id, "flow.started", "flow.step.started", "flow.completed")
    _write_events(engine, other_tenant.id, "flow.started")
    first = await api.get("/api/events?limit=2", headers=tenant.auth("viewer"))
    assert [e["id"] for e in first.json()["items"]] == ids[:2]
    rest = await api.get(
        f"/api/events?after={first.json()['last_id']}", headers=tenant.auth("viewer")
    )
    assert [e["type"] for e in rest.json()["items"]] == ["flow.completed"]
    assert rest.json()["items"][0]["data"] == {"n": 2}
    only = await api.get("/api/events?types=flow.completed,flow.started", headers=tenant.auth())
    assert [e["id"] for e in only.json()["items"]] == [ids[0], ids[2]]


@pytest.fixture
async def server(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[tuple[str, uvicorn.Server, asyncio.Task[None]]]:
    """The app on a loopback port: streaming needs a real server, not a buffering transport."""
    app = create_app(settings=settings, engine=engine, temporal_client=temporal_env.client)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, lifespan="off", log_config=None, timeout_graceful_shutdown=10)
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:  # noqa: ASYNC110 (uvicorn offers only a flag)
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}", uv, task
    uv.should_exit = True
    await asyncio.wait_for(task, 15)
    sock.close()


async def _read_events(response: httpx.Response, count: int) -> list[dict[str, Any]]:
    """Parse SSE messages until `count` events arrived."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    lines = response.aiter_lines()
    async with asyncio.timeout(READ_TIMEOUT_S):
        async for line in lines:
            if line == "":
                if "data" in current:
                    events.append(current)
                    if len(events) == count:
                        return events
                current = {}
            elif line.startswith(":"):
                continue
            else:
                name, _, value = line.partition(": ")
                current[name] = json.loads(value) if name == "data" else value
    return events


async def test_the_stream_follows_new_events_of_the_tenant_only(
    server: tuple[str, uvicorn.Server, asyncio.Task[None]],
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    engine: Engine,
) -> None:
    base, _, _ = server
    _write_events(engine, tenant.id, "flow.started")  # before connecting: not replayed
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", "/api/events/stream", headers=tenant.auth("viewer")) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await asyncio.sleep(0.2)
        _write_events(engine, other_tenant.id, "flow.started")
        ids = _write_events(engine, tenant.id, "flow.step.started", "flow.completed")
        events = await _read_events(response, 2)
    assert [(int(e["id"]), e["event"]) for e in events] == [
        (ids[0], "flow.step.started"),
        (ids[1], "flow.completed"),
    ]
    assert events[1]["data"]["execution_id"] == "e1"
    assert events[1]["data"]["data"] == {"n": 1}


async def test_the_stream_resumes_after_last_event_id_and_filters(
    server: tuple[str, uvicorn.Server, asyncio.Task[None]], tenant: TenantKeys, engine: Engine
) -> None:
    base, _, _ = server
    ids = _write_events(engine, tenant.id, "flow.started", "flow.step.started", "flow.completed")
    _write_events(engine, tenant.id, "flow.completed", execution_id="e2")
    headers = {**tenant.auth("viewer"), "Last-Event-ID": str(ids[0])}
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", "/api/events/stream", headers=headers) as response,
    ):
        resumed = await _read_events(response, 2)
    assert [int(e["id"]) for e in resumed] == ids[1:]

    params = {"types": "flow.completed", "execution_id": "e2", "last_event_id": "0"}
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream(
            "GET", "/api/events/stream", params=params, headers=tenant.auth("viewer")
        ) as response,
    ):
        [only] = await _read_events(response, 1)
    assert only["event"] == "flow.completed" and only["data"]["execution_id"] == "e2"


async def test_the_stream_ends_when_the_client_goes(
    server: tuple[str, uvicorn.Server, asyncio.Task[None]], tenant: TenantKeys
) -> None:
    base, uv, task = server
    async with (
        httpx.AsyncClient(base_url=base) as client,
        client.stream("GET", "/api/events/stream", headers=tenant.auth("viewer")) as response,
    ):
        assert response.status_code == 200
        await asyncio.sleep(0.5)
    # With the client gone the generator must stop: otherwise the server cannot shut down.
    async with asyncio.timeout(5):
        while uv.server_state.connections:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    uv.should_exit = True
    await asyncio.wait_for(asyncio.shield(task), 5)


async def test_the_generator_stops_by_itself_once_the_client_is_gone(
    engine: Engine, tenant: TenantKeys
) -> None:
    """Whatever the server does, the poll loop notices the disconnect on its own."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []}, receive)
    stream = event_stream(request=request, engine=engine, tenant_id=tenant.id, after=0)
    async with asyncio.timeout(2):
        chunks = [chunk async for chunk in stream]
    assert chunks == ["retry: 3000\n: stream of events after 0\n\n"]
