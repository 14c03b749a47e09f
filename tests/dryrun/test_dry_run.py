"""Test mode: `POST /api/flows/{id}/test` shows the path, renders messages, sends nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from temporalio.testing import WorkflowEnvironment

from schemas.settings import Settings
from store.models import Contact, Execution, OutboxMessage
from tests.api.helpers import TenantKeys, make_flow
from tests.examples import load_example, settings_of

MONDAY_MORNING_IST = datetime(2030, 5, 6, 5, 0, tzinfo=UTC)  # 10:30 in Kolkata
SUNDAY_IST = datetime(2030, 5, 5, 6, 0, tzinfo=UTC)  # Sunday: closed all day
ASHA = {
    "name": "Asha Rao",
    "phone": "+919800000001",
    "email": "asha@example.com",
    "lead_source": "IndiaMART",
    "tags": [],
}


def _example() -> dict[str, Any]:
    return load_example("lead_engagement")


async def _lead_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, **overrides: Any
) -> dict[str, Any]:
    example = _example()
    return await make_flow(
        api, tenant, example["definition"], **{**settings_of(example), **overrides}
    )


async def _test(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, **body: Any
) -> httpx.Response:
    return await api.post(f"/api/flows/{flow_id}/test", json=body, headers=tenant.auth("manager"))


def _counts(engine: Engine, tenant_id: str) -> tuple[int, int]:
    with Session(engine) as session:
        executions = session.exec(
            select(func.count()).select_from(Execution).where(Execution.tenant_id == tenant_id)
        ).one()
        messages = session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.tenant_id == tenant_id)
        ).one()
    return int(executions), int(messages)


async def test_a_missed_call_goes_whatsapp_pause_email_and_sends_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
) -> None:
    flow = await _lead_flow(api, tenant)
    response = await _test(
        api,
        tenant,
        flow["id"],
        contact=ASHA,
        outcomes={"call": "missed"},
        start_at=MONDAY_MORNING_IST.isoformat(),
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["ends"] == "completed"
    assert result["skips"] == []
    assert result["match"]["matches"] is True
    assert result["match"]["would_run"] is True
    assert result["match"]["better_flows"] == []
    steps = result["steps"]
    assert [(s["node_id"], s["port"]) for s in steps] == [
        ("call", "missed"),
        ("wa", "sent"),
        ("pause", "next"),
        ("mail", "sent"),
        ("done", None),
    ]
    assert steps[0]["simulated"] is True
    assert steps[0]["rendered"]["to"] == "+919800000001"
    assert steps[1]["rendered"]["template"] == "lead_followup"
    assert steps[1]["rendered"]["params"] == {"1": "Asha Rao", "2": "Acme Pumps"}
    assert steps[2]["waits_until"] == (MONDAY_MORNING_IST + timedelta(minutes=10)).isoformat()
    mail = steps[3]["rendered"]
    assert mail["to"] == "asha@example.com"
    assert mail["subject"] == "Your enquiry with Acme Pumps"
    assert "Thanks for your enquiry about our products." in mail["body"]
    cost = result["cost"]
    assert cost["currency"] == "USD"
    assert cost["counts"] == {"sms": 0, "whatsapp": 1, "email": 1, "voice_minutes": 0}
    assert cost["whatsapp"] == pytest.approx(0.005)
    assert cost["email"] == pytest.approx(0.0001)
    assert cost["voice"] == 0 and cost["sms"] == 0
    assert cost["total"] == pytest.approx(0.0051)
    # Nothing left the machine and nothing runs.
    assert _counts(engine, tenant.id) == (0, 0)
    started = temporal_env.client.list_workflows(f'TaskQueue="{settings.task_queue}"')
    assert [w.id async for w in started] == []


async def test_an_answered_call_is_qualified_and_billed_a_minute(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await _lead_flow(api, tenant)
    result = (
        await _test(
            api,
            tenant,
            flow["id"],
            contact=ASHA,
            outcomes={"call": "answered"},
            start_at=MONDAY_MORNING_IST.isoformat(),
        )
    ).json()
    assert [(s["node_id"], s["port"]) for s in result["steps"]] == [
        ("call", "answered"),
        ("qualified", "next"),
        ("done", None),
    ]
    assert result["steps"][1]["result"] == {"tags": ["contacted"]}
    assert result["cost"]["counts"]["voice_minutes"] == 1
    assert result["cost"]["voice"] == pytest.approx(0.014)
    assert result["ends"] == "completed"


async def test_a_dnc_contact_is_skipped_before_any_step(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await _lead_flow(api, tenant)
    result = (
        await _test(api, tenant, flow["id"], contact={**ASHA, "tags": ["vip", "dnc"]}, outcomes={})
    ).json()
    assert result["ends"] == "skipped"
    assert result["skips"] == [{"reason": "contact is tagged DNC"}]
    assert result["steps"] == []
    assert result["cost"]["total"] == 0
    assert _counts(engine, tenant.id) == (0, 0)


async def test_outside_business_hours_the_first_step_waits_for_the_opening(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await _lead_flow(api, tenant)
    result = (
        await _test(
            api,
            tenant,
            flow["id"],
            contact=ASHA,
            outcomes={"call": "busy"},
            start_at=SUNDAY_IST.isoformat(),
        )
    ).json()
    opening = datetime(2030, 5, 6, 4, 0, tzinfo=UTC)  # Monday 09:30 in Kolkata
    assert result["skips"] == [
        {
            "reason": "outside business hours: the first step waits for the opening",
            "waits_until": opening.isoformat(),
        }
    ]
    pause = next(s for s in result["steps"] if s["node_id"] == "pause")
    assert pause["waits_until"] == (opening + timedelta(minutes=10)).isoformat()


async def test_a_missing_variable_fails_the_step_by_its_port_with_the_name(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await _lead_flow(api, tenant)
    no_name = {k: v for k, v in ASHA.items() if k != "name"}
    result = (
        await _test(
            api,
            tenant,
            flow["id"],
            contact=no_name,
            outcomes={"call": "missed"},
            start_at=MONDAY_MORNING_IST.isoformat(),
        )
    ).json()
    wa = result["steps"][1]
    assert wa["node_id"] == "wa" and wa["port"] == "failed"
    assert wa["missing_variable"] == "contact.name"
    assert "contact.name" in wa["error"]
    # The email step needs the name too: it fails by its own port, which leads to the end.
    assert [(s["node_id"], s["port"]) for s in result["steps"][2:]] == [
        ("mail", "failed"),
        ("done", None),
    ]
    assert result["cost"]["counts"]["whatsapp"] == 0


async def test_a_better_priority_flow_that_matches_is_listed(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    winner = await _lead_flow(api, tenant, name="VIP IndiaMART", priority=1)
    flow = await _lead_flow(api, tenant, name="IndiaMART fallback", priority=2)
    await _lead_flow(
        api,
        tenant,
        name="Website",
        priority=3,
        trigger={
            "type": "lead_created",
            "conditions": [{"field": "lead_source", "op": "eq", "value": "website"}],
        },
    )
    match = (
        await _test(api, tenant, flow["id"], contact=ASHA, start_at=MONDAY_MORNING_IST.isoformat())
    ).json()["match"]
    assert match["matches"] is True and match["would_run"] is False
    assert [f["flow_id"] for f in match["better_flows"]] == [winner["id"]]

    website = (
        await _test(api, tenant, flow["id"], contact={**ASHA, "lead_source": "website"})
    ).json()["match"]
    assert website["matches"] is False and website["would_run"] is False
    assert "lead_source eq IndiaMART does not hold" in website["reason"]


async def test_a_stored_contact_a_draft_and_per_node_outcomes(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    example = _example()
    flow = await make_flow(api, tenant, example["definition"], publish=False, name="Draft only")
    with Session(engine) as session:
        contact = Contact(tenant_id=tenant.id, name="Ravi", phone="+919800000002", email="r@x.in")
        session.add(contact)
        session.commit()
        contact_id = contact.id
    response = await _test(
        api,
        tenant,
        flow["id"],
        contact_id=contact_id,
        version=1,
        outcomes={"call": "voicemail", "wa": "failed"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["match"]["trigger"] is None  # no trigger set on this flow
    assert [(s["node_id"], s["port"]) for s in result["steps"]] == [
        ("call", "voicemail"),
        ("wa", "failed"),
        ("mail", "sent"),
        ("done", None),
    ]
    assert result["steps"][2]["rendered"]["subject"] == "Your enquiry with Acme Pumps"
    # Another tenant's contact or flow is not found; a draft is the default only when asked.
    foreign = await _test(api, other_tenant, flow["id"], contact={})
    assert foreign.status_code == 404
    stranger = await _test(api, tenant, flow["id"], contact_id="nope", version=1)
    assert stranger.status_code == 404
    unpublished = await _test(api, tenant, flow["id"], contact={})
    assert unpublished.status_code == 409


async def test_unknown_outcomes_are_refused_with_their_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await _lead_flow(api, tenant)
    response = await _test(
        api, tenant, flow["id"], contact=ASHA, outcomes={"call": "nope", "ghost": "x"}
    )
    assert response.status_code == 422
    paths = sorted(d["path"] for d in response.json()["error"]["details"])
    assert paths == ["$.outcomes.call", "$.outcomes.ghost"]
    both = await _test(api, tenant, flow["id"], contact=ASHA, contact_id="x")
    assert both.status_code == 422
