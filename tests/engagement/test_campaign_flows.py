"""`/api/campaigns/{id}/flows`: flows assigned to a campaign's triggers, and
`/flows/trigger` starting the best active matching one through the lead guards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.worker import Worker

from store.db import session_scope
from store.keys import issue_key
from store.models import Event
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.engagement.helpers import executions, outbox, sms_flow, stored_execution
from tests.examples import load_example, settings_of

MEERA = {"name": "Meera", "phone": "+15550100001", "lead_source": "IndiaMART"}


async def campaign(api: httpx.AsyncClient, tenant: TenantKeys, name: str = "Launch") -> str:
    made = await api.post("/api/campaigns", json={"name": name}, headers=tenant.auth("manager"))
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def flow(
    api: httpx.AsyncClient, tenant: TenantKeys, text: str, **fields: Any
) -> dict[str, Any]:
    return await make_flow(api, tenant, sms_flow(text), name=text, **fields)


async def assign(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    campaign_id: str,
    flow_id: str,
    *,
    role: str = "manager",
    **fields: Any,
) -> httpx.Response:
    body = {"flow_id": flow_id, "trigger": "outbound_start", **fields}
    return await api.post(
        f"/api/campaigns/{campaign_id}/flows", json=body, headers=tenant.auth(role)
    )


async def trigger(
    api: httpx.AsyncClient, tenant: TenantKeys, campaign_id: str, **fields: Any
) -> dict[str, Any]:
    body = {
        "call_id": "CA123",
        "agent_id": "agent-7",
        "trigger": "outbound_start",
        "context": {"language": "hi"},
        "contact": MEERA,
        **fields,
    }
    response = await api.post(
        f"/api/campaigns/{campaign_id}/flows/trigger", json=body, headers=tenant.auth("manager")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def assigned_events(engine: Engine, tenant_id: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        query = select(Event).where(Event.tenant_id == tenant_id, Event.type == "flow.assigned")
        return [{**(e.data or {}), "execution_id": e.execution_id} for e in session.exec(query)]


async def test_the_best_active_matching_assignment_starts_with_the_trigger_data(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    campaign_id = await campaign(api, tenant)
    best = await flow(api, tenant, "Hindi")
    inactive = await flow(api, tenant, "Switched off")
    english = await flow(api, tenant, "English")
    fallback = await flow(api, tenant, "Fallback")
    off = await flow(api, tenant, "Disabled", enabled=False)
    inbound = await flow(api, tenant, "Inbound")
    hindi = {"field": "trigger.context.language", "op": "eq", "value": "hi"}
    english_only = {"field": "trigger.context.language", "op": "eq", "value": "en"}
    from_indiamart = {"field": "lead_source", "op": "eq", "value": "indiamart"}
    for flow_id, fields in (
        (inactive["id"], {"priority": 1, "active": False}),
        (english["id"], {"priority": 2, "conditions": [english_only]}),
        (off["id"], {"priority": 3}),
        (best["id"], {"priority": 4, "conditions": [hindi, from_indiamart]}),
        (fallback["id"], {"priority": 5}),
        (inbound["id"], {"priority": 0, "trigger": "inbound_start"}),
    ):
        made = await assign(api, tenant, campaign_id, flow_id, **fields)
        assert made.status_code == 201, made.text

    answer = await trigger(api, tenant, campaign_id)
    assert answer["status"] == "started", answer
    assert (answer["flow_id"], answer["flow_name"]) == (best["id"], "Hindi")
    assert answer["reason"] == (
        "matched trigger.context.language eq hi and lead_source eq indiamart"
    )
    reasons = {p["flow_id"]: p["reason"] for p in answer["passed_over"]}
    assert reasons == {
        inactive["id"]: "the assignment is inactive",
        english["id"]: "conditions false: trigger.context.language eq en does not hold "
        "(trigger.context.language is 'hi')",
        off["id"]: "the flow is disabled",
        fallback["id"]: "matched: no conditions, but flow 'Hindi' ranks higher",
    }

    done = await wait_for_status(api, tenant, answer["execution_id"], "completed")
    [sms] = await outbox(api, tenant, done["id"])
    assert (sms["to"], sms["content"]["body"]) == (MEERA["phone"], "Hindi Meera")
    stored = stored_execution(engine, done["id"])
    assert stored.trigger == {
        "type": "campaign",
        "campaign_trigger": "outbound_start",
        "campaign_id": campaign_id,
        "call_id": "CA123",
        "agent_id": "agent-7",
        "contact_id": answer["contact_id"],
        "context": {"language": "hi"},
    }
    assert stored.campaign_id == campaign_id  # its recordings are filed under the campaign
    [event] = assigned_events(engine, tenant.id)
    assert event["execution_id"] == done["id"]
    assert (event["campaign_id"], event["trigger"], event["status"]) == (
        campaign_id,
        "outbound_start",
        "started",
    )
    for other in (inactive, english, off, fallback, inbound):
        assert await executions(api, tenant, flow_id=other["id"]) == []

    # switched on (PATCH) and with the best priority, the inactive one wins the next call
    listed = await api.get(f"/api/campaigns/{campaign_id}/flows", headers=tenant.auth("viewer"))
    [switched] = [a for a in listed.json() if a["flow_id"] == inactive["id"]]
    patched = await api.patch(
        f"/api/campaigns/{campaign_id}/flows/{switched['id']}",
        json={"active": True},
        headers=tenant.auth("manager"),
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["active"] is True
    again = await trigger(api, tenant, campaign_id, contact={"phone": "+15550100002"})
    assert (again["status"], again["flow_id"]) == ("started", inactive["id"])


async def test_nothing_matches_and_the_answer_says_why(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    campaign_id = await campaign(api, tenant)
    english = await flow(api, tenant, "English")
    condition = {"field": "trigger.context.language", "op": "eq", "value": "en"}
    made = await assign(api, tenant, campaign_id, english["id"], conditions=[condition])
    assert made.status_code == 201, made.text
    answer = await trigger(api, tenant, campaign_id)
    assert answer["status"] == "no_match"
    assert answer["reason"] == (
        "no active outbound_start assignment of an enabled, published flow matches"
    )
    assert [p["flow_id"] for p in answer["passed_over"]] == [english["id"]]
    assert answer["execution_id"] is None
    assert await executions(api, tenant, flow_id=english["id"]) == []
    assert assigned_events(engine, tenant.id) == []


async def test_one_assignment_per_campaign_flow_and_trigger(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    campaign_id = await campaign(api, tenant)
    hello = await flow(api, tenant, "Hello")
    first = await assign(api, tenant, campaign_id, hello["id"], priority=1)
    assert first.status_code == 201, first.text
    assert first.json()["flow_name"] == "Hello"
    duplicate = await assign(api, tenant, campaign_id, hello["id"], priority=2)
    assert duplicate.status_code == 409, duplicate.text
    other_trigger = await assign(api, tenant, campaign_id, hello["id"], trigger="manual")
    assert other_trigger.status_code == 201, other_trigger.text

    url = f"/api/campaigns/{campaign_id}/flows"
    listed = await api.get(url, headers=tenant.auth("viewer"))
    assert [(a["trigger"], a["priority"]) for a in listed.json()] == [
        ("manual", None),
        ("outbound_start", 1),
    ]
    gone = await api.delete(f"{url}/{first.json()['id']}", headers=tenant.auth("manager"))
    assert gone.status_code == 204, gone.text
    listed = await api.get(url, headers=tenant.auth("viewer"))
    assert [a["trigger"] for a in listed.json()] == ["manual"]
    # unassigned, it may be assigned again; and a campaign with assignments can be deleted
    again = await assign(api, tenant, campaign_id, hello["id"])
    assert again.status_code == 201, again.text
    deleted = await api.delete(f"/api/campaigns/{campaign_id}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204, deleted.text


async def test_other_tenants_see_nothing_and_viewers_cannot_assign(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    campaign_id = await campaign(api, tenant)
    hello = await flow(api, tenant, "Hello")
    theirs = await flow(api, other_tenant, "Theirs")
    their_campaign = await campaign(api, other_tenant)

    viewer = await assign(api, tenant, campaign_id, hello["id"], role="viewer")
    assert viewer.status_code == 403, viewer.text
    their_flow = await assign(api, tenant, campaign_id, theirs["id"])
    assert their_flow.status_code == 404, their_flow.text
    mine_to_theirs = await assign(api, tenant, their_campaign, hello["id"])
    assert mine_to_theirs.status_code == 404, mine_to_theirs.text

    made = await assign(api, tenant, campaign_id, hello["id"])
    assert made.status_code == 201, made.text
    url = f"/api/campaigns/{campaign_id}/flows"
    for response in (
        await api.get(url, headers=other_tenant.auth("admin")),
        await api.patch(
            f"{url}/{made.json()['id']}", json={"active": False}, headers=other_tenant.auth()
        ),
        await api.delete(f"{url}/{made.json()['id']}", headers=other_tenant.auth()),
        await api.post(
            f"{url}/trigger",
            json={"call_id": "c", "agent_id": "a", "trigger": "manual", "contact": MEERA},
            headers=other_tenant.auth(),
        ),
    ):
        assert response.status_code == 404, response.text
    listed = await api.get(url, headers=tenant.auth("viewer"))
    assert [a["active"] for a in listed.json()] == [True]


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"trigger": "outbound_start"}, "$.flow_id"),
        ({"flow_id": "x", "trigger": "sometime"}, "$.trigger"),
        ({"flow_id": "x", "trigger": "manual", "priority": -1}, "$.priority"),
        (
            {"flow_id": "x", "trigger": "manual", "conditions": [{"field": "x", "op": "eq"}]},
            "$.conditions[0].field",
        ),
        (
            {
                "flow_id": "x",
                "trigger": "manual",
                "conditions": [{"field": "tags", "op": "any", "value": "vip"}],
            },
            "$.conditions[0].value",
        ),
    ],
)
async def test_bad_assignments_are_422_at_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], path: str
) -> None:
    campaign_id = await campaign(api, tenant)
    response = await api.post(
        f"/api/campaigns/{campaign_id}/flows", json=body, headers=tenant.auth("manager")
    )
    assert response.status_code == 422, response.text
    assert path in [d["path"] for d in response.json()["error"]["details"]], response.text


async def test_a_campaign_call_with_its_agent_runs_the_script_only_that_agent_completes(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    """The dialer's call event (`inbound_start`, the call and the agent taking it) starts the
    campaign script example; its step is on that agent's board, and only its key completes it."""
    campaign_id = await campaign(api, tenant)
    agents = {}
    for name, number in (("Asha", "+15550100201"), ("Bo", "+15550100202")):
        made = await api.post(
            "/api/agents", json={"name": name, "phone": number}, headers=tenant.auth("manager")
        )
        assert made.status_code == 201, made.text
        agents[name] = made.json()["id"]
    example = load_example("campaign_script")
    script = await make_flow(api, tenant, example["definition"], **settings_of(example))
    made = await assign(api, tenant, campaign_id, script["id"], trigger="inbound_start")
    assert made.status_code == 201, made.text

    answer = await trigger(
        api,
        tenant,
        campaign_id,
        trigger="inbound_start",
        agent_id=agents["Asha"],
        contact={"name": "Kiran", "phone": "+15550100009", "email": "kiran@example.com"},
    )
    assert answer["status"] == "started", answer
    run_id = answer["execution_id"]
    await wait_for_status(api, tenant, run_id, "waiting")
    for name, tasks in (("Asha", [(run_id, "agent_call")]), ("Bo", [])):
        board = await api.get(
            f"/api/agents/{agents[name]}/flows/active", headers=tenant.auth("viewer")
        )
        assert [(w["execution_id"], w["node_id"]) for w in board.json()] == tasks, name

    complete = f"/api/executions/{run_id}/steps/agent_call/complete"
    renewed = {"data": {"outcome": "renewed"}}
    for name, status in (("Bo", 403), ("Asha", 200)):
        with session_scope(engine) as session:
            _, secret = issue_key(session, tenant_id=tenant.id, name=name, role="agent")
        answered = await api.put(
            complete, json=renewed, headers={"Authorization": f"Bearer {secret}"}
        )
        assert answered.status_code == status, answered.text
    done = await wait_for_status(api, tenant, run_id, "completed")
    agent_call = next(s for s in done["steps"] if s["node_id"] == "agent_call")
    assert agent_call["result"]["data"] == {"outcome": "renewed"}
    assert agent_call["result"]["completed_by"] == "Asha"
    [mail] = [m for m in await outbox(api, tenant, run_id) if m["channel"] == "email"]
    assert mail["to"] == "kiran@example.com"


async def test_a_condition_on_a_field_that_does_not_exist_says_which_fields_do(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    campaign_id = await campaign(api, tenant)
    body = {
        "flow_id": "x",
        "trigger": "manual",
        "conditions": [{"field": "language", "op": "eq", "value": "hi"}],
    }
    response = await api.post(
        f"/api/campaigns/{campaign_id}/flows", json=body, headers=tenant.auth("manager")
    )
    assert response.status_code == 422, response.text
    [detail] = [
        d for d in response.json()["error"]["details"] if d["path"] == "$.conditions[0].field"
    ]
    message = detail["message"]
    assert "trigger.<key>" in message and "custom.<name>" in message, message
    assert "'language'" in message, message  # what was sent
    assert "^" not in message and "{1,64}" not in message, message  # not the pattern
