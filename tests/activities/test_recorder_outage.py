"""The timeline's writer rides out a database that drops out for a moment: PostgreSQL behind a
TCP proxy that refuses and cuts every connection, then lets them through again."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.recorder import Recorder
from schemas.execution import RecordInput, StepRecord, StepStatus
from store.db import create_db_engine
from store.models import ExecutionStep
from tests.activities.conftest import Seed


class Outage:
    """A proxy in front of the database's socket that can go down: it then refuses new
    connections and cuts the ones it carries, as a server restart does."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.up = True
        self.links: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self, path: str) -> None:
        self.server = await asyncio.start_unix_server(self._serve, path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        upstream_reader, upstream_writer = await asyncio.open_unix_connection(self.target)
        self.links |= {writer, upstream_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    def go_down(self) -> None:
        self.up = False
        for link in self.links:
            link.close()
        self.links.clear()

    async def close(self) -> None:
        self.go_down()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def through_outage(engine: Engine, tmp_path: Path) -> AsyncIterator[tuple[Engine, Outage]]:
    """An engine on the test database that reaches it through an `Outage` proxy."""
    if engine.dialect.name != "postgresql":
        pytest.skip("an outage of a database server (SQLite has none)")
    url = engine.url
    directory = str(url.query["host"])  # pgserver listens on a Unix socket in this folder
    socket_name = f".s.PGSQL.{url.port or 5432}"
    outage = Outage(f"{directory}/{socket_name}")
    await outage.start(str(tmp_path / socket_name))
    proxied = create_db_engine(
        url.update_query_dict({"host": str(tmp_path)}).render_as_string(hide_password=False)
    )
    yield proxied, outage
    proxied.dispose()
    await outage.close()


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
