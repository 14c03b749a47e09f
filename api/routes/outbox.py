"""The outbox: what the sandbox providers recorded instead of sending."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.bodies.outbox import OutboxItem, OutboxPage
from api.deps import SessionDep, ViewerKey
from api.errors import KEYED
from store.executions import MAX_PAGE
from store.outbox import list_outbox

router = APIRouter(prefix="/outbox", tags=["outbox"], responses=KEYED)


@router.get("")
def read_outbox(
    session: SessionDep,
    key: ViewerKey,
    execution_id: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> OutboxPage:
    """Newest first, filtered by execution and channel (sms, whatsapp, email, voice …)."""
    rows, next_cursor = list_outbox(
        session,
        tenant_id=key.tenant_id,
        execution_id=execution_id,
        channel=channel,
        limit=limit,
        cursor=cursor,
    )
    return OutboxPage(items=[OutboxItem.model_validate(r) for r in rows], next_cursor=next_cursor)
