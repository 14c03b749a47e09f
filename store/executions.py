"""Executions: creating the row a workflow runs under, finding, filtering and paging them."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import defer
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, and_, col, or_, select

from schemas.execution import TERMINAL_STATUSES, ExecutionInput, Launch, workflow_id_for
from schemas.flow import FlowDocument
from schemas.hours import BusinessHours
from schemas.settings import Settings
from store.errors import InvalidInputError, NotFoundError
from store.flows import business_hours_model, find_version
from store.models import Execution, ExecutionStep, Flow, FlowVersion, new_id

MAX_PAGE = 200


@dataclass(frozen=True, kw_only=True)
class ExecutionFilter:
    """What the list, the CSV export and bulk cancel select by."""

    flow_id: str | None = None
    statuses: tuple[str, ...] = ()
    q: str | None = None
    """A substring of the contact's name or phone."""
    since: datetime | None = None
    until: datetime | None = None
    test: bool | None = None
    contact_id: str | None = None
    ids: tuple[str, ...] = ()
    """Only these executions (the rows a user picked); empty means no such limit."""
    active_only: bool = False
    """Only executions that have not reached a terminal status."""

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        if self.flow_id is not None:
            clauses.append(col(Execution.flow_id) == self.flow_id)
        if self.statuses:
            clauses.append(col(Execution.status).in_(self.statuses))
        if self.active_only:
            clauses.append(col(Execution.status).not_in([str(s) for s in TERMINAL_STATUSES]))
        if self.q:
            clauses.append(
                or_(
                    col(Execution.contact_name).icontains(self.q, autoescape=True),
                    col(Execution.contact_phone).icontains(self.q, autoescape=True),
                )
            )
        if self.since is not None:
            clauses.append(col(Execution.created_at) >= self.since)
        if self.until is not None:
            clauses.append(col(Execution.created_at) < self.until)
        if self.test is not None:
            clauses.append(col(Execution.test) == self.test)
        if self.contact_id is not None:
            clauses.append(col(Execution.contact_id) == self.contact_id)
        if self.ids:
            clauses.append(col(Execution.id).in_(self.ids))
        return clauses


def contact_name_of(contact: dict[str, Any]) -> str | None:
    name = contact.get("name")
    if not name:
        parts = [contact.get("first_name"), contact.get("last_name")]
        name = " ".join(str(p) for p in parts if p)
    return str(name)[:200] if name else None


def contact_phone_of(contact: dict[str, Any]) -> str | None:
    phone = contact.get("phone")
    return str(phone)[:32] if phone else None


def new_execution(
    *,
    tenant_id: str,
    flow_id: str,
    version: int,
    contact: dict[str, Any],
    variables: dict[str, Any],
    trigger: dict[str, Any],
    test: bool = False,
    retry_of: str | None = None,
    contact_id: str | None = None,
    match: dict[str, Any] | None = None,
    execution_id: str | None = None,
    campaign_id: str | None = None,
    launch: Launch | None = None,
    parent_execution_id: str | None = None,
) -> Execution:
    """A pending execution, not yet stored: it is committed before its workflow starts, so
    nothing is ever lost, and carries how that workflow starts (`launch`) until it has.

    Lead engagement gives the id it claimed the contact's entry under, the stored contact's
    id and the match that chose the flow.
    """
    execution_id = execution_id or new_id()
    return Execution(
        id=execution_id,
        tenant_id=tenant_id,
        flow_id=flow_id,
        version=version,
        workflow_id=workflow_id_for(execution_id),
        contact=contact,
        contact_name=contact_name_of(contact),
        contact_phone=contact_phone_of(contact),
        trigger=trigger,
        variables=variables,
        test=test,
        retry_of=retry_of,
        contact_id=contact_id,
        match=match,
        campaign_id=campaign_id,
        parent_execution_id=parent_execution_id,
        launch=(launch or Launch()).model_dump(mode="json", exclude_defaults=True, by_alias=True),
    )


def create_execution(session: Session, **fields: Any) -> Execution:
    """`new_execution`, committed."""
    execution = new_execution(**fields)
    session.add(execution)
    session.commit()
    return execution


def execution_input(
    execution: Execution,
    *,
    flow: Flow,
    definition: FlowDocument,
    hours: BusinessHours | None,
    settings: Settings,
) -> ExecutionInput:
    """The workflow input of a pending execution: its row, its pinned definition and how it
    starts. The one place an execution's input is made: a run's, a lead's, a call's, a
    subflow's, for the first start and for a start made again after a crash."""
    launch = Launch.model_validate(execution.launch or {})
    return ExecutionInput(
        execution_id=execution.id,
        tenant_id=execution.tenant_id,
        flow_id=flow.id,
        flow_name=flow.name,
        version=execution.version,
        definition=definition,
        contact=execution.contact or {},
        trigger=execution.trigger or {},
        variables=execution.variables or {},
        test=execution.test,
        business_hours=hours,
        parent_execution_id=execution.parent_execution_id,
        contact_id=execution.contact_id,
        campaign_id=execution.campaign_id,
        respect_business_hours=launch.respect_business_hours,
        dial=launch.dial,
        call=launch.call,
        fallback_on_failure=launch.fallback_on_failure,
        local_steps=settings.local_action_types(),
        short_local_steps=settings.short_local_action_types(),
        local_max_s=settings.local_activity_max_s,
        call_time_limit_s=settings.call_time_limit_s,
    )


def load_execution_input(
    session: Session, execution: Execution, *, settings: Settings
) -> ExecutionInput:
    """`execution_input` for a stored execution, from its flow and pinned version (whatever
    became of them since: a published version never changes)."""
    flow = session.get(Flow, execution.flow_id)
    version = find_version(session, flow_id=execution.flow_id, number=execution.version)
    if flow is None or version is None:
        raise NotFoundError(f"version {execution.version} of flow {execution.flow_id} is gone")
    return pinned_input(session, execution, flow=flow, version=version, settings=settings)


def pinned_input(
    session: Session,
    execution: Execution,
    *,
    flow: Flow,
    version: FlowVersion,
    settings: Settings,
) -> ExecutionInput:
    """`execution_input` with the pinned version's definition and the flow's business hours."""
    return execution_input(
        execution,
        flow=flow,
        definition=FlowDocument.model_validate(version.definition),
        hours=business_hours_model(session, flow=flow),
        settings=settings,
    )


def get_execution(session: Session, *, tenant_id: str, execution_id: str) -> Execution:
    execution = session.get(Execution, execution_id)
    if execution is None or execution.tenant_id != tenant_id:
        raise NotFoundError(f"execution {execution_id} not found")
    return execution


def is_terminal(execution: Execution) -> bool:
    return execution.status in TERMINAL_STATUSES


def steps_of(session: Session, *, execution_id: str) -> list[ExecutionStep]:
    """The step timeline, in the order the interpreter ran it."""
    query = select(ExecutionStep).where(ExecutionStep.execution_id == execution_id)
    return list(session.exec(query.order_by(col(ExecutionStep.seq))).all())


def waiting_step(session: Session, *, execution_id: str, node_id: str) -> ExecutionStep | None:
    """The step of `node_id` that is waiting now (a human task, an event), if any."""
    query = select(ExecutionStep).where(
        ExecutionStep.execution_id == execution_id,
        ExecutionStep.node_id == node_id,
        ExecutionStep.status == "waiting",
    )
    return session.exec(query.order_by(col(ExecutionStep.seq).desc())).first()


# --- pages -------------------------------------------------------------------------------


def encode_cursor(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) a page continues after; a cursor we did not issue is invalid input."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        stamp, row_id = json.loads(raw)
        created_at = datetime.fromisoformat(stamp)
        if not isinstance(row_id, str) or created_at.tzinfo is None:
            raise ValueError("malformed cursor")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            "invalid cursor",
            details=[
                {
                    "path": "$.query.cursor",
                    "code": "invalid_value",
                    "message": "not a cursor we issued",
                }
            ],
        ) from exc
    return created_at.astimezone(UTC), row_id


def before_cursor(created_at: datetime, row_id: str) -> ColumnElement[bool]:
    """Rows after the cursor in newest-first order, ties broken by id."""
    return or_(
        col(Execution.created_at) < created_at,
        and_(col(Execution.created_at) == created_at, col(Execution.id) < row_id),
    )


_DOCUMENTS = ("contact", "trigger", "variables", "context", "match")
_SUMMARY_ONLY = tuple(defer(getattr(Execution, name), raiseload=True) for name in _DOCUMENTS)
"""An execution's JSON documents, left unread in a page of summaries (loading options are
immutable: built once, not per query)."""


def list_executions(
    session: Session,
    *,
    tenant_id: str,
    filters: ExecutionFilter,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Execution], str | None]:
    """One page, newest first, and the cursor of the next page (None on the last one).

    The rows carry the summary's columns only: reading one of `_DOCUMENTS` from them raises
    (read the execution itself for those)."""
    limit = max(1, min(limit, MAX_PAGE))
    query = (
        select(Execution)
        .options(*_SUMMARY_ONLY)
        .where(Execution.tenant_id == tenant_id, *filters.clauses())
    )
    if cursor:
        query = query.where(before_cursor(*decode_cursor(cursor)))
    query = query.order_by(col(Execution.created_at).desc(), col(Execution.id).desc())
    rows = list(session.exec(query.limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)


def iter_executions(
    engine: Engine, *, tenant_id: str, filters: ExecutionFilter, batch: int = MAX_PAGE
) -> Iterator[Execution]:
    """Every matching execution, newest first, read in short transactions (for exports)."""
    cursor: str | None = None
    while True:
        with Session(engine, expire_on_commit=False) as session:
            rows, cursor = list_executions(
                session, tenant_id=tenant_id, filters=filters, limit=batch, cursor=cursor
            )
        yield from rows
        if cursor is None:
            return


def active_executions(
    session: Session, *, tenant_id: str, filters: ExecutionFilter, limit: int = 10_000
) -> list[Execution]:
    """Matching executions that are still running or waiting (what bulk cancel signals)."""
    active = replace(filters, active_only=True)
    query = select(Execution).where(Execution.tenant_id == tenant_id, *active.clauses())
    return list(session.exec(query.order_by(col(Execution.created_at)).limit(limit)).all())


# --- starts to confirm -------------------------------------------------------------------


def unconfirmed_starts(
    session: Session,
    *,
    before: datetime,
    after: tuple[datetime, str] | None = None,
    limit: int = 100,
) -> list[Execution]:
    """Pending executions written before `before` whose workflow start is not confirmed: a
    crash between their commit and Temporal's answer may have lost it. Oldest first, a page
    of `limit` after the (created_at, id) of the previous page's last."""
    query = select(Execution).where(
        Execution.status == "pending",
        col(Execution.launch).is_not(None),
        col(Execution.created_at) < before,
    )
    if after is not None:
        created_at, row_id = after
        query = query.where(
            or_(
                col(Execution.created_at) > created_at,
                and_(col(Execution.created_at) == created_at, col(Execution.id) > row_id),
            )
        )
    query = query.order_by(col(Execution.created_at), col(Execution.id)).limit(limit)
    return list(session.exec(query).all())


def confirm_start(session: Session, *, execution_id: str) -> None:
    """Its workflow exists: the start need never be made again."""
    session.execute(
        sa.update(Execution)
        .where(col(Execution.id) == execution_id, col(Execution.launch).is_not(None))
        .values(launch=None)
    )
