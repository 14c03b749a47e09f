"""A posted lead starts the one flow it matches, under the guards: DNC, cooldown, hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from schemas.execution import SIGNAL_CONTACT_UPDATED
from schemas.hours import DAYS
from store.db import session_scope
from store.models import Contact, FlowEntry, Tenant
from tests.api.helpers import TenantKeys, wait_for_status
from tests.engagement.helpers import (
    event_types,
    executions,
    lead_flow,
    outbox,
    post_lead,
    source_is,
    stored_execution,
)

ASHA = {"name": "Asha", "phone": "+919800000001", "email": "asha@example.com"}


async def test_a_lead_starts_the_best_ranked_matching_flow_only(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    second = await lead_flow(api, tenant, "IM2", source_is("IndiaMART"), priority=2)
    first = await lead_flow(api, tenant, "IM1", source_is("IndiaMART"), priority=1)
    website = await lead_flow(api, tenant, "WEB", source_is("website"), priority=3)

    status, lead = await post_lead(api, tenant, **ASHA, lead_source="IndiaMART")
    assert status == 201
    engagement = lead["engagement"]
    assert (engagement["status"], engagement["flow_id"]) == ("started", first["id"])
    done = await wait_for_status(api, tenant, engagement["execution_id"], "completed")
    [sms] = await outbox(api, tenant, done["id"])
    assert (sms["to"], sms["content"]["body"]) == (ASHA["phone"], "IM1 Asha")

    stored = stored_execution(engine, done["id"])
    assert stored.contact_id == lead["id"]
    assert stored.trigger is not None and stored.trigger["type"] == "lead_created"
    assert stored.match is not None
    assert (stored.match["flow_id"], stored.match["priority"]) == (first["id"], 1)
    assert stored.match["reason"] == "matched lead_source eq IndiaMART"
    losers = {c["flow_id"]: c for c in stored.match["candidates"] if c["flow_id"] != first["id"]}
    assert losers[second["id"]]["matched"] is True
    assert losers[website["id"]]["matched"] is False
    assert await executions(api, tenant, flow_id=second["id"]) == []

    _, web_lead = await post_lead(
        api, tenant, name="Ravi", phone="+919800000002", lead_source="Website"
    )
    assert web_lead["engagement"]["flow_id"] == website["id"]
    web_run = await wait_for_status(
        api, tenant, web_lead["engagement"]["execution_id"], "completed"
    )
    assert [m["content"]["body"] for m in await outbox(api, tenant, web_run["id"])] == ["WEB Ravi"]

    _, stray = await post_lead(
        api, tenant, name="Mina", phone="+919800000003", lead_source="TradeIndia"
    )
    assert stray["engagement"]["status"] == "no_match"
    assert await executions(api, tenant, q="+919800000003") == []


async def test_a_dnc_lead_is_skipped_with_its_reason_and_contacted_by_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    flow = await lead_flow(api, tenant, "Hello", source_is("IndiaMART"), priority=1)
    for phone, tag in (("+919800000011", "dnc"), ("+919800000012", "DNC")):
        _, lead = await post_lead(
            api, tenant, name="Quiet", phone=phone, lead_source="IndiaMART", tags=["vip", tag]
        )
        engagement = lead["engagement"]
        assert (engagement["status"], engagement["reason"]) == ("skipped", "contact is tagged DNC")
        [listed] = await executions(api, tenant, q=phone)
        assert (listed["status"], listed["reason"]) == ("skipped", "contact is tagged DNC")
        assert listed["flow_id"] == flow["id"]
        assert await outbox(api, tenant, listed["id"]) == []
        assert event_types(engine, listed["id"]) == ["flow.skipped"]
        assert stored_execution(engine, listed["id"]).match is not None


async def test_fifty_concurrent_posts_of_one_lead_start_one_execution(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    flow = await lead_flow(api, tenant, "Once", source_is("IndiaMART"), priority=1)
    lead = {**ASHA, "lead_source": "IndiaMART", "tags": ["new"]}
    posts = await asyncio.gather(
        *(api.post("/api/contacts", json=lead, headers=tenant.auth("manager")) for _ in range(50))
    )
    assert sorted(p.status_code for p in posts) == [200] * 49 + [201]
    outcomes = [p.json()["engagement"] for p in posts]
    started = [o for o in outcomes if o["status"] == "started"]
    skipped = [o for o in outcomes if o["status"] == "skipped"]
    assert len(started) == 1 and len(skipped) == 49
    assert all(o["reason"].startswith("cooldown: entered this flow") for o in skipped)
    with Session(engine) as session:
        rows = session.exec(
            select(Contact).where(Contact.tenant_id == tenant.id, Contact.phone == ASHA["phone"])
        ).all()
        assert len(rows) == 1
    listed = await executions(api, tenant, flow_id=flow["id"])
    assert sorted(e["status"] for e in listed if e["status"] != "skipped") in (
        ["completed"],
        ["running"],
        ["pending"],
    )
    assert len(listed) == 50
    await wait_for_status(api, tenant, started[0]["execution_id"], "completed")

    # Once the cooldown has passed, the same lead enters again.
    with session_scope(engine) as session:
        session.execute(
            sa.update(FlowEntry)
            .where(col(FlowEntry.flow_id) == flow["id"])
            .values(entered_at=datetime.now(UTC) - timedelta(minutes=61))
        )
    _, again = await post_lead(api, tenant, **lead)
    assert again["engagement"]["status"] == "started"
    assert again["engagement"]["execution_id"] != started[0]["execution_id"]
    await wait_for_status(api, tenant, again["engagement"]["execution_id"], "completed")


async def test_a_dnc_tag_added_while_waiting_reaches_the_execution(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    await lead_flow(api, tenant, "Later", source_is("IndiaMART"), wait_s=3, priority=1)
    _, lead = await post_lead(api, tenant, **ASHA, lead_source="IndiaMART")
    execution_id = lead["engagement"]["execution_id"]
    await wait_for_status(api, tenant, execution_id, "waiting")

    patched = await api.patch(
        f"/api/contacts/{lead['id']}", json={"tags": ["DNC"]}, headers=tenant.auth("manager")
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["DNC"]
    assert patched.json()["engagement"] == {"status": "not_triggered"}

    history = await temporal_env.client.get_workflow_handle(f"exec-{execution_id}").fetch_history()
    signals = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert [s.signal_name for s in signals] == [SIGNAL_CONTACT_UPDATED]
    ended = await wait_for_status(api, tenant, execution_id, "skipped", within_s=20)
    assert ended["reason"] == "contact is tagged DNC"
    assert await outbox(api, tenant, execution_id) == []


@pytest.mark.parametrize("whose", ["flow", "tenant"])
async def test_a_lead_outside_business_hours_waits_for_the_opening(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine, whose: str
) -> None:
    tomorrow = DAYS[(datetime.now(UTC).weekday() + 1) % 7]
    hours = {"start": "00:00", "end": "24:00", "timezone": "UTC", "days": [tomorrow]}
    if whose == "tenant":  # a flow without hours of its own keeps its tenant's
        with session_scope(engine) as session:
            session.execute(
                sa.update(Tenant).where(col(Tenant.id) == tenant.id).values(business_hours=hours)
            )
        await lead_flow(api, tenant, "Open", source_is("IndiaMART"), priority=1)
    else:
        await lead_flow(
            api, tenant, "Open", source_is("IndiaMART"), priority=1, business_hours=hours
        )
    _, lead = await post_lead(api, tenant, **ASHA, lead_source="IndiaMART")
    execution_id = lead["engagement"]["execution_id"]
    waiting = await wait_for_status(api, tenant, execution_id, "waiting")
    assert [s["node_id"] for s in waiting["steps"]] == ["business_hours"]
    assert await outbox(api, tenant, execution_id) == []
    cancelled = await api.post(
        f"/api/executions/{execution_id}/cancel", headers=tenant.auth("manager")
    )
    assert cancelled.status_code == 202
    await wait_for_status(api, tenant, execution_id, "cancelled")


async def test_setting_a_first_lead_source_engages_the_contact(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await lead_flow(api, tenant, "Hi", source_is("IndiaMART"), priority=1)
    _, contact = await post_lead(api, tenant, **ASHA)
    assert contact["engagement"]["status"] == "no_match"

    patched = await api.patch(
        f"/api/contacts/{contact['id']}",
        json={"lead_source": "IndiaMART"},
        headers=tenant.auth("manager"),
    )
    assert patched.status_code == 200, patched.text
    engagement: dict[str, Any] = patched.json()["engagement"]
    assert (engagement["status"], engagement["flow_id"]) == ("started", flow["id"])
    await wait_for_status(api, tenant, engagement["execution_id"], "completed")

    # Changing the source again is an edit, not a new lead.
    again = await api.patch(
        f"/api/contacts/{contact['id']}",
        json={"lead_source": "website"},
        headers=tenant.auth("manager"),
    )
    assert again.json()["engagement"] == {"status": "not_triggered"}


async def test_disabled_unpublished_and_other_tenants_flows_never_match(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, worker: Worker
) -> None:
    await lead_flow(api, tenant, "Off", source_is("IndiaMART"), priority=1, enabled=False)
    await lead_flow(api, tenant, "Draft", source_is("IndiaMART"), priority=2, publish=False)
    await lead_flow(api, other_tenant, "Theirs", source_is("IndiaMART"), priority=1)
    _, lead = await post_lead(api, tenant, **ASHA, lead_source="IndiaMART")
    assert lead["engagement"]["status"] == "no_match"
    assert lead["engagement"]["match"]["candidates"] == []
