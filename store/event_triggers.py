"""Posted events: the flows an event name starts, and the claim of an `Idempotency-Key`.

The claim is the insert of the `event_post` row (tenant and key are its primary key) in one
statement that does nothing on conflict: of two posts with one key, racing or not, exactly
one inserts it and handles the event; the other reads the row (its answer, once stored).
A claim left without an answer for `STALE_CLAIM` (its process died mid-post) is taken over by
the next retry, in one conditional update, so a crash never locks a key out for good.
A key is remembered for `KEY_TTL` (a day, as Stripe keeps its keys): an older claim is taken
over by any post with the key, as a new one, and `forget_expired` deletes such rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schemas.event_triggers import EVENT
from store.db import session_scope
from store.errors import NotFoundError
from store.flows import get_flow
from store.models import EventHook, EventPost, Flow, utcnow

_posts = EventPost.__table__  # type: ignore[attr-defined]
STALE_CLAIM = timedelta(minutes=2)
"""Longer than any post takes (the API's request limits are far shorter): a claim this old
with no answer belongs to a post that died."""
KEY_TTL = timedelta(hours=24)
"""How long a key (and its answer) is remembered; after it, the key is free again."""


def event_flows(session: Session, *, tenant_id: str, name: str) -> list[Flow]:
    """The tenant's flows (deleted ones aside) whose `event` trigger names this event, enabled
    or not, published or not, best priority first."""
    query = select(Flow).where(Flow.tenant_id == tenant_id, col(Flow.deleted_at).is_(None))
    flows = [
        flow
        for flow in session.exec(query).all()
        if isinstance(flow.trigger, dict)
        and flow.trigger.get("type") == EVENT
        and flow.trigger.get("event") == name
    ]
    return sorted(flows, key=lambda f: (f.priority is None, f.priority or 0, f.created_at, f.id))


@dataclass(frozen=True, kw_only=True)
class Claim:
    """Ours: this post handles the event. Otherwise the earlier post's row, as it is now."""

    ours: bool
    earlier: EventPost | None = None


def claim(engine: Engine, *, tenant_id: str, key: str, event: str, fingerprint: str) -> Claim:
    with session_scope(engine) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(_posts)
            .values(
                tenant_id=tenant_id,
                idempotency_key=key,
                event=event,
                fingerprint=fingerprint,
                created_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["tenant_id", "idempotency_key"])
            .returning(_posts.c.idempotency_key)
        )
        if session.execute(statement).first() is not None:
            return Claim(ours=True)
        now = utcnow()
        died = sa.and_(
            col(EventPost.result).is_(None),
            col(EventPost.fingerprint) == fingerprint,
            col(EventPost.created_at) < now - STALE_CLAIM,
        )
        takeover = session.execute(
            sa.update(EventPost)
            .where(
                col(EventPost.tenant_id) == tenant_id,
                col(EventPost.idempotency_key) == key,
                sa.or_(died, col(EventPost.created_at) < now - KEY_TTL),
            )
            .values(created_at=now, event=event, fingerprint=fingerprint, result=None)
        )
        if takeover.rowcount == 1:  # type: ignore[attr-defined]
            return Claim(ours=True)
        earlier = session.get(EventPost, (tenant_id, key), populate_existing=True)
        return Claim(ours=False, earlier=earlier)


def forget_expired(engine: Engine) -> int:
    """Delete the claims older than `KEY_TTL`; how many went."""
    with session_scope(engine) as session:
        gone = session.execute(
            sa.delete(EventPost).where(col(EventPost.created_at) < utcnow() - KEY_TTL)
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]


def remember(engine: Engine, *, tenant_id: str, key: str, result: dict[str, Any]) -> None:
    """Store the answer of the post that claimed the key."""
    with session_scope(engine) as session:
        session.execute(
            sa.update(EventPost)
            .where(col(EventPost.tenant_id) == tenant_id, col(EventPost.idempotency_key) == key)
            .values(result=result)
        )


def release(engine: Engine, *, tenant_id: str, key: str) -> None:
    """Give the key up when its post failed before it had an answer, so a retry may run."""
    with session_scope(engine) as session:
        session.execute(
            sa.delete(EventPost).where(
                col(EventPost.tenant_id) == tenant_id,
                col(EventPost.idempotency_key) == key,
                col(EventPost.result).is_(None),
            )
        )


def new_hook(engine: Engine, *, tenant_id: str, flow_id: str, secret: str) -> EventHook:
    """The flow's inbound hook, made anew (a new id and secret: the old ones stop working)."""
    with session_scope(engine) as session:
        get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
        session.execute(sa.delete(EventHook).where(col(EventHook.flow_id) == flow_id))
        hook = EventHook(tenant_id=tenant_id, flow_id=flow_id, secret=secret)
        session.add(hook)
        return hook


def delete_hook(engine: Engine, *, tenant_id: str, flow_id: str) -> None:
    with session_scope(engine) as session:
        get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
        hook = session.exec(select(EventHook).where(EventHook.flow_id == flow_id)).first()
        if hook is None:
            raise NotFoundError(f"flow {flow_id} has no event hook")
        session.delete(hook)


def find_hook(session: Session, *, hook_id: str) -> tuple[EventHook, Flow] | None:
    """The hook and its flow, unless either is gone (a deleted flow's hook fires nothing)."""
    hook = session.get(EventHook, hook_id)
    if hook is None:
        return None
    flow = session.get(Flow, hook.flow_id)
    if flow is None or flow.deleted_at is not None:
        return None
    return hook, flow
