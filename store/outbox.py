"""Reading the outbox: what the sandbox providers recorded instead of sending."""

from __future__ import annotations

from sqlmodel import Session, and_, col, or_, select

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
