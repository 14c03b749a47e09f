"""A call to a number deployed for a campaign fires the campaign's `inbound_start` flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from temporalio.worker import Worker

from api.routes import webhooks_twilio
from callsim import SimulatedCall
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.calls.conftest import CALLER, Deploy
from tests.engagement.helpers import executions, outbox, sms_flow, stored_execution

GREETING: dict[str, Any] = {
    "start": "hello",
    "nodes": [{"id": "hello", "type": "say", "config": {"text": "Hello from the launch."}}],
}


async def _campaign(api: httpx.AsyncClient, tenant: TenantKeys, name: str) -> str:
    response = await api.post("/api/campaigns", json={"name": name}, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _assign(
    api: httpx.AsyncClient, tenant: TenantKeys, campaign_id: str, flow_id: str, trigger: str
) -> None:
    response = await api.post(
        f"/api/campaigns/{campaign_id}/flows",
        json={"flow_id": flow_id, "trigger": trigger},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 201, response.text


async def test_a_call_to_a_campaign_number_starts_its_inbound_start_flow(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    engine: Engine,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    campaign_id = await _campaign(api, tenant, "Launch")
    welcome = await make_flow(api, tenant, sms_flow("Welcome"), name="Welcome")
    outbound = await make_flow(api, tenant, sms_flow("Outbound"), name="Outbound")
    await _assign(api, tenant, campaign_id, welcome["id"], "inbound_start")
    await _assign(api, tenant, campaign_id, outbound["id"], "outbound_start")
    _, number = await deploy(GREETING, campaign_id=campaign_id)

    call = phone(number)
    answered = await call.start()
    assert answered.spoken() == ["Hello from the launch."]
    await webhooks_twilio.settled()

    [run] = await executions(api, tenant, flow_id=welcome["id"])
    done = await wait_for_status(api, tenant, run["id"], "completed")
    [sms] = await outbox(api, tenant, done["id"])
    assert sms["to"] == CALLER
    trigger = stored_execution(engine, done["id"]).trigger
    assert trigger is not None
    assert (trigger["campaign_trigger"], trigger["campaign_id"], trigger["call_id"]) == (
        "inbound_start",
        campaign_id,
        call.call_sid,
    )
    assert trigger["agent_id"] is None
    assert trigger["context"]["to"] == number
    assert await executions(api, tenant, flow_id=outbound["id"]) == []


async def test_a_call_to_a_number_without_a_campaign_starts_no_campaign_flow(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    campaign_id = await _campaign(api, tenant, "Launch")
    welcome = await make_flow(api, tenant, sms_flow("Welcome"), name="Welcome")
    await _assign(api, tenant, campaign_id, welcome["id"], "inbound_start")
    _, number = await deploy(GREETING)

    answered = await phone(number).start()
    assert answered.spoken() == ["Hello from the launch."]
    await webhooks_twilio.settled()
    assert await executions(api, tenant, flow_id=welcome["id"]) == []


async def test_a_retried_voice_webhook_fires_the_campaign_once(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
) -> None:
    campaign_id = await _campaign(api, tenant, "Launch")
    welcome = await make_flow(api, tenant, sms_flow("Welcome"), name="Welcome", cooldown_minutes=0)
    await _assign(api, tenant, campaign_id, welcome["id"], "inbound_start")
    _, number = await deploy(GREETING, campaign_id=campaign_id)

    call = phone(number)
    first = await call.start()
    again = await call.start()  # Twilio retries the webhook with the same CallSid
    assert first.spoken() == again.spoken() == ["Hello from the launch."]
    await webhooks_twilio.settled()
    assert len(await executions(api, tenant, flow_id=welcome["id"])) == 1
