"""Outgoing webhooks: subscriptions, their deliveries, and the fan-out of the event log.

Events are never written here on the hot path: the fan-out (`offer_events`) reads the event
log after the fact, as the SSE stream does, and turns each event into one delivery row per
matching webhook; the delivery workflow sends them.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schemas.webhooks import WEBHOOK_DISABLED, PendingBatch, PendingDelivery, matches
from store.db import session_scope
from store.errors import NotFoundError
from store.events import event_json, record_event
from store.models import Event, Webhook, WebhookCursor, WebhookDelivery, utcnow

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
_deliveries = WebhookDelivery.__table__  # type: ignore[attr-defined]
_events = Event.__table__  # type: ignore[attr-defined]


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a secret (the bytes its base64 stands for)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


# --- subscriptions -------------------------------------------------------------------------


def create_webhook(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> Webhook:
    values = dict(fields)
    values["secret"] = values.get("secret") or new_secret()
    webhook = Webhook(tenant_id=tenant_id, **values)
    session.add(webhook)
    session.commit()
    session.refresh(webhook)
    return webhook


def list_webhooks(session: Session, *, tenant_id: str) -> list[Webhook]:
    query = select(Webhook).where(Webhook.tenant_id == tenant_id).order_by(col(Webhook.created_at))
    return list(session.exec(query).all())


def get_webhook(session: Session, *, tenant_id: str, webhook_id: str) -> Webhook:
    webhook = session.get(Webhook, webhook_id)
    if webhook is None or webhook.tenant_id != tenant_id:
        raise NotFoundError(f"webhook {webhook_id} not found")
    return webhook


def update_webhook(
    session: Session, *, tenant_id: str, webhook_id: str, changes: Mapping[str, Any]
) -> Webhook:
    webhook = get_webhook(session, tenant_id=tenant_id, webhook_id=webhook_id)
    for name, value in changes.items():
        setattr(webhook, name, value)
    if changes.get("active"):
        # Switched on again by hand: the failures that disabled it are forgiven.
        webhook.failed_in_a_row, webhook.disabled_reason = 0, None
    webhook.updated_at = utcnow()
    session.add(webhook)
    session.commit()
    session.refresh(webhook)
    return webhook


def delete_webhook(session: Session, *, tenant_id: str, webhook_id: str) -> None:
    """Remove it and its delivery log; its workflow stops at its next look."""
    webhook = get_webhook(session, tenant_id=tenant_id, webhook_id=webhook_id)
    session.execute(sa.delete(_deliveries).where(_deliveries.c.webhook_id == webhook.id))
    session.delete(webhook)
    session.commit()


# --- the delivery log ----------------------------------------------------------------------


def list_deliveries(
    session: Session, *, tenant_id: str, webhook_id: str, limit: int = 100
) -> list[WebhookDelivery]:
    """The webhook's deliveries, newest first."""
    get_webhook(session, tenant_id=tenant_id, webhook_id=webhook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(col(WebhookDelivery.event_id).desc(), col(WebhookDelivery.created_at).desc())
        .limit(limit)
    )
    return list(session.exec(query).all())


def redeliver(
    session: Session, *, tenant_id: str, webhook_id: str, delivery_id: str
) -> WebhookDelivery:
    """A new delivery of the same event and payload, sent after those already waiting."""
    get_webhook(session, tenant_id=tenant_id, webhook_id=webhook_id)
    original = session.get(WebhookDelivery, delivery_id)
    if original is None or original.webhook_id != webhook_id:
        raise NotFoundError(f"delivery {delivery_id} not found")
    copy = WebhookDelivery(
        tenant_id=tenant_id,
        webhook_id=webhook_id,
        event_id=original.event_id,
        event_type=original.event_type,
        execution_id=original.execution_id,
        payload=original.payload,
    )
    session.add(copy)
    session.commit()
    session.refresh(copy)
    return copy


# --- the fan-out ---------------------------------------------------------------------------


@dataclass
class Offered:
    """What one pass of the fan-out read and made."""

    last_event_id: int
    event_ids: list[int] = field(default_factory=list)
    """The events read (of tenants with active webhooks)."""
    webhook_ids: set[str] = field(default_factory=set)
    """Webhooks that were given new deliveries."""
    more: bool = False
    """A full batch was read: more events may be waiting already."""


def read_cursor(engine: Engine) -> int:
    """Where the fan-out left off. The first one ever begins where the oldest webhook was
    created (the end of the log when there is none): no webhook can hear what came before."""
    with Session(engine) as session:
        cursor = session.get(WebhookCursor, 1)
        if cursor is not None:
            return cursor.event_id
        oldest = session.execute(
            sa.select(sa.func.min(Webhook.created_at)).where(col(Webhook.active).is_(True))
        ).scalar()
        query = sa.select(sa.func.max(_events.c.id))
        if oldest is not None:
            query = query.where(_events.c.created_at < oldest)
        return int(session.execute(query).scalar() or 0)


def save_cursor(engine: Engine, event_id: int) -> None:
    """Move the fan-out's cursor forward (never back: another API process may be ahead)."""
    with session_scope(engine) as session:
        cursor = session.get(WebhookCursor, 1, with_for_update=True)
        if cursor is None:
            session.add(WebhookCursor(id=1, event_id=event_id))
        elif cursor.event_id < event_id:
            cursor.event_id = event_id
            session.add(cursor)


def _payload(event: Event) -> dict[str, Any]:
    """The body Standard Webhooks suggests: `type`, `timestamp` and the event as `data`."""
    return {
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": event_json(event),
    }


def _listening(session: Session) -> dict[str, list[Webhook]]:
    """The active webhooks, by tenant."""
    by_tenant: dict[str, list[Webhook]] = {}
    for webhook in session.exec(select(Webhook).where(col(Webhook.active).is_(True))).all():
        by_tenant.setdefault(webhook.tenant_id, []).append(webhook)
    return by_tenant


def event_ids(engine: Engine, *, above: int, up_to: int) -> set[int]:
    """Ids of the events in (above, up_to] of tenants with active webhooks: the fan-out
    compares them with those it offered, to find events committed late (below the cursor)."""
    with Session(engine) as session:
        tenants = list(_listening(session))
        if not tenants or up_to <= above:
            return set()
        query = sa.select(_events.c.id).where(
            _events.c.id > above, _events.c.id <= up_to, _events.c.tenant_id.in_(tenants)
        )
        return {row[0] for row in session.execute(query)}


def offer_events(
    engine: Engine, *, after: int, only: Collection[int] | None = None, limit: int = 500
) -> Offered:
    """Offer the events above `after` (or those of `only`) to the active webhooks of their
    tenant that match them: one pending delivery each, inserted unless that webhook has it
    already (`ON CONFLICT DO NOTHING`), so offering an event twice is harmless.

    `last_event_id` is where the next pass goes on: the last event read when there may be
    more, else the newest event of all (nobody listens to those between).
    """
    with session_scope(engine) as session:
        by_tenant = _listening(session)
        newest = int(session.execute(sa.select(sa.func.max(_events.c.id))).scalar() or 0)
        offered = Offered(last_event_id=max(after, newest))
        if not by_tenant:
            return offered  # nobody listens: nothing to read
        query = select(Event).where(col(Event.tenant_id).in_(list(by_tenant)))
        if only is not None:
            query = query.where(col(Event.id).in_(list(only)))
        else:
            query = query.where(col(Event.id) > after).order_by(col(Event.id)).limit(limit)
        events = list(session.exec(query).all())
        if only is None and len(events) == limit:  # more may follow
            offered.last_event_id, offered.more = events[-1].id or after, True
        offered.event_ids = [e.id or 0 for e in events]
        rows = [
            _delivery_row(webhook, event)
            for event in events
            for webhook in by_tenant[event.tenant_id]
            # A webhook hears what happens from its creation on, not the events before it.
            if event.created_at >= webhook.created_at and matches(webhook.events, event.type)
        ]
        if rows:
            conn = session.connection()
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            for row in rows:
                inserted = conn.execute(
                    dialect.insert(_deliveries)
                    .values(**row)
                    .on_conflict_do_nothing(index_elements=["webhook_id", "fanout_event_id"])
                    .returning(_deliveries.c.id)
                )
                if inserted.first() is not None:  # (rowcount is no answer on every driver)
                    offered.webhook_ids.add(row["webhook_id"])
        return offered


def _delivery_row(webhook: Webhook, event: Event) -> dict[str, Any]:
    now = utcnow()
    return WebhookDelivery(
        tenant_id=webhook.tenant_id,
        webhook_id=webhook.id,
        event_id=event.id or 0,
        fanout_event_id=event.id,
        event_type=event.type,
        execution_id=event.execution_id,
        payload=_payload(event),
        created_at=now,
        updated_at=now,
    ).model_dump()


def webhooks_with_pending(engine: Engine) -> list[tuple[str, str]]:
    """(webhook id, tenant id) of active webhooks with deliveries waiting: the fan-out wakes
    their workflows now and then, in case a wake-up was lost."""
    with Session(engine) as session:
        query = (
            sa.select(Webhook.id, Webhook.tenant_id)  # type: ignore[call-overload]
            .where(col(Webhook.active).is_(True))
            .where(
                sa.exists().where(
                    _deliveries.c.webhook_id == Webhook.id, _deliveries.c.status == "pending"
                )
            )
        )
        return [(row[0], row[1]) for row in session.execute(query)]


# --- what the delivery workflow's activities do --------------------------------------------


def pending_deliveries(
    engine: Engine, *, webhook_id: str, limit: int, skip: Collection[str] = ()
) -> PendingBatch:
    """The webhook's waiting deliveries in event order (but those in `skip`), or
    `active=False` when it is gone or disabled."""
    with Session(engine) as session:
        webhook = session.get(Webhook, webhook_id)
        if webhook is None or not webhook.active:
            return PendingBatch(active=False, deliveries=[])
        query = (
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
            .where(col(WebhookDelivery.id).not_in(list(skip)))
            .order_by(col(WebhookDelivery.event_id), col(WebhookDelivery.created_at))
            .limit(limit)
        )
        return PendingBatch(
            active=True,
            deliveries=[
                PendingDelivery(id=d.id, lane=d.execution_id or f"event-{d.event_id}")
                for d in session.exec(query).all()
            ],
        )


@dataclass(frozen=True)
class Outgoing:
    """A delivery about to be sent: where, with which secret, and what."""

    delivery_id: str
    webhook_id: str
    url: str
    secret: str
    event_id: int
    payload: dict[str, Any]
    status: str
    active: bool


def load_outgoing(engine: Engine, delivery_id: str) -> Outgoing | None:
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        webhook = session.get(Webhook, delivery.webhook_id) if delivery else None
        if delivery is None or webhook is None:
            return None
        return Outgoing(
            delivery_id=delivery.id,
            webhook_id=webhook.id,
            url=webhook.url,
            secret=webhook.secret,
            event_id=delivery.event_id,
            payload=delivery.payload,
            status=delivery.status,
            active=webhook.active,
        )


def record_attempt(
    engine: Engine,
    *,
    delivery_id: str,
    delivered: bool,
    response_status: int | None,
    latency_ms: int | None,
    error: str | None,
    at: datetime,
) -> None:
    """One attempt's outcome; a delivered one also ends the webhook's run of failures."""
    with session_scope(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.response_status = response_status
        delivery.latency_ms = latency_ms
        delivery.error = error
        delivery.updated_at = at
        if delivered:
            delivery.status, delivery.delivered_at = "delivered", at
            session.execute(
                sa.update(Webhook)
                .where(col(Webhook.id) == delivery.webhook_id)
                .values(failed_in_a_row=0)
            )
        session.add(delivery)


def give_up(engine: Engine, *, delivery_id: str, error: str, disable_after: int) -> bool:
    """Mark the delivery failed (every retry used); after `disable_after` such deliveries in
    a row, disable the webhook and raise `webhook.disabled`. True when it was disabled now."""
    with session_scope(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status != "pending":
            return False
        webhook = session.get(Webhook, delivery.webhook_id, with_for_update=True)
        if webhook is None or not webhook.active:
            # Disabled meanwhile (by another lane's failure): the delivery waits for the
            # webhook to be switched on again instead of counting against it.
            return False
        delivery.status, delivery.error, delivery.updated_at = "failed", error, utcnow()
        session.add(delivery)
        webhook.failed_in_a_row += 1
        disable = webhook.active and webhook.failed_in_a_row >= disable_after
        if disable:
            webhook.active = False
            webhook.disabled_reason = (
                f"{webhook.failed_in_a_row} deliveries in a row failed every retry; "
                f"the last: {error}"
            )
            webhook.updated_at = utcnow()
            record_event(
                session,
                tenant_id=webhook.tenant_id,
                type_=WEBHOOK_DISABLED,
                data={
                    "webhook_id": webhook.id,
                    "url": webhook.url,
                    "failed_in_a_row": webhook.failed_in_a_row,
                    "reason": webhook.disabled_reason,
                },
            )
        session.add(webhook)
        return disable
