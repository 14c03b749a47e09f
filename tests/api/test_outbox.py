"""The outbox lists what the sandbox providers recorded, per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import OutboxMessage, new_id
from tests.api.helpers import TenantKeys

BASE = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _record(engine: Engine, tenant_id: str, channel: str, execution_id: str, minute: int) -> str:
    with session_scope(engine) as session:
        message = OutboxMessage(
            tenant_id=tenant_id,
            execution_id=execution_id,
            node_id="notify",
            channel=channel,
            to="+919800000001" if channel != "email" else "asha@example.com",
            subject="Hello" if channel == "email" else None,
            content={"body": f"message {minute}"},
            idempotency_key=new_id(),
            created_at=BASE + timedelta(minutes=minute),
        )
        session.add(message)
        return message.id


async def test_the_outbox_filters_and_pages_newest_first(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    sms = _record(engine, tenant.id, "sms", "e1", 0)
    mail = _record(engine, tenant.id, "email", "e1", 1)
    other = _record(engine, tenant.id, "whatsapp", "e2", 2)
    _record(engine, other_tenant.id, "sms", "e1", 3)

    everything = await api.get("/api/outbox", headers=tenant.auth("viewer"))
    assert [m["id"] for m in everything.json()["items"]] == [other, mail, sms]
    first = everything.json()["items"][1]
    assert first["channel"] == "email" and first["to"] == "asha@example.com"
    assert first["subject"] == "Hello" and first["content"] == {"body": "message 1"}
    assert first["execution_id"] == "e1" and first["node_id"] == "notify"

    by_execution = await api.get("/api/outbox?execution_id=e1", headers=tenant.auth("viewer"))
    assert [m["id"] for m in by_execution.json()["items"]] == [mail, sms]
    by_channel = await api.get("/api/outbox?channel=sms", headers=tenant.auth("viewer"))
    assert [m["id"] for m in by_channel.json()["items"]] == [sms]

    page = await api.get("/api/outbox?limit=2", headers=tenant.auth("viewer"))
    rest = await api.get(
        f"/api/outbox?limit=2&cursor={page.json()['next_cursor']}", headers=tenant.auth("viewer")
    )
    assert [m["id"] for m in rest.json()["items"]] == [sms]
    assert rest.json()["next_cursor"] is None
