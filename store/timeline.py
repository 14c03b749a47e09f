"""Writing an execution's progress: step records, its status, and the events they raise.

Idempotent: a record for a `seq` that is already stored updates it, and an event is written
only when a status really changes, so a retried activity writes nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schemas.execution import TERMINAL_STATUSES, ExecutionStatus, RecordInput, StepRecord
from store.db import session_scope
from store.models import Event, Execution, ExecutionStep

STEP_EVENTS = {
    "running": "flow.step.started",
    "waiting": "flow.step.started",
    "success": "flow.step.completed",
    "skipped": "flow.step.completed",
    "failed": "flow.step.failed",
}
EXECUTION_EVENTS = {
    ExecutionStatus.running: "flow.started",
    ExecutionStatus.completed: "flow.completed",
    ExecutionStatus.failed: "flow.failed",
    ExecutionStatus.cancelled: "flow.cancelled",
    ExecutionStatus.skipped: "flow.skipped",
}


def _event(execution: Execution, type_: str, node_id: str | None, data: dict[str, Any]) -> Event:
    return Event(
        tenant_id=execution.tenant_id,
        type=type_,
        flow_id=execution.flow_id,
        execution_id=execution.id,
        node_id=node_id,
        data=data,
    )


def _apply_step(session: Session, execution: Execution, record: StepRecord) -> None:
    row = session.exec(
        select(ExecutionStep).where(
            ExecutionStep.execution_id == execution.id, ExecutionStep.seq == record.seq
        )
    ).first()
    previous = row.status if row else None
    if row is None:
        row = ExecutionStep(
            execution_id=execution.id,
            tenant_id=execution.tenant_id,
            seq=record.seq,
            node_id=record.node_id,
            node_type=record.node_type,
            status=record.status,
            started_at=record.started_at,
        )
    elif previous in ("success", "failed", "skipped") and record.status in ("running", "waiting"):
        return  # a late "started" record must not reopen a finished step
    row.status = record.status
    row.port = record.port
    row.attempt = max(row.attempt, record.attempt)
    row.ended_at = record.ended_at
    row.duration_ms = (
        int((record.ended_at - record.started_at).total_seconds() * 1000)
        if record.ended_at
        else None
    )
    row.result = record.result
    row.error = record.error
    row.skip_reason = record.skip_reason
    session.add(row)
    event_type = STEP_EVENTS[record.status]
    if STEP_EVENTS.get(previous or "") != event_type:
        data: dict[str, Any] = {
            "seq": record.seq,
            "type": record.node_type,
            "status": record.status,
        }
        if record.port:
            data["port"] = record.port
        if record.error:
            data["error"] = record.error
        if record.skip_reason:
            data["skip_reason"] = record.skip_reason
        session.add(_event(execution, event_type, record.node_id, data))


def _mark_started(session: Session, execution: Execution, at: datetime) -> None:
    """The first progress of an execution: `flow.started` comes before any step event."""
    execution.started_at = at
    if execution.status == ExecutionStatus.pending:
        execution.status = ExecutionStatus.running
    session.add(_event(execution, "flow.started", None, {"version": execution.version}))


def _apply_status(
    session: Session,
    execution: Execution,
    status: ExecutionStatus,
    reason: str | None,
    at: datetime,
) -> None:
    if execution.status in TERMINAL_STATUSES:
        return  # terminal statuses are final: a late write cannot revive an execution
    previous = execution.status
    execution.status = status
    if status in TERMINAL_STATUSES:
        execution.ended_at = at
        execution.reason = reason
        event_type = EXECUTION_EVENTS[status]
        session.add(_event(execution, event_type, None, {"reason": reason} if reason else {}))
    elif previous != status and reason:
        execution.reason = reason


def apply_records(engine: Engine, record: RecordInput, *, current_node: str | None = None) -> None:
    """Store step records and an optional status change of one execution in one transaction."""
    with session_scope(engine) as session:
        execution = session.get(Execution, record.execution_id)
        if execution is None or execution.tenant_id != record.tenant_id:
            raise LookupError(f"execution {record.execution_id} not found")
        active = (ExecutionStatus.running, ExecutionStatus.waiting)
        if execution.started_at is None and (record.records or record.status in active):
            first = record.records[0].started_at if record.records else record.at
            _mark_started(session, execution, first)
        for step in record.records:
            _apply_step(session, execution, step)
        if record.status is not None:
            _apply_status(session, execution, record.status, record.reason, record.at)
        if record.context is not None:
            execution.context = record.context
        if current_node is not None:
            execution.current_node = current_node
        elif record.records:
            execution.current_node = record.records[-1].node_id
        execution.updated_at = record.at
        session.add(execution)
