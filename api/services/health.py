"""Readiness: is the database reachable, is Temporal? Both asked at once, each with a timeout.

The database is asked from threads of its own: a check queued behind busy request threads
would time out while the database answers, and call a loaded process down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import structlog
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError

from api.errors import ServiceUnavailableError

log = structlog.get_logger(__name__)

_CHECK_THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="flowdeck-health")
"""Two, so one check stuck on a dead connection does not hold up the next probe's."""


@dataclass(frozen=True)
class Readiness:
    database: bool
    temporal: bool

    @property
    def ready(self) -> bool:
        return self.database and self.temporal


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


async def database_ok(engine: Engine, *, timeout_s: float) -> bool:
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout_s):
            await loop.run_in_executor(_CHECK_THREADS, _select_one, engine)
    except TimeoutError:
        log.warning("database check timed out", timeout_s=timeout_s)
        return False
    except sa.exc.SQLAlchemyError as exc:
        log.warning("database unreachable", error=str(exc))
        return False
    return True


async def temporal_ok(connect: Callable[[], Awaitable[Client]], *, timeout_s: float) -> bool:
    """Connected (at first use) and its frontend's health check answered, within the time."""
    try:
        async with asyncio.timeout(timeout_s):
            client = await connect()
            return await client.service_client.check_health(timeout=timedelta(seconds=timeout_s))
    except ServiceUnavailableError:
        return False
    except TimeoutError:
        log.warning("temporal check timed out", timeout_s=timeout_s)
        return False
    except (RPCError, RuntimeError) as exc:  # an unreachable server, either way
        log.warning("temporal unhealthy", error=str(exc))
        return False


async def readiness(
    engine: Engine, connect: Callable[[], Awaitable[Client]], *, timeout_s: float
) -> Readiness:
    database, temporal = await asyncio.gather(
        database_ok(engine, timeout_s=timeout_s), temporal_ok(connect, timeout_s=timeout_s)
    )
    return Readiness(database=database, temporal=temporal)
