"""An answered call placed for a campaign fires the campaign's `outbound_start` flow, and the
agent the call was placed for is guided through it: the campaign script example end to end.

The dialer is a flow whose `ai_call` names the agent; run for a campaign (`campaign_id`), its
answered call (Twilio's signed status callback, or the sandbox's simulated answer) starts the
campaign's best `outbound_start` assignment with `trigger.call_id` and `trigger.agent_id`. The
script's `human_task` is assigned to `{{ trigger.agent_id }}`: it is on that agent's board, the
agent's own key completes it, and another agent's key may not.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.worker import Worker

from callsim import Answered, SimulatedCall
from store.db import session_scope
from store.keys import issue_key
from store.models import Event
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.calls.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.calls.test_outbound import CONTACT, _placed_call
from tests.engagement.helpers import executions, outbox, sms_flow, stored_execution
from tests.examples import load_example, settings_of

KIRAN = {"name": "Kiran", "phone": CONTACT, "email": "kiran@example.com"}


def _dialer(agent_id: str) -> dict[str, Any]:
    """A flow that calls the contact for the agent, and ends however the call went."""
    return {
        "start": "call",
        "nodes": [
            {
                "id": "call",
                "type": "ai_call",
                "config": {"agent_id": agent_id},
                "transitions": {"answered": "done", "missed": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


def _agent_key(engine: Engine, tenant: TenantKeys, name: str) -> dict[str, str]:
    """An `agent` key named `name`: the agent whose id or name it is."""
    with session_scope(engine) as session:
        _, secret = issue_key(session, tenant_id=tenant.id, name=name, role="agent")
    return {"Authorization": f"Bearer {secret}"}


async def _made(api: httpx.AsyncClient, tenant: TenantKeys, path: str, **body: Any) -> str:
    response = await api.post(path, json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _script(api: httpx.AsyncClient, tenant: TenantKeys, campaign_id: str) -> str:
    """The campaign script example, published and assigned to the campaign's outbound_start."""
    example = load_example("campaign_script")
    flow = await make_flow(api, tenant, example["definition"], **settings_of(example))
    await _made(
        api,
        tenant,
        f"/api/campaigns/{campaign_id}/flows",
        flow_id=flow["id"],
        trigger="outbound_start",
    )
    return str(flow["id"])


async def _status_callback(api: httpx.AsyncClient, sid: str, status: str, **extra: str) -> Answered:
    """Twilio's signed status callback for the call we placed."""
    call = SimulatedCall(
        client=api,
        auth_token=AUTH_TOKEN,
        public_url=PUBLIC_URL,
        to=CONTACT,
        from_="+15550003333",
        call_sid=sid,
        direction="outbound-api",
    )
    return await call.post(PUBLIC_URL + "/webhooks/twilio/status", {"CallStatus": status, **extra})


async def _follow_up_campaign(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """A campaign whose `outbound_start` texts the contact, and a dialer for agent-7."""
    campaign_id = await _made(api, tenant, "/api/campaigns", name="Renewals")
    follow_up = await make_flow(api, tenant, sms_flow("Thanks for taking our call"))
    await _made(
        api,
        tenant,
        f"/api/campaigns/{campaign_id}/flows",
        flow_id=follow_up["id"],
        trigger="outbound_start",
    )
    dialer = await make_flow(api, tenant, _dialer("agent-7"), name="Dialer")
    return campaign_id, follow_up, dialer


def _assigned(engine: Engine, tenant_id: str) -> list[Event]:
    with Session(engine) as session:
        query = select(Event).where(Event.tenant_id == tenant_id, Event.type == "flow.assigned")
        return list(session.exec(query))


async def test_the_answered_campaign_call_runs_the_script_its_agent_completes(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    campaign_id = await _made(api, tenant, "/api/campaigns", name="Renewals")
    asha = await _made(api, tenant, "/api/agents", name="Asha", phone="+15550100201")
    await _made(api, tenant, "/api/agents", name="Bo", phone="+15550100202")
    script_id = await _script(api, tenant, campaign_id)
    dialer = await make_flow(api, tenant, _dialer(asha), name="Renewal dialer")

    placing = await run(api, tenant, dialer["id"], contact=KIRAN, campaign_id=campaign_id)
    sid = await _placed_call(api, tenant, placing["id"])
    assert await executions(api, tenant, flow_id=script_id) == []  # ringing: nothing yet

    for status in ("ringing", "in-progress", "in-progress", "completed"):  # repeats included
        answer = await _status_callback(api, sid, status)
        assert answer.status_code == 200, answer.text

    [script] = await executions(api, tenant, flow_id=script_id)  # one run for the call
    waiting = await wait_for_status(api, tenant, script["id"], "waiting")
    stored = stored_execution(engine, waiting["id"])
    assert stored.campaign_id == campaign_id
    assert stored.trigger is not None
    assert (stored.trigger["campaign_trigger"], stored.trigger["call_id"]) == (
        "outbound_start",
        sid,
    )
    assert stored.trigger["agent_id"] == asha
    assert stored.trigger["context"]["execution_id"] == placing["id"]
    [assigned] = _assigned(engine, tenant.id)
    assert assigned.execution_id == script["id"]

    # the agent's board lists the script's task, assigned to it by the trigger's agent_id
    board = await api.get(f"/api/agents/{asha}/flows/active", headers=tenant.auth("viewer"))
    assert board.status_code == 200, board.text
    tasks = [w for w in board.json() if w["kind"] == "task"]
    assert [(t["execution_id"], t["node_id"]) for t in tasks] == [(script["id"], "agent_call")]

    complete = f"/api/executions/{script['id']}/steps/agent_call/complete"
    renewed = {"data": {"outcome": "renewed"}}
    as_bo = _agent_key(engine, tenant, "Bo")
    refused = await api.put(complete, json=renewed, headers=as_bo)
    assert refused.status_code == 403, refused.text
    assert f"assigned to {asha}" in refused.json()["error"]["message"]

    as_asha = _agent_key(engine, tenant, "Asha")  # named after the agent, the task is hers
    accepted = await api.put(complete, json=renewed, headers=as_asha)
    assert accepted.status_code == 200, accepted.text

    done = await wait_for_status(api, tenant, script["id"], "completed")
    path = [s["node_id"] for s in done["steps"]]
    assert path[-4:] == ["agent_call", "result", "thanks", "done"], path
    [email] = [m for m in await outbox(api, tenant, script["id"]) if m["channel"] == "email"]
    assert email["to"] == KIRAN["email"]
    assert email["subject"] == "Thank you for renewing"
    board = await api.get(f"/api/agents/{asha}/flows/active", headers=tenant.auth("viewer"))
    assert [w for w in board.json() if w["kind"] == "task"] == []


async def test_a_simulated_sandbox_answer_fires_outbound_start_once(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    campaign_id, follow_up, dialer = await _follow_up_campaign(api, tenant)

    placing = await run(api, tenant, dialer["id"], contact=KIRAN, campaign_id=campaign_id)
    await _placed_call(api, tenant, placing["id"])
    simulated = await api.post(
        f"/api/executions/{placing['id']}/simulate",
        json={"call": "answered"},
        headers=tenant.auth("manager"),
    )
    assert simulated.status_code == 200, simulated.text
    await wait_for_status(api, tenant, placing["id"], "completed")

    [follow] = await executions(api, tenant, flow_id=follow_up["id"])
    done = await wait_for_status(api, tenant, follow["id"], "completed")
    [sms] = await outbox(api, tenant, done["id"])
    assert sms["to"] == CONTACT
    stored = stored_execution(engine, done["id"])
    assert stored.trigger is not None
    assert stored.trigger["agent_id"] == "agent-7"


async def test_calls_not_answered_or_not_for_a_campaign_fire_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    campaign_id, follow_up, dialer = await _follow_up_campaign(api, tenant)

    # for the campaign, but a machine took it
    machine = await run(api, tenant, dialer["id"], contact=KIRAN, campaign_id=campaign_id)
    sid = await _placed_call(api, tenant, machine["id"])
    answer = await _status_callback(api, sid, "completed", AnsweredBy="machine_start")
    assert answer.status_code == 200, answer.text
    # answered, but placed by a run for no campaign
    plain = await run(api, tenant, dialer["id"], contact={**KIRAN, "phone": "+15558880002"})
    sid = await _placed_call(api, tenant, plain["id"])
    answer = await _status_callback(api, sid, "in-progress")
    assert answer.status_code == 200, answer.text

    assert await executions(api, tenant, flow_id=follow_up["id"]) == []
    assert _assigned(engine, tenant.id) == []
