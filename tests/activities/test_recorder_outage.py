"""The timeline's writer rides out a database that drops out for a moment: PostgreSQL behind a
TCP proxy that refuses and cuts every connection, then lets them through again."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from schemas.execution import RecordInput, StepRecord, StepStatus
from store.models import ExecutionStep
from store.recorder import Recorder
from tests.activities.conftest import Seed
from tests.outage import Outage, database_outage


@pytest.fixture
async def through_outage(engine: Engine, tmp_path: Path) -> AsyncIterator[tuple[Engine, Outage]]:
    async with database_outage(engine, tmp_path) as proxied:
        yield proxied


def _progress(seed: Seed, seq: int) -> RecordInput:
    now = datetime.now(UTC)
    step = StepRecord(
        seq=seq, node_id=f"step{seq}", node_type="set", status=StepStatus.success, started_at=now
    )
    return RecordInput(
        execution_id=seed.execution_id,
        tenant_id=seed.tenant_id,
        flow_id=seed.flow_id,
        records=[step],
        at=now,
    )


def _stored(engine: Engine, seed: Seed) -> list[str]:
    with Session(engine) as session:
        query = select(ExecutionStep).where(ExecutionStep.execution_id == seed.execution_id)
        return [s.node_id for s in session.exec(query).all()]


async def test_progress_written_while_the_database_is_away_is_stored_once_it_is_back(
    seed: Seed, through_outage: tuple[Engine, Outage]
) -> None:
    proxied, outage = through_outage
    recorder = Recorder(proxied)
    await recorder.apply(_progress(seed, 1))  # a pooled connection, then the outage cuts it

    outage.go_down()
    writing = asyncio.create_task(recorder.apply(_progress(seed, 2)))
    await asyncio.sleep(1.5)
    assert not writing.done()  # waiting for the database, not failed
    outage.up = True
    await asyncio.wait_for(writing, 20)
    assert sorted(_stored(seed.engine, seed)) == ["step1", "step2"]


async def test_a_write_the_database_refuses_is_not_retried(
    seed: Seed, through_outage: tuple[Engine, Outage]
) -> None:
    proxied, _ = through_outage
    recorder = Recorder(proxied)
    missing = _progress(seed, 1).model_copy(update={"execution_id": "no-such-execution"})
    with pytest.raises(LookupError):
        await asyncio.wait_for(recorder.apply(missing), 5)
