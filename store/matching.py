"""Lead engagement's bookkeeping: candidate flows, the cooldown lock, recorded skips.

The cooldown lock is the `flow_entry` row of a flow and a contact, claimed in one statement:
insert it, or take it over only if its last entry is older than the cooldown. The claim holds
the id of the execution about to start, stored in the same transaction; the one whose id the
row holds afterwards may start it. On PostgreSQL the statement
waits for a concurrent claim to commit, on SQLite writers are serialized, so of many
concurrent posts of one lead exactly one wins. A start that fails gives the claim up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schemas.execution import TERMINAL_STATUSES, ExecutionStatus, workflow_id_for
from schemas.triggers import LEAD_CREATED, Candidate
from store.db import session_scope
from store.events import record_event
from store.executions import contact_name_of, contact_phone_of
from store.models import Execution, Flow, FlowEntry, new_id, utcnow

_entries = FlowEntry.__table__  # type: ignore[attr-defined]


def lead_flows(session: Session, *, tenant_id: str) -> list[Flow]:
    """The tenant's enabled, published flows triggered by new leads."""
    return triggered_flows(session, tenant_id=tenant_id, trigger_type=LEAD_CREATED)


def triggered_flows(session: Session, *, tenant_id: str, trigger_type: str) -> list[Flow]:
    """The tenant's enabled, published flows whose trigger is of `trigger_type`."""
    query = select(Flow).where(
        Flow.tenant_id == tenant_id,
        col(Flow.deleted_at).is_(None),
        col(Flow.enabled).is_(True),
        col(Flow.published_version).is_not(None),
    )
    return [
        flow
        for flow in session.exec(query).all()
        if isinstance(flow.trigger, dict) and flow.trigger.get("type") == trigger_type
    ]


def candidate_of(flow: Flow) -> Candidate:
    return Candidate(
        flow_id=flow.id,
        name=flow.name,
        priority=flow.priority,
        created_at=flow.created_at,
        conditions=(flow.trigger or {}).get("conditions"),
    )


def record_skip(
    session: Session,
    *,
    flow: Flow,
    contact: dict[str, Any],
    trigger: dict[str, Any],
    match: dict[str, Any],
    reason: str,
) -> Execution:
    """A skipped execution, with no workflow, and its `flow.skipped` event (in the session)."""
    now = utcnow()
    execution_id = new_id()
    execution = Execution(
        id=execution_id,
        tenant_id=flow.tenant_id,
        flow_id=flow.id,
        version=flow.published_version or 0,
        status=ExecutionStatus.skipped.value,
        workflow_id=workflow_id_for(execution_id),
        contact=contact,
        contact_name=contact_name_of(contact),
        contact_phone=contact_phone_of(contact),
        contact_id=contact.get("id"),
        trigger=trigger,
        match=match,
        reason=reason,
        created_at=now,
        ended_at=now,
        updated_at=now,
    )
    session.add(execution)
    record_event(
        session,
        tenant_id=flow.tenant_id,
        type_="flow.skipped",
        flow_id=flow.id,
        execution_id=execution_id,
        data={"reason": reason, "contact_id": contact.get("id")},
    )
    return execution


def skip(
    engine: Engine,
    *,
    flow: Flow,
    contact: dict[str, Any],
    trigger: dict[str, Any],
    match: dict[str, Any],
    reason: str,
) -> Execution:
    with session_scope(engine) as session:
        return record_skip(
            session, flow=flow, contact=contact, trigger=trigger, match=match, reason=reason
        )


def _claim(
    session: Session, *, flow: Flow, contact_id: str, execution_id: str, now: datetime
) -> None:
    """Insert the entry, or take it over if the contact entered longer than the cooldown ago."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_entries).values(
        flow_id=flow.id, contact_id=contact_id, tenant_id=flow.tenant_id,
        execution_id=execution_id, entered_at=now,
    )  # fmt: skip
    statement = statement.on_conflict_do_update(
        index_elements=["flow_id", "contact_id"],
        set_={"entered_at": now, "execution_id": execution_id},
        where=_entries.c.entered_at <= now - timedelta(minutes=flow.cooldown_minutes),
    )
    session.execute(statement)


@dataclass(frozen=True, kw_only=True)
class Admission:
    """The outcome of asking to enter a flow: admitted, or the recorded skip."""

    entered: bool
    skipped: Execution | None = None


def admit(
    engine: Engine,
    *,
    flow: Flow,
    contact: dict[str, Any],
    trigger: dict[str, Any],
    match: dict[str, Any],
    execution: Execution,
) -> Admission:
    """Claim the contact's entry into the flow for `execution` (pending, not yet stored) and
    store it, or record the cooldown skip, atomically: a crash cannot leave a claim without
    its execution, which would keep the lead out of the flow for the whole cooldown."""
    now = utcnow()
    with session_scope(engine) as session:
        _claim(session, flow=flow, contact_id=contact["id"], execution_id=execution.id, now=now)
        entry = session.get(FlowEntry, (flow.id, contact["id"]), populate_existing=True)
        if entry is not None and entry.execution_id == execution.id:
            session.add(execution)
            return Admission(entered=True)
        since = int((now - entry.entered_at).total_seconds()) if entry else 0
        reason = f"cooldown: entered this flow {since} s ago"
        skipped = record_skip(
            session, flow=flow, contact=contact, trigger=trigger, match=match, reason=reason
        )
        return Admission(entered=False, skipped=skipped)


def release_entry(engine: Engine, *, flow_id: str, contact_id: str, execution_id: str) -> None:
    """Give up a claim whose execution could not start, so the lead may enter again."""
    with session_scope(engine) as session:
        session.execute(
            sa.delete(FlowEntry).where(
                col(FlowEntry.flow_id) == flow_id,
                col(FlowEntry.contact_id) == contact_id,
                col(FlowEntry.execution_id) == execution_id,
            )
        )


def live_executions_of(session: Session, *, tenant_id: str, contact_id: str) -> Sequence[Execution]:
    """The contact's executions that have not finished (those a contact update must reach)."""
    query = select(Execution).where(
        Execution.tenant_id == tenant_id,
        Execution.contact_id == contact_id,
        col(Execution.status).not_in([str(s) for s in TERMINAL_STATUSES]),
    )
    return list(session.exec(query).all())
