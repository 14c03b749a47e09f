"""Shared parts of the benchmarks: servers, a migrated database, a tenant, figures."""

from __future__ import annotations

import shutil
import socket
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from schemas import search_attributes
from store.db import create_db_engine, session_scope
from store.keys import create_tenant
from store.migrate import upgrade


def free_port() -> int:
    """A loopback port nothing listens on now (for the API the bench serves)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    return found


@asynccontextmanager
async def temporal_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_binary(),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        search_attributes=search_attributes.KEYS,  # as `flowdeck dev` registers them
    )
    try:
        yield env
    finally:
        await env.shutdown()


@dataclass
class Database:
    engine: Engine
    tenant_id: str
    directory: Path


@contextmanager
def postgres() -> Iterator[str]:
    """A real PostgreSQL 16 (the `pgserver` package) in a temporary directory; its URL."""
    import pgserver

    directory = tempfile.mkdtemp(prefix="flowdeck-bench-pg-")
    server = pgserver.get_server(directory, cleanup_mode="stop")  # type: ignore[attr-defined]
    try:
        server.psql("CREATE DATABASE bench;")
        yield server.get_uri("bench").replace("postgresql://", "postgresql+psycopg://", 1)
    finally:
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def database(url: str | None = None) -> Database:
    directory = Path(tempfile.mkdtemp(prefix="flowdeck-bench-"))
    url = url or f"sqlite:///{directory / 'bench.db'}"
    upgrade(url)
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        tenant_id = create_tenant(session, name="bench").id
    return Database(engine=engine, tenant_id=tenant_id, directory=directory)


def figures(name: str, latencies_s: list[float], wall_s: float) -> dict[str, Any]:
    ordered = sorted(latencies_s)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "name": name,
        "count": len(ordered),
        "per_s": len(ordered) / wall_s,
        "median_ms": statistics.median(ordered) * 1000,
        "p99_ms": p99 * 1000,
    }


def combine(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures of several rounds of one phase: runs added up, medians of the rest."""
    return {
        "name": name,
        "count": sum(r["count"] for r in rows),
        "per_s": statistics.median(r["per_s"] for r in rows),
        "median_ms": statistics.median(r["median_ms"] for r in rows),
        "p99_ms": max(r["p99_ms"] for r in rows),
    }


def show(row: dict[str, Any]) -> None:
    sys.stdout.write(
        f"{row['name']:<34} {row['count']:>5} runs  {row['per_s']:7.1f}/s  "
        f"median {row['median_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms\n"
    )
