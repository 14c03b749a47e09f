"""The event log: what the SSE stream, outgoing webhooks and the dashboard read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from store.models import Event


def record_event(
    session: Session,
    *,
    tenant_id: str,
    type_: str,
    flow_id: str | None = None,
    execution_id: str | None = None,
    node_id: str | None = None,
    data: dict[str, Any] | None = None,
) -> Event:
    """Add an event to the session; it is written with the caller's transaction."""
    event = Event(
        tenant_id=tenant_id,
        type=type_,
        flow_id=flow_id,
        execution_id=execution_id,
        node_id=node_id,
        data=data or {},
    )
    session.add(event)
    return event


def event_json(event: Event) -> dict[str, Any]:
    """An event as the stream, the event page and outgoing webhooks show it."""
    return {
        "id": event.id,
        "type": event.type,
        "flow_id": event.flow_id,
        "execution_id": event.execution_id,
        "node_id": event.node_id,
        "data": event.data or {},
        "created_at": event.created_at.isoformat(),
    }


def list_events(
    session: Session,
    *,
    tenant_id: str,
    after: int = 0,
    limit: int = 100,
    execution_id: str | None = None,
    flow_id: str | None = None,
    types: Sequence[str] = (),
) -> list[Event]:
    """The tenant's events with an id above `after`, oldest first."""
    query = select(Event).where(Event.tenant_id == tenant_id, col(Event.id) > after)
    if execution_id is not None:
        query = query.where(Event.execution_id == execution_id)
    if flow_id is not None:
        query = query.where(Event.flow_id == flow_id)
    if types:
        query = query.where(col(Event.type).in_(list(types)))
    return list(session.exec(query.order_by(col(Event.id)).limit(limit)).all())


def last_event_id(session: Session, *, tenant_id: str) -> int:
    """The newest event id of the tenant (0 when it has none): where a live stream begins."""
    newest = session.exec(select(func.max(Event.id)).where(Event.tenant_id == tenant_id)).one()
    return int(newest or 0)
