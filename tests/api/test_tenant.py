"""The tenant's own defaults through `GET/PATCH /api/tenant`: admins change them, every key
reads them, and new flows, schedules and waits for the opening use them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Tenant
from tests.api.helpers import TenantKeys, make_flow

KOLKATA_DAYS = {"start": "09:30", "end": "18:30", "days": ["mon", "tue", "wed", "thu", "fri"]}


async def _patch(
    api: httpx.AsyncClient, tenant: TenantKeys, role: str = "admin", **body: Any
) -> httpx.Response:
    return await api.patch("/api/tenant", json=body, headers=tenant.auth(role))


async def test_every_key_reads_the_defaults_and_only_an_admin_changes_them(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    for role in ("viewer", "agent", "manager", "admin"):
        read = await api.get("/api/tenant", headers=tenant.auth(role))
        assert read.status_code == 200, read.text
        assert read.json() | {"name": None} == {
            "id": tenant.id,
            "name": None,
            "business_hours": None,
            "timezone": "UTC",
            "cooldown_minutes": 60,
        }
    refused = await _patch(api, tenant, "manager", cooldown_minutes=5)
    assert refused.status_code == 403

    changed = await _patch(
        api, tenant, timezone="Asia/Kolkata", cooldown_minutes=15, business_hours=KOLKATA_DAYS
    )
    assert changed.status_code == 200, changed.text
    expected_hours = {**KOLKATA_DAYS, "timezone": "Asia/Kolkata"}  # hours take the tenant's zone
    assert changed.json()["business_hours"] == expected_hours
    read = (await api.get("/api/tenant", headers=tenant.auth("viewer"))).json()
    assert (read["timezone"], read["cooldown_minutes"]) == ("Asia/Kolkata", 15)
    assert read["business_hours"] == expected_hours

    only_cooldown = await _patch(api, tenant, cooldown_minutes=30)
    assert only_cooldown.json()["business_hours"] == expected_hours  # the rest stays
    cleared = await _patch(api, tenant, business_hours=None)
    assert cleared.json()["business_hours"] is None
    assert cleared.json()["cooldown_minutes"] == 30

    theirs = (await api.get("/api/tenant", headers=other_tenant.auth("admin"))).json()
    assert (theirs["id"], theirs["timezone"], theirs["cooldown_minutes"]) == (
        other_tenant.id,
        "UTC",
        60,
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"timezone": "Mars/Olympus"}, "$.timezone"),
        ({"timezone": None}, "$"),
        ({"cooldown_minutes": -1}, "$.cooldown_minutes"),
        ({"business_hours": {"start": "18:00", "end": "09:00"}}, "$.business_hours"),
        ({"business_hours": {"start": "9am", "end": "18:00"}}, "$.business_hours.start"),
        ({"business_hours": {**KOLKATA_DAYS, "days": ["someday"]}}, "$.business_hours.days[0]"),
        ({"colour": "blue"}, "$.colour"),
    ],
)
async def test_bad_settings_are_refused_at_their_path(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], path: str
) -> None:
    refused = await _patch(api, tenant, **body)
    assert refused.status_code == 422, refused.text
    assert path in [d["path"] for d in refused.json()["error"]["details"]]
    read = (await api.get("/api/tenant", headers=tenant.auth("viewer"))).json()
    assert (read["timezone"], read["cooldown_minutes"]) == ("UTC", 60)


async def test_new_flows_and_waits_for_the_opening_use_the_tenants_defaults(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    await _patch(
        api, tenant, timezone="Asia/Kolkata", cooldown_minutes=15, business_hours=KOLKATA_DAYS
    )
    wait = {
        "start": "open",
        "nodes": [
            {"id": "open", "type": "wait", "config": {"until_open": True}},
        ],
    }
    flow = await make_flow(api, tenant, wait, trigger={"type": "schedule", "cron": "@daily"})
    assert flow["cooldown_minutes"] == 15
    assert flow["trigger"]["timezone"] == "Asia/Kolkata"
    own = await make_flow(api, tenant, wait, publish=False, cooldown_minutes=0)
    assert own["cooldown_minutes"] == 0  # a flow's own setting wins

    # Saturday noon in Kolkata: the tenant's hours open on Monday 09:30 there.
    dry = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={"contact": {"name": "Asha"}, "start_at": "2026-12-05T12:00:00+05:30"},
        headers=tenant.auth("manager"),
    )
    assert dry.status_code == 200, dry.text
    [step] = dry.json()["steps"]
    assert datetime.fromisoformat(step["waits_until"]) == datetime.fromisoformat(
        "2026-12-07T09:30:00+05:30"
    )


async def test_hours_stored_before_the_settings_document_still_read(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    # Tenants created before GET/PATCH /api/tenant hold their hours alone in the column.
    with session_scope(engine) as session:
        row = session.get(Tenant, tenant.id)
        assert row is not None
        row.business_hours = {**KOLKATA_DAYS, "timezone": "Asia/Kolkata"}
        session.add(row)
    read = (await api.get("/api/tenant", headers=tenant.auth("viewer"))).json()
    assert read["business_hours"]["timezone"] == "Asia/Kolkata"
    assert (read["timezone"], read["cooldown_minutes"]) == ("Asia/Kolkata", 60)
    changed = await _patch(api, tenant, cooldown_minutes=5)
    assert changed.json()["business_hours"] == {**KOLKATA_DAYS, "timezone": "Asia/Kolkata"}
