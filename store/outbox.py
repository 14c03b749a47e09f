"""The outbox: what the sandbox providers recorded instead of sending, and the idempotency
record of real sends (one row per step idempotency key)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, and_, col, or_, select

from store.db import session_scope
from store.executions import MAX_PAGE, decode_cursor, encode_cursor
from store.models import OutboxMessage


def list_outbox(
    session: Session,
    *,
    tenant_id: str,
    execution_id: str | None = None,
    channel: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[OutboxMessage], str | None]:
    """One page of recorded messages, newest first, and the next page's cursor."""
    limit = max(1, min(limit, MAX_PAGE))
    query = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id)
    if execution_id is not None:
        query = query.where(OutboxMessage.execution_id == execution_id)
    if channel is not None:
        query = query.where(OutboxMessage.channel == channel)
    if cursor:
        created_at, row_id = decode_cursor(cursor)
        query = query.where(
            or_(
                col(OutboxMessage.created_at) < created_at,
                and_(col(OutboxMessage.created_at) == created_at, col(OutboxMessage.id) < row_id),
            )
        )
    query = query.order_by(col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
    rows = list(session.exec(query.limit(limit + 1)).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].created_at, rows[-1].id)


_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]


def find_message(engine: Engine, key: str) -> OutboxMessage | None:
    """The message stored under an idempotency key, if any."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(_outbox).where(_outbox.c.idempotency_key == key)).first()
    return OutboxMessage.model_construct(**row._asdict()) if row is not None else None


def insert_once(conn: Connection, message: OutboxMessage) -> OutboxMessage:
    """Insert the message unless its key is stored already; returns the stored row.

    One statement that cannot race (`ON CONFLICT DO NOTHING`), on SQLite and PostgreSQL: a
    retried or concurrent attempt of the same step gets back the first attempt's row.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(_outbox)
        .values(**message.model_dump())
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    row = conn.execute(
        sa.select(_outbox).where(_outbox.c.idempotency_key == message.idempotency_key)
    ).one()
    return OutboxMessage.model_construct(**row._asdict())


def insert_message_once(engine: Engine, message: OutboxMessage) -> OutboxMessage:
    """`insert_once` in a transaction of its own."""
    with session_scope(engine) as session:
        return insert_once(session.connection(), message)
