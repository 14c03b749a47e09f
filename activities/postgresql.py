"""The `postgresql` step: one parameterised statement on a tenant's own PostgreSQL database.

The connection's secret is the database URL. The statement's values are bound as parameters
(`:name` in `sql`, from `params`), never written into its text, and the flow document refuses
a template in `sql`. The database's host passes the address guard of HTTP steps (a private or
loopback address needs `FLOWDECK_HTTP_ALLOWLIST`; a Unix socket counts as loopback), and the
connection is made to the checked address (`hostaddr`). Each statement runs in its own
transaction with `statement_timeout` set, and at most `max_rows` rows come back, as JSON.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    InterfaceError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.pool import NullPool

from activities.net import allowed_host_addresses
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import Vendor, open_vendor
from schemas.addresses import refused_addresses
from schemas.execution import ActionOutput
from schemas.flow import QUERY_CONNECT_S, PostgresqlConfig

OPERATION = "query"
RETRYABLE_CLASSES = ("08", "40", "53", "57P")
"""SQLSTATE classes a later try may not meet: connection exceptions, serialization failures
and deadlocks, insufficient resources, a server shutting down."""
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass(frozen=True)
class Target:
    url: URL
    hostaddr: str | None


async def _target(vendor: Vendor) -> Target:
    """The database URL, for psycopg, with its host checked by the address guard."""
    try:
        url = make_url(vendor.secret["url"])
    except ArgumentError:
        raise vendor.failure(
            OPERATION, "the connection's database URL cannot be read", retryable=False
        ) from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise vendor.failure(
            OPERATION, "the connection's database URL is not a PostgreSQL one", retryable=False
        )
    url = url.set(drivername="postgresql+psycopg")
    socket_dir = url.query.get("host")
    if url.host is None and isinstance(socket_dir, str) and socket_dir.startswith("/"):
        # A Unix socket is this machine: allowed only where loopback is.
        if refused_addresses("localhost", [LOOPBACK], vendor.ctx.settings):
            raise vendor.failure(
                OPERATION,
                "the database is reached by a Unix socket on the worker's machine; add "
                "localhost to FLOWDECK_HTTP_ALLOWLIST to allow it",
                retryable=False,
                type="AddressNotAllowed",
            )
        return Target(url=url, hostaddr=None)
    if not url.host:
        raise vendor.failure(OPERATION, "the database URL names no host", retryable=False)
    addresses = await allowed_host_addresses(url.host, url.port or 5432, vendor.ctx.settings)
    return Target(url=url, hostaddr=str(addresses[0]))


def _parameter(value: Any) -> Any:
    return Jsonb(value) if isinstance(value, dict) else value


def _json_value(value: Any) -> Any:
    """A column's value as JSON can carry it."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def run_statement(target: Target, config: PostgresqlConfig) -> dict[str, Any]:
    """Run the step's statement in one transaction (in a worker thread: it blocks)."""
    connect_args: dict[str, Any] = {"connect_timeout": QUERY_CONNECT_S}
    if target.hostaddr:
        connect_args["hostaddr"] = target.hostaddr
    engine = sa.create_engine(target.url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as connection:
            timeout_ms = str(max(int(config.timeout_s * 1000), 1))
            connection.execute(
                sa.text("SELECT set_config('statement_timeout', :ms, true)"), {"ms": timeout_ms}
            )
            params = {name: _parameter(value) for name, value in config.params.items()}
            result = connection.execute(sa.text(config.sql), params)
            if result.returns_rows:
                columns = list(result.keys())
                fetched = result.fetchmany(config.max_rows + 1)
                rows = [
                    {column: _json_value(value) for column, value in zip(columns, row, strict=True)}
                    for row in fetched[: config.max_rows]
                ]
                outcome = {
                    "rows": rows,
                    "row_count": len(rows),
                    "columns": columns,
                    "truncated": len(fetched) > config.max_rows,
                }
            else:
                outcome = {
                    "rows": [],
                    "row_count": result.rowcount,
                    "columns": [],
                    "truncated": False,
                }
            connection.commit()
            return outcome
    finally:
        engine.dispose()


def _failure(vendor: Vendor, exc: SQLAlchemyError) -> Exception:
    if isinstance(exc, DBAPIError):
        sqlstate = getattr(exc.orig, "sqlstate", None)
        diag = getattr(exc.orig, "diag", None)
        primary = getattr(diag, "message_primary", None) or str(exc.orig).strip()
        if sqlstate:
            return vendor.failure(
                OPERATION,
                f"PostgreSQL refused the query: {sqlstate}: {primary}",
                retryable=sqlstate.startswith(RETRYABLE_CLASSES),
                code=sqlstate,
            )
        if isinstance(exc, OperationalError | InterfaceError):
            # No SQLSTATE: the server was not reached, or the connection broke.
            return vendor.failure(
                OPERATION, f"cannot reach the PostgreSQL database: {primary}", retryable=True
            )
        # A value psycopg cannot send, a driver's refusal: a retry sends the same.
        return vendor.failure(OPERATION, f"PostgreSQL: {primary}", retryable=False)
    if isinstance(exc, StatementError):
        # a `:name` that `params` does not give, or a value that cannot be sent
        message = str(exc.orig) if exc.orig is not None else str(exc).split("\n", 1)[0]
        return step_error(
            vendor.scrub(f"invalid postgresql config: {message}"),
            type=INVALID_CONFIG,
            retryable=False,
        )
    return vendor.failure(OPERATION, f"PostgreSQL: {type(exc).__name__}: {exc}", retryable=False)


@handles("postgresql")
async def perform_postgresql(ctx: StepContext) -> ActionOutput:
    config = parse_config(PostgresqlConfig, ctx)
    vendor = await open_vendor(
        ctx, connection=config.connection, integration="postgresql", label="PostgreSQL"
    )
    target = await _target(vendor)
    await vendor.pace()
    ctx.log.info(
        "vendor.call",
        integration="postgresql",
        connection=config.connection,
        operation=OPERATION,
        param_names=sorted(config.params),
    )
    try:
        outcome = await asyncio.to_thread(run_statement, target, config)
    except SQLAlchemyError as exc:
        raise _failure(vendor, exc) from None
    return ActionOutput(port="success", result=vendor.scrub(outcome))
