"""Server-sent events: the tenant's event log, followed live by polling the table."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from store.events import event_json as event_json  # the stream's shape, shared
from store.events import last_event_id, list_events
from store.models import Event

POLL_S = 0.3
HEARTBEAT_S = 15.0
BATCH = 500


def sse_message(event: Event) -> str:
    """One SSE message; the JSON is on one line, so it needs a single `data:` field."""
    data = json.dumps(event_json(event), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


def _read(
    engine: Engine, tenant_id: str, after: int, execution_id: str | None, types: Sequence[str]
) -> list[Event]:
    with Session(engine, expire_on_commit=False) as session:
        return list_events(
            session,
            tenant_id=tenant_id,
            after=after,
            limit=BATCH,
            execution_id=execution_id,
            types=types,
        )


def newest_event_id(engine: Engine, tenant_id: str) -> int:
    """Where a stream without `Last-Event-ID` begins: after the newest event."""
    with Session(engine) as session:
        return last_event_id(session, tenant_id=tenant_id)


async def event_stream(
    *,
    request: Request,
    engine: Engine,
    tenant_id: str,
    after: int,
    execution_id: str | None = None,
    types: Sequence[str] = (),
    poll_s: float = POLL_S,
    heartbeat_s: float = HEARTBEAT_S,
) -> AsyncIterator[str]:
    """Events with an id above `after`, then new ones as they are written, until disconnect."""
    yield f"retry: 3000\n: stream of events after {after}\n\n"
    last_sent = time.monotonic()
    while not await request.is_disconnected():
        events = await run_in_threadpool(_read, engine, tenant_id, after, execution_id, types)
        for event in events:
            after = event.id or after
            yield sse_message(event)
        now = time.monotonic()
        if events:
            last_sent = now
        elif now - last_sent >= heartbeat_s:
            yield ": keep-alive\n\n"
            last_sent = now
        if len(events) < BATCH:
            await asyncio.sleep(poll_s)
