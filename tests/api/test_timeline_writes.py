"""Progress written twice at once lands once.

A call's steps are written by the API right after Twilio has its answer, and again by the
workflow's activity when the execution ends; a retried activity writes what it wrote before.
Two such writers may meet on the same execution at the same moment: on PostgreSQL they run
in parallel transactions, and the second must see the first's rows, not insert them again.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import col, func, select

from schemas.execution import ExecutionStatus, RecordInput, StepRecord, StepStatus
from store.db import session_scope
from store.models import Event, Execution, ExecutionStep
from store.timeline import Write, apply_batch, apply_records
from tests.api.helpers import TenantKeys, insert_execution, make_flow

BASE = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
ROUNDS = 12


def _progress(execution_id: str, tenant_id: str, flow_id: str) -> RecordInput:
    records = [
        StepRecord(
            seq=seq,
            node_id=node,
            node_type=kind,
            status=StepStatus.success,
            started_at=BASE + timedelta(seconds=seq),
            ended_at=BASE + timedelta(seconds=seq),
            port="next",
        )
        for seq, node, kind in ((1, "greet", "say"), (2, "menu", "gather"), (3, "bye", "hangup"))
    ]
    return RecordInput(
        execution_id=execution_id,
        tenant_id=tenant_id,
        flow_id=flow_id,
        records=records,
        status=ExecutionStatus.completed,
        reason="hangup",
        at=BASE + timedelta(seconds=4),
    )


def _write_twice_at_once(engine: Engine, progress: RecordInput) -> list[BaseException]:
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def write() -> None:
        start.wait()
        try:
            apply_records(engine, progress)
        except Exception as exc:  # the assertion below names it
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    return errors


async def test_the_same_steps_written_at_once_are_stored_once(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    ids = [insert_execution(engine, tenant.id, flow["id"]) for _ in range(ROUNDS)]

    for execution_id in ids:
        progress = _progress(execution_id, tenant.id, flow["id"])
        errors = await asyncio.to_thread(_write_twice_at_once, engine, progress)
        assert errors == []

    with session_scope(engine) as session:
        steps = session.exec(
            select(ExecutionStep.execution_id, func.count())
            .where(col(ExecutionStep.execution_id).in_(ids))
            .group_by(col(ExecutionStep.execution_id))
        ).all()
        events = session.exec(
            select(Event.type, func.count())
            .where(col(Event.execution_id).in_(ids))
            .group_by(col(Event.type))
        ).all()
        statuses = session.exec(select(Execution.status).where(col(Execution.id).in_(ids))).all()
    assert sorted(steps) == sorted((execution_id, 3) for execution_id in ids)
    assert dict(events) == {
        "flow.started": ROUNDS,
        "flow.step.completed": 3 * ROUNDS,
        "flow.completed": ROUNDS,
    }
    assert set(statuses) == {"completed"}


def _step(seq: int, node: str, status: StepStatus, **fields: object) -> StepRecord:
    at = BASE + timedelta(seconds=seq)
    ended = at if status in (StepStatus.success, StepStatus.failed) else None
    return StepRecord(
        seq=seq,
        node_id=node,
        node_type="http",
        status=status,
        started_at=at,
        ended_at=ended,
        **fields,  # type: ignore[arg-type]
    )


async def test_a_batch_of_many_executions_is_stored_as_each_write_alone_would_be(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    """One transaction for many executions' progress (the recorder's group commit): steps
    new and stored, a step written twice in the batch, different status changes, and a write
    for an execution that does not exist, which alone is refused."""
    flow = await make_flow(api, tenant)
    first, second, third = (insert_execution(engine, tenant.id, flow["id"]) for _ in range(3))

    def write(execution_id: str, *records: StepRecord, **fields: object) -> Write:
        record = RecordInput(
            execution_id=execution_id,
            tenant_id=tenant.id,
            flow_id=flow["id"],
            records=list(records),
            at=BASE + timedelta(seconds=10),
            **fields,  # type: ignore[arg-type]
        )
        return Write(record)

    # Stored before: `second`'s first step, running (a slow step's start).
    assert apply_batch(engine, [write(second, _step(1, "post", StepStatus.running))]) == [None]

    outcome = apply_batch(
        engine,
        [
            write(first, _step(1, "post", StepStatus.running)),
            write("0" * 32, _step(1, "post", StepStatus.success, port="success")),
            write(second, _step(1, "post", StepStatus.success, port="success", result={"n": 2})),
            write(first, _step(1, "post", StepStatus.success, port="success", result={"n": 1})),
            write(first, _step(2, "done", StepStatus.success), status=ExecutionStatus.completed),
            write(third, _step(1, "post", StepStatus.running, error="503", attempt=1)),
            write(second, status=ExecutionStatus.waiting),
        ],
    )

    assert [type(error).__name__ if error else None for error in outcome] == [
        None,
        "LookupError",
        None,
        None,
        None,
        None,
        None,
    ]
    with session_scope(engine) as session:
        rows = session.exec(
            select(ExecutionStep).where(col(ExecutionStep.execution_id).in_([first, second, third]))
        ).all()
        steps = {(s.execution_id, s.seq): (s.status, s.port, s.result, s.error) for s in rows}
        executions = {
            e.id: e.status
            for e in session.exec(
                select(Execution).where(col(Execution.id).in_([first, second, third]))
            ).all()
        }
        events = session.exec(
            select(Event.execution_id, Event.type)
            .where(col(Event.execution_id).in_([first, second, third]))
            .order_by(col(Event.id))
        ).all()
    assert steps == {
        (first, 1): ("success", "success", {"n": 1}, None),
        (first, 2): ("success", None, None, None),
        (second, 1): ("success", "success", {"n": 2}, None),
        (third, 1): ("running", None, None, "503"),
    }
    assert executions == {first: "completed", second: "waiting", third: "running"}
    by_execution: dict[str, list[str]] = {}
    for execution_id, type_ in events:
        by_execution.setdefault(execution_id, []).append(type_)
    assert by_execution == {
        first: [
            "flow.started",
            "flow.step.started",
            "flow.step.completed",
            "flow.step.completed",
            "flow.completed",
        ],
        second: ["flow.started", "flow.step.started", "flow.step.completed"],
        third: ["flow.started", "flow.step.started"],
    }
