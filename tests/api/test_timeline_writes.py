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
from store.timeline import apply_records
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
