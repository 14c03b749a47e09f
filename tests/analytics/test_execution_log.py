"""The execution log for lead engagement: by contact, test runs apart, skips with reasons."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Contact
from tests.api.helpers import TenantKeys, insert_execution, make_flow

BASE = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)


def _contact(engine: Engine, tenant_id: str, name: str, phone: str) -> str:
    with session_scope(engine) as session:
        contact = Contact(tenant_id=tenant_id, name=name, phone=phone)
        session.add(contact)
        session.flush()
        return contact.id


async def test_the_log_filters_by_contact_test_flag_and_search_and_exports_it(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant)
    asha = _contact(engine, tenant.id, "Asha Rao", "+919800000001")
    ravi = _contact(engine, tenant.id, "Ravi Kumar", "+919800000002")
    skipped = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        status="skipped",
        reason="contact is tagged DNC",
        contact_id=asha,
        contact_name="Asha Rao",
        contact_phone="+919800000001",
        created_at=BASE,
    )
    trial = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        status="completed",
        test=True,
        contact_id=ravi,
        contact_name="Ravi Kumar",
        contact_phone="+919800000002",
        created_at=BASE + timedelta(minutes=1),
    )

    async def listed(**params: Any) -> list[dict[str, Any]]:
        response = await api.get("/api/executions", params=params, headers=tenant.auth("viewer"))
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    by_contact = await listed(contact_id=asha)
    assert [(e["id"], e["status"], e["reason"]) for e in by_contact] == [
        (skipped, "skipped", "contact is tagged DNC")
    ]
    assert [e["id"] for e in await listed(contact_id=ravi, test="true")] == [trial]
    assert await listed(contact_id=ravi, test="false") == []
    assert [e["id"] for e in await listed(q="kumar")] == [trial]
    assert [e["id"] for e in await listed(q="0001", status="skipped")] == [skipped]

    export = await api.get(
        "/api/executions/export.csv", params={"test": "true"}, headers=tenant.auth("viewer")
    )
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert [(r["id"], r["test"], r["contact_name"]) for r in rows] == [
        (trial, "true", "Ravi Kumar")
    ]
