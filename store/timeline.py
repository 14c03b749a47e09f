"""Writing an execution's progress: step records, its status, and the events they raise.

Idempotent: a record for a `seq` that is already stored updates it, and an event is written
only when a status really changes, so a retried activity writes nothing twice; writers that
meet on one execution take turns on its row (`_load`).

This is the hottest write path of the product (every step of every execution), so it speaks
SQLAlchemy Core, not the ORM, and `apply_batch` writes many executions' records in one
transaction (group commit, `store.recorder`) with one statement per kind of row: the steps
stored are read once, new steps inserted together, and executions that changed the same
columns updated together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from schemas.execution import (
    TERMINAL_STATUSES,
    ActionOutput,
    ExecutionStatus,
    RecordInput,
    StepRecord,
)
from store.db import writing
from store.models import Event, Execution, ExecutionStep, OutboxMessage
from store.outbox import insert_once

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
_FINISHED = ("success", "failed", "skipped")
_ACTIVE = (ExecutionStatus.running, ExecutionStatus.waiting)

_executions = Execution.__table__  # type: ignore[attr-defined]
_steps = ExecutionStep.__table__  # type: ignore[attr-defined]
_events = Event.__table__  # type: ignore[attr-defined]


@dataclass
class _Execution:
    """The columns of one execution that progress reads and changes."""

    id: str
    tenant_id: str
    flow_id: str
    version: int
    status: str
    started_at: datetime | None
    changes: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def set(self, **values: Any) -> None:
        self.changes.update(values)
        if "status" in values:
            self.status = values["status"]

    def event(self, type_: str, node_id: str | None, data: dict[str, Any], at: datetime) -> None:
        self.events.append(
            {
                "tenant_id": self.tenant_id,
                "type": type_,
                "flow_id": self.flow_id,
                "execution_id": self.id,
                "node_id": node_id,
                "data": data,
                "created_at": at,
            }
        )


def _step_values(execution: _Execution, record: StepRecord, attempt: int) -> dict[str, Any]:
    duration = (
        int((record.ended_at - record.started_at).total_seconds() * 1000)
        if record.ended_at
        else None
    )
    return {
        "execution_id": execution.id,
        "tenant_id": execution.tenant_id,
        "seq": record.seq,
        "node_id": record.node_id,
        "node_type": record.node_type,
        "status": str(record.status),
        "port": record.port,
        "attempt": attempt,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_ms": duration,
        "result": record.result,
        "error": record.error,
        "skip_reason": record.skip_reason,
    }


def _step_event(record: StepRecord) -> dict[str, Any]:
    data: dict[str, Any] = {"seq": record.seq, "type": record.node_type, "status": record.status}
    if record.port:
        data["port"] = record.port
    if record.error:
        data["error"] = record.error
    if record.skip_reason:
        data["skip_reason"] = record.skip_reason
    return data


class _Steps:
    """The step rows a batch touches: what is stored, read in one statement; what to insert
    and update, written in one statement each, after every write of the batch is applied.

    Keyed by (execution id, seq). A seq written twice in one batch is stored once, with its
    last values; its events are those of each real change of status, in order.
    """

    def __init__(self, known: dict[tuple[str, int], tuple[str, int]]) -> None:
        self._known = known
        self._stored = set(known)
        self._final: dict[tuple[str, int], dict[str, Any]] = {}

    @classmethod
    def read(cls, conn: Connection, keys: set[tuple[str, int]]) -> _Steps:
        if not keys:
            return cls({})
        ids, seqs = sorted({k[0] for k in keys}), sorted({k[1] for k in keys})
        known = {
            (row.execution_id, row.seq): (row.status, row.attempt)
            for row in conn.execute(_READ_STEPS, {"ids": ids, "seqs": seqs})
            if (row.execution_id, row.seq) in keys
        }
        return cls(known)

    def apply(self, execution: _Execution, records: Sequence[StepRecord], at: datetime) -> None:
        """Insert new steps, update known ones; one event per real change of status."""
        for record in records:
            key = (execution.id, record.seq)
            previous, attempt = self._known.get(key, (None, 0))
            if previous in _FINISHED and record.status in ("running", "waiting"):
                continue  # a late "started" record must not reopen a finished step
            values = _step_values(execution, record, max(attempt, record.attempt))
            event_type = STEP_EVENTS[record.status]
            if STEP_EVENTS.get(previous or "") != event_type:
                execution.event(event_type, record.node_id, _step_event(record), at)
            self._final[key] = values
            self._known[key] = (str(record.status), values["attempt"])

    def write(self, conn: Connection) -> None:
        inserts = [v for key, v in self._final.items() if key not in self._stored]
        if inserts:
            conn.execute(_INSERT_STEPS, inserts)
        updates = [
            {
                **{k: v for k, v in values.items() if k not in ("execution_id", "seq")},
                "b_execution_id": values["execution_id"],
                "b_seq": values["seq"],
            }
            for key, values in self._final.items()
            if key in self._stored
        ]
        if updates:
            conn.execute(_UPDATE_STEPS, updates)


def _apply_status(execution: _Execution, record: RecordInput) -> None:
    status, reason = record.status, record.reason
    if status is None or execution.status in TERMINAL_STATUSES:
        return  # terminal statuses are final: a late write cannot revive an execution
    previous = execution.status
    execution.set(status=str(status))
    if status in TERMINAL_STATUSES:
        execution.set(ended_at=record.at, reason=reason)
        data = {"reason": reason} if reason else {}
        execution.event(EXECUTION_EVENTS[status], None, data, record.at)
    elif previous != status and reason:
        execution.set(reason=reason)


# The statements, built once: SQLAlchemy then finds each one's compiled form by a cache key
# it remembers on the object, instead of building and keying a new statement every batch.
_LOAD_EXECUTIONS = (
    sa.select(
        *[_executions.c[name] for name in _Execution.__dataclass_fields__ if name in _executions.c]
    )
    .where(_executions.c.id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_executions.c.id)
    .with_for_update()
)
_UPDATE_EXECUTIONS = sa.update(_executions).where(_executions.c.id == sa.bindparam("b_id"))
_INSERT_EVENTS = sa.insert(_events)
_READ_STEPS = sa.select(
    _steps.c.execution_id, _steps.c.seq, _steps.c.status, _steps.c.attempt
).where(
    _steps.c.execution_id.in_(sa.bindparam("ids", expanding=True)),
    _steps.c.seq.in_(sa.bindparam("seqs", expanding=True)),
)
_INSERT_STEPS = sa.insert(_steps)
_UPDATE_STEPS = sa.update(_steps).where(
    _steps.c.execution_id == sa.bindparam("b_execution_id"),
    _steps.c.seq == sa.bindparam("b_seq"),
)


def _load(conn: Connection, ids: Sequence[str]) -> dict[str, _Execution]:
    """The executions, locked until the transaction ends.

    Two writers may bring the same progress at once (the API after a call turn, the
    workflow's activity when it ends): on PostgreSQL the second waits here, then reads the
    steps and status the first stored instead of inserting them again. Rows are locked in id
    order, so two batches never wait on each other crosswise. (SQLite has one writer at a
    time already, and no FOR UPDATE.)
    """
    rows = conn.execute(_LOAD_EXECUTIONS, {"ids": list(ids)})
    return {row.id: _Execution(**row._asdict()) for row in rows}


def _apply_one(steps: _Steps, execution: _Execution, record: RecordInput) -> None:
    if execution.started_at is None and (record.records or record.status in _ACTIVE):
        # The first progress: `flow.started` comes before any step event.
        first = record.records[0].started_at if record.records else record.at
        execution.started_at = first
        # Its workflow is running: the start is no longer in doubt (see Execution.launch).
        execution.set(started_at=first, launch=None)
        if execution.status == ExecutionStatus.pending:
            execution.set(status=ExecutionStatus.running.value)
        execution.event("flow.started", None, {"version": execution.version}, first)
    if record.records:
        steps.apply(execution, record.records, record.at)
    _apply_status(execution, record)
    if record.context is not None:
        execution.set(context=record.context)
    if record.records:
        execution.set(current_node=record.records[-1].node_id)
    execution.set(updated_at=record.at)


def _write(conn: Connection, executions: Sequence[_Execution]) -> None:
    events = [e for execution in executions for e in execution.events]
    if events:
        conn.execute(_INSERT_EVENTS, events)
    # One statement for each set of changed columns (most executions of a batch change the
    # same ones: a step's progress), its rows sent together.
    changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for execution in executions:
        if execution.changes:
            rows = changed.setdefault(tuple(sorted(execution.changes)), [])
            rows.append({**execution.changes, "b_id": execution.id})
        execution.changes, execution.events = {}, []
    for rows in changed.values():
        conn.execute(_UPDATE_EXECUTIONS, rows)


class Write(NamedTuple):
    """One execution's progress, and the messages its step sent, to store together."""

    record: RecordInput
    outbox: tuple[OutboxMessage, ...] = ()


def apply_batch(engine: Engine, writes: Sequence[Write]) -> list[LookupError | None]:
    """Apply many executions' progress in one transaction, in order.

    Returns, per write, None or the LookupError of an execution that does not exist (or
    belongs to another tenant); those writes are skipped, the others are stored.
    """
    outcome: list[LookupError | None] = []
    with writing(engine) as conn:
        executions = _load(conn, sorted({w.record.execution_id for w in writes}))
        steps = _Steps.read(
            conn,
            {
                (w.record.execution_id, r.seq)
                for w in writes
                if w.record.execution_id in executions
                for r in w.record.records
            },
        )
        touched: dict[str, _Execution] = {}
        for write in writes:
            record = write.record
            execution = executions.get(record.execution_id)
            if execution is None or execution.tenant_id != record.tenant_id:
                outcome.append(LookupError(f"execution {record.execution_id} not found"))
                continue
            for message in write.outbox:
                insert_once(conn, message)
            _apply_one(steps, execution, record)
            touched[execution.id] = execution
            outcome.append(None)
        steps.write(conn)
        _write(conn, list(touched.values()))
    return outcome


def stored_outcome(
    engine: Engine, *, execution_id: str, tenant_id: str, seq: int, node_id: str
) -> ActionOutput | None:
    """What step `seq`'s activity returned, as stored when it succeeded or started a call or
    a question (waiting), else None (not yet recorded, or only its start or a failed attempt
    was)."""
    query = sa.select(_steps.c.status, _steps.c.port, _steps.c.result).where(
        _steps.c.execution_id == execution_id,
        _steps.c.tenant_id == tenant_id,
        _steps.c.seq == seq,
        _steps.c.node_id == node_id,
        _steps.c.status.in_(("success", "waiting")),
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return ActionOutput(
        port=row.port or "", result=row.result or {}, waiting=row.status == "waiting"
    )


def apply_records(engine: Engine, record: RecordInput) -> None:
    """Store step records and an optional status change of one execution in one transaction."""
    [error] = apply_batch(engine, [Write(record)])
    if error is not None:
        raise error
