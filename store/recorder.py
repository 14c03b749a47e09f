"""Group commit of timeline records: concurrent activities share one transaction.

Each activity awaits its own record's commit, so nothing is acknowledged before it is
durable; while one batch is being written, the next one gathers. Under load this turns
hundreds of small transactions a second into a few larger ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from schemas.execution import RecordInput
from store.db import is_unreachable
from store.models import OutboxMessage
from store.timeline import Write, apply_batch

MAX_BATCH = 256
UNREACHABLE_RETRY_S = 20.0
"""Under a step attempt's default timeout (30 s), so the attempt still ends on its own."""

log = structlog.get_logger(__name__)


class Recorder:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: list[tuple[Write, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def apply(self, record: RecordInput, outbox: Sequence[OutboxMessage] = ()) -> None:
        """Write `record` (and messages, once each); LookupError if its execution is missing."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((Write(record, tuple(outbox)), future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                errors = await self._write([w for w, _ in batch])
            except BaseException as exc:  # every waiter must hear of it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            for (_, future), error in zip(batch, errors, strict=True):
                if future.done():
                    continue
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)

    async def _write(self, writes: list[Write]) -> list[LookupError | None]:
        """One batch, written again while the database is out of reach (a restart, a
        failover) for up to `UNREACHABLE_RETRY_S`: a step that did its work is not failed,
        and done again, for want of its bookkeeping."""
        deadline = asyncio.get_running_loop().time() + UNREACHABLE_RETRY_S
        delay = 0.1
        while True:
            try:
                return await asyncio.to_thread(apply_batch, self._engine, writes)
            except SQLAlchemyError as exc:
                if not is_unreachable(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
                log.warning("recorder.database_unreachable", error=str(exc).splitlines()[0])
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
