"""Every trigger type a flow can be saved with fires, through its own way in, or is refused:
none is stored to start nothing.

One flow per trigger type, each sending an SMS that names it; each is fired as a user would
fire it (a posted lead, a call to a deployed number, a campaign trigger, a posted event, its
Temporal Schedule, an inbound SMS, a manual run), and each runs once. The set of types fired
here is the API's own list, so a new trigger type fails this test until it fires.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, get_args

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from twilio.request_validator import RequestValidator

from api.bodies.flows import TriggerType
from api.routes import webhooks_twilio
from callsim import SimulatedCall
from schemas.schedule import schedule_id_for
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.calls.conftest import AUTH_TOKEN, PUBLIC_URL
from tests.engagement.helpers import executions, outbox
from tests.telephony.helpers import fresh_number, register

Fire = Callable[[dict[str, Any]], Awaitable[None]]


def _texting(label: str) -> dict[str, Any]:
    """A flow that says which trigger started it: an SMS to the contact, then the end."""
    return {
        "start": "text",
        "nodes": [
            {
                "id": "text",
                "type": "sms",
                "config": {"to": "+15550109999", "body": f"fired by {label}"},
                "transitions": {"sent": "done", "failed": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


def _answering(label: str) -> dict[str, Any]:
    """A call flow: says which trigger answered, texts it, and ends."""
    texting = _texting(label)
    say = {"id": "hello", "type": "say", "config": {"text": label}, "transitions": {"next": "text"}}
    return {"start": "hello", "nodes": [say, *texting["nodes"]]}


async def _only_run(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str) -> dict[str, Any]:
    """The flow's one execution, once there is one (a schedule's firing starts it a moment
    after it is triggered)."""
    for _ in range(200):
        runs = await executions(api, tenant, flow_id=flow_id)
        if runs:
            [run] = runs
            return dict(run)
        await asyncio.sleep(0.05)
    raise AssertionError(f"flow {flow_id} never ran")


async def _signed_sms(api: httpx.AsyncClient, sender: str, to: str, body: str) -> None:
    """An inbound SMS, signed as Twilio signs its webhooks."""
    path = "/webhooks/twilio/messaging"
    form = {"MessageSid": "SM" + "5" * 32, "From": sender, "To": to, "Body": body}
    form["SmsStatus"] = "received"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, form)
    response = await api.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text
    await webhooks_twilio.settled()


async def test_every_trigger_type_fires_through_its_own_way_in(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
    phone: Callable[..., SimulatedCall],
) -> None:
    async def post(path: str, body: dict[str, Any], *, status: int = 201) -> dict[str, Any]:
        response = await api.post(path, json=body, headers=tenant.auth("manager"))
        assert response.status_code == status, response.text
        return dict(response.json())

    number = (await register(api, tenant, fresh_number()))["number"]
    campaign = await post("/api/campaigns", {"name": "Launch"})

    async def lead(flow: dict[str, Any]) -> None:
        contact = {"name": "Lee", "phone": "+15550100301", "lead_source": "web"}
        await post("/api/contacts", contact)

    async def call(flow: dict[str, Any]) -> None:
        line = (await register(api, tenant, fresh_number()))["number"]
        await post(f"/api/flows/{flow['id']}/deploy", {"phone_numbers": [line]})
        caller = phone(line)
        await caller.start()
        spoken = [text for twiml in caller.history for text in twiml.spoken()]
        assert spoken == ["call_incoming"], spoken

    async def assigned(flow: dict[str, Any]) -> None:
        path = f"/api/campaigns/{campaign['id']}/flows"
        await post(path, {"flow_id": flow["id"], "trigger": "manual"})
        body = {"call_id": "CA1", "agent_id": "agent-1", "trigger": "manual"}
        answer = await post(
            f"{path}/trigger", {**body, "contact": {"phone": "+15550100302"}}, status=200
        )
        assert answer["status"] == "started", answer

    async def event(flow: dict[str, Any]) -> None:
        body = {"contact": {"phone": "+15550100303"}, "payload": {"order_id": "A-1"}}
        answer = await post("/api/events/order.created", body, status=200)
        assert [s["flow_id"] for s in answer["started"]] == [flow["id"]], answer

    async def schedule(flow: dict[str, Any]) -> None:
        await temporal_env.client.get_schedule_handle(schedule_id_for(flow["id"])).trigger()

    async def message(flow: dict[str, Any]) -> None:
        await _signed_sms(api, "+15550100304", number, "what is the PRICE")

    async def manual(flow: dict[str, Any]) -> None:
        await post(f"/api/flows/{flow['id']}/executions", {"contact": {"name": "Mo"}})

    fired: dict[str, tuple[dict[str, Any], Fire]] = {
        "lead_created": ({"type": "lead_created"}, lead),
        "call_incoming": ({"type": "call_incoming"}, call),
        "campaign": ({"type": "campaign", "campaign_trigger": "manual"}, assigned),
        "event": ({"type": "event", "event": "order.created"}, event),
        "schedule": ({"type": "schedule", "cron": "0 0 1 1 *"}, schedule),
        "message_received": (
            {"type": "message_received", "channel": "sms", "to": number, "keywords": ["price"]},
            message,
        ),
        "manual": ({"type": "manual"}, manual),
    }
    assert sorted(fired) == sorted(get_args(TriggerType))  # a new type must fire here too

    for kind, (trigger, fire) in fired.items():
        make = _answering if kind == "call_incoming" else _texting
        flow = await make_flow(api, tenant, make(kind), name=kind, trigger=trigger)
        await fire(flow)
        run = await _only_run(api, tenant, flow["id"])
        done = await wait_for_status(api, tenant, run["id"], "completed")
        [sms] = await outbox(api, tenant, done["id"])
        assert sms["content"]["body"] == f"fired by {kind}", kind
        assert done["trigger"]["type"] == kind


@pytest.mark.parametrize(
    ("trigger", "path"),
    [
        ({"type": "carrier_pigeon"}, "$.trigger.type"),
        ({"type": "lead_created", "conditions": [{"field": "x", "op": "near"}]}, None),
        ({"type": "campaign"}, "$.trigger.campaign_trigger"),
        ({"type": "campaign", "campaign_trigger": "sideways"}, "$.trigger.campaign_trigger"),
        ({"type": "campaign", "campaign_trigger": "manual", "campaign": "x"}, None),
        ({"type": "event"}, "$.trigger.event"),
        ({"type": "schedule"}, None),
        ({"type": "schedule", "cron": "61 * * * *"}, "$.trigger.cron"),
        ({"type": "message_received", "channel": "fax"}, "$.trigger.channel"),
    ],
)
async def test_a_trigger_that_could_not_fire_is_refused_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys, trigger: dict[str, Any], path: str | None
) -> None:
    body = {"name": "Never fires", "trigger": trigger, "definition": _texting("nothing")}
    created = await api.post("/api/flows", json=body, headers=tenant.auth("manager"))
    assert created.status_code == 422, created.text
    paths = [d["path"] for d in created.json()["error"]["details"]]
    assert all(p.startswith("$.trigger") for p in paths), paths
    if path is not None:
        assert path in paths, paths

    flow = await make_flow(api, tenant, _texting("manual"), name="Manual first")
    patched = await api.patch(
        f"/api/flows/{flow['id']}", json={"trigger": trigger}, headers=tenant.auth("manager")
    )
    assert patched.status_code == 422, patched.text
    read = await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth("viewer"))
    assert read.json()["trigger"] is None  # nothing stored
    listed = await api.get("/api/flows", headers=tenant.auth("viewer"))
    assert [f["name"] for f in listed.json()] == ["Manual first"]
