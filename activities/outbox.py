"""The outbox: what sandbox providers "sent", and the idempotency record of real sends.

A message is keyed by the step's idempotency key (execution and seq), so a retried step
finds its earlier send instead of messaging the contact twice.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy.engine import Engine

from activities.step import StepContext
from store.models import OutboxMessage
from store.outbox import find_message, insert_message_once

_OUTBOX_IDS = uuid.UUID("3b0f6a52-8f0e-4d8e-9a57-1c2e5d7b9f10")


def _find_sent(engine: Engine, key: str) -> OutboxMessage | None:
    message = find_message(engine, key)
    return message if message is not None and message.status == "sent" else None


async def find_sent(ctx: StepContext) -> OutboxMessage | None:
    """This step's message if an earlier attempt already sent it."""
    return await asyncio.to_thread(_find_sent, ctx.engine, ctx.data.idempotency_key)


async def record_message(
    ctx: StepContext,
    *,
    channel: str,
    provider: str,
    to: str,
    content: dict[str, Any],
    subject: str | None = None,
    provider_id: str | None = None,
) -> OutboxMessage:
    """Store this step's message once; a retry gets back the row of the first attempt.

    A sandbox message is the whole send: it is not written here but with the step's own
    record, in the same transaction (`StepContext.deferred`), under an id derived from the
    idempotency key, so a retry after a lost completion finds the same row and id.
    """
    message = OutboxMessage(
        id=uuid.uuid5(_OUTBOX_IDS, ctx.data.idempotency_key).hex,
        tenant_id=ctx.data.tenant_id,
        execution_id=ctx.data.execution_id,
        node_id=ctx.data.node_id,
        channel=channel,
        provider=provider,
        to=to,
        subject=subject,
        content=content,
        status="sent",
        provider_id=provider_id,
        idempotency_key=ctx.data.idempotency_key,
    )
    if provider == "sandbox":
        ctx.deferred.append(message)
        return message
    return await asyncio.to_thread(insert_message_once, ctx.engine, message)
