"""The event log: a JSON page of it, and a live server-sent-events stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.bodies.events import EventFired, EventIn, EventPage
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey, temporal_source
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import event_triggers
from api.services.stream import event_json, event_stream, newest_event_id
from schemas.event_triggers import EVENT_NAME
from schemas.settings import Settings
from store import events as event_log
from store.errors import InvalidInputError

router = APIRouter(prefix="/events", tags=["events"], responses=KEYED)
MAX_ID = 2**63 - 1


def _types(raw: str | None) -> list[str]:
    return [t.strip() for t in (raw or "").split(",") if t.strip()]


def _resume_after(header: str | None, *, default: int | None) -> int | None:
    """The id in `Last-Event-ID` (what we sent as `id:`): one beyond any event id is 422;
    anything not a number is ignored, as before."""
    value = (header or "").strip()
    if not (value.isascii() and value.isdigit()):
        return default
    if int(value) > MAX_ID:
        raise InvalidInputError(
            "Last-Event-ID is not an event id",
            details=[
                {
                    "path": "$.header.Last-Event-ID",
                    "code": "invalid_value",
                    "message": f"at most {MAX_ID}",
                }
            ],
        )
    return int(value)


@router.get("")
def read_events(
    session: SessionDep,
    key: ViewerKey,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    execution_id: Annotated[str | None, Query(max_length=64)] = None,
    types: Annotated[str | None, Query(max_length=1000, description="comma-separated")] = None,
) -> EventPage:
    """The tenant's events with an id above `after`, oldest first."""
    events = event_log.list_events(
        session,
        tenant_id=key.tenant_id,
        after=after,
        limit=limit,
        execution_id=execution_id,
        types=_types(types),
    )
    return EventPage(
        items=[event_json(e) for e in events], last_id=events[-1].id if events else after
    )


@router.get("/stream", response_class=StreamingResponse)
async def stream_events(
    request: Request,
    engine: EngineDep,
    key: ViewerKey,
    execution_id: Annotated[str | None, Query(max_length=64)] = None,
    types: Annotated[str | None, Query(max_length=1000, description="comma-separated")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    last_event_id_header: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=32)
    ] = None,
) -> StreamingResponse:
    """Server-sent events; resumes after `Last-Event-ID` (header or query), else from now."""
    after = _resume_after(last_event_id_header, default=last_event_id)
    if after is None:
        # A short session of its own: the stream must hold no connection while it lasts.
        after = await run_in_threadpool(newest_event_id, engine, key.tenant_id)
    return StreamingResponse(
        event_stream(
            request=request,
            engine=engine,
            tenant_id=key.tenant_id,
            after=after,
            execution_id=execution_id,
            types=_types(types),
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post("/{name}", responses={**NOT_FOUND, **CONFLICT})
async def post_event(
    name: Annotated[str, Path(pattern=EVENT_NAME, examples=["order.created"])],
    body: EventIn,
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    key: ManagerKey,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> EventFired:
    """Start every enabled, published flow whose `event` trigger names this event and whose
    conditions on `trigger.*` hold (DNC, cooldown and business hours apply as for leads); the
    answer lists what started and what was skipped, and why. A retry with the same
    `Idempotency-Key` gets the same answer (header `Idempotent-Replayed: true`) and starts
    nothing; the key used for another request, or still being handled, is a 409."""

    return await fire_posted(
        request,
        response,
        engine=engine,
        settings=settings,
        tenant_id=key.tenant_id,
        name=name,
        body=body,
        idempotency_key=idempotency_key,
    )


async def fire_posted(
    request: Request,
    response: Response,
    *,
    engine: Engine,
    settings: Settings,
    tenant_id: str,
    name: str,
    body: EventIn,
    idempotency_key: str | None,
    only_flow_id: str | None = None,
) -> EventFired:
    """A posted event fired (here, or through a flow's inbound hook: `only_flow_id`), its
    replayed answer marked with `Idempotent-Replayed: true`."""
    fields = body.contact.given()
    fields.pop("id", None)
    fired = await event_triggers.fire(
        engine=engine,
        settings=settings,
        client_source=temporal_source(request),
        tenant_id=tenant_id,
        name=name,
        contact_id=body.contact.id,
        fields=fields,
        payload=body.payload,
        idempotency_key=idempotency_key,
        request_fingerprint=event_triggers.fingerprint(name, body.model_dump(mode="json")),
        only_flow_id=only_flow_id,
    )
    if fired.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return EventFired.model_validate(fired.result)
