"""Calls routed by the API (`POST /api/departments/route`) end like transferred ones: the
agent is freed when the call with it ends, a missed agent's caller waits in the queue, and
the freed agent is offered the next caller. Twilio's callbacks are signed posts from
`callsim.SimulatedCall` to the URLs in the TwiML the call was redirected to."""

from __future__ import annotations

from typing import Any

import httpx

from callsim import SimulatedCall, Twiml
from tests.api.helpers import TenantKeys
from tests.calls.conftest import PUBLIC_URL
from tests.calls.test_transfer import (
    ASHA,
    BO,
    SALES_LINE,
    Phone,
    _agent_status,
    _set_status,
    offers_to,
    sales,
)

__all__ = ["sales"]  # fixture, used here

ROUTED = f"{PUBLIC_URL}/webhooks/twilio/voice/routed"


async def _route(api: httpx.AsyncClient, tenant: TenantKeys, call_sid: str) -> dict[str, Any]:
    response = await api.post(
        "/api/departments/route",
        json={"call_sid": call_sid, "department": "Sales"},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _dialled_to_asha(
    api: httpx.AsyncClient, tenant: TenantKeys, phone: Phone, sales: dict[str, Any]
) -> tuple[SimulatedCall, dict[str, Any]]:
    """Asha available, and a call routed to Sales: dialled to her."""
    await _set_status(api, tenant, sales["agent"]["id"], "available")
    call = phone(SALES_LINE)
    dialled = await _route(api, tenant, call.call_sid)
    assert dialled["agent"]["name"] == "Asha"
    return call, dialled


async def _redirected_to(api: httpx.AsyncClient, tenant: TenantKeys, call_sid: str) -> Twiml:
    """The TwiML the live call was redirected to (the sandbox outbox's `route_call` row)."""
    outbox = await api.get(
        "/api/outbox", params={"channel": "voice"}, headers=tenant.auth("viewer")
    )
    [row] = [m for m in outbox.json()["items"] if m["to"] == call_sid]
    assert row["content"]["purpose"] == "route_call"
    return Twiml.parse(row["content"]["twiml"])


def _action(twiml: Twiml | None) -> str:
    assert twiml is not None and twiml.waiting_on is not None
    return twiml.waiting_on.attrib["action"]


async def _queue(api: httpx.AsyncClient, tenant: TenantKeys, department_id: str) -> list[str]:
    response = await api.get(
        f"/api/departments/{department_id}/queue", headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return [e["call_sid"] for e in response.json()]


async def test_the_agent_is_freed_when_the_routed_call_ends_and_takes_the_next_caller(
    api: httpx.AsyncClient, tenant: TenantKeys, phone: Phone, sales: dict[str, Any]
) -> None:
    asha = sales["agent"]
    await _set_status(api, tenant, asha["id"], "available")
    first, second = phone(SALES_LINE), phone(SALES_LINE)
    dialled = await _route(api, tenant, first.call_sid)
    queued = await _route(api, tenant, second.call_sid)
    assert (dialled["status"], queued["status"]) == ("dialing", "queued")
    first.twiml = await _redirected_to(api, tenant, first.call_sid)
    second.twiml = await _redirected_to(api, tenant, second.call_sid)
    assert _action(first.twiml) == (
        f"{ROUTED}?entry={dialled['queue_entry_id']}&agent={asha['id']}"
    )

    ended = await first.dial_ends("completed", duration_s=95)

    assert ended.verbs == ["Hangup"]
    # Asha is free, and at once offered the caller who waited.
    assert await _agent_status(api, tenant, asha["id"]) == "busy"
    [offer] = await offers_to(api, tenant, ASHA)
    assert offer["content"]["queue_entry_id"] == queued["queue_entry_id"]
    assert await _queue(api, tenant, sales["department"]["id"]) == []

    queue_action = _action(second.twiml)
    bridged = await second.queue_ends("bridged", queue_time_s=40)

    assert bridged.verbs == ["Hangup"]
    assert await _agent_status(api, tenant, asha["id"]) == "available"
    # A retried callback changes nothing more.
    again = await second.post(queue_action, {"QueueResult": "bridged"})
    assert again.status_code == 200
    assert await _agent_status(api, tenant, asha["id"]) == "available"
    assert len(await offers_to(api, tenant, ASHA)) == 1


async def test_a_missed_agent_goes_offline_and_the_caller_waits_for_the_next_one(
    api: httpx.AsyncClient, tenant: TenantKeys, phone: Phone, sales: dict[str, Any]
) -> None:
    asha = sales["agent"]
    call, dialled = await _dialled_to_asha(api, tenant, phone, sales)
    bo = await api.post(
        "/api/agents",
        json={"name": "Bo", "phone": BO, "department_ids": [sales["department"]["id"]]},
        headers=tenant.auth("manager"),
    )
    assert bo.status_code == 201, bo.text
    await _set_status(api, tenant, bo.json()["id"], "available")  # nobody waits for Bo yet
    call.twiml = await _redirected_to(api, tenant, call.call_sid)

    dial_action = _action(call.twiml)
    missed = await call.dial_ends("no-answer")

    assert missed.verbs == ["Say", "Enqueue"]
    assert missed.spoken() == ["Nobody could take your call just now. Please hold."]
    enqueue = missed.first("Enqueue")
    assert enqueue is not None and enqueue.text == f"fd-{sales['department']['id']}-p5"
    assert enqueue.attrib["action"] == f"{ROUTED}?entry={dialled['queue_entry_id']}"
    assert await _agent_status(api, tenant, asha["id"]) == "offline"
    assert await _agent_status(api, tenant, bo.json()["id"]) == "busy"
    [offer] = await offers_to(api, tenant, BO)
    assert offer["content"]["queue_entry_id"] == dialled["queue_entry_id"]

    # Twilio retries the same callback: the same answer, no second offer.
    retried = await call.post(dial_action, {"DialCallStatus": "no-answer"})
    assert Twiml.parse(retried.text).verbs == ["Say", "Enqueue"]
    assert len(await offers_to(api, tenant, BO)) == 1

    connected = await call.queue_ends("bridged", queue_time_s=30)

    assert connected.verbs == ["Hangup"]
    assert await _agent_status(api, tenant, bo.json()["id"]) == "available"
    assert await _agent_status(api, tenant, asha["id"]) == "offline"


async def test_a_caller_who_hangs_up_in_the_queue_leaves_it(
    api: httpx.AsyncClient, tenant: TenantKeys, phone: Phone, sales: dict[str, Any]
) -> None:
    call = phone(SALES_LINE)
    queued = await _route(api, tenant, call.call_sid)
    assert queued["status"] == "queued"
    assert await _queue(api, tenant, sales["department"]["id"]) == [call.call_sid]
    call.twiml = await _redirected_to(api, tenant, call.call_sid)

    left = await call.queue_ends("hangup", queue_time_s=12)

    assert left.verbs == ["Hangup"]
    assert await _queue(api, tenant, sales["department"]["id"]) == []
    # Asha, set free later, is offered nobody.
    freed = await _set_status(api, tenant, sales["agent"]["id"], "available")
    assert freed["status"] == "available"
    assert await offers_to(api, tenant, ASHA) == []


async def test_routed_callbacks_are_signature_checked_and_name_a_known_entry(
    api: httpx.AsyncClient, tenant: TenantKeys, phone: Phone, sales: dict[str, Any]
) -> None:
    asha = sales["agent"]
    call, dialled = await _dialled_to_asha(api, tenant, phone, sales)
    url = f"{ROUTED}?entry={dialled['queue_entry_id']}"
    fields = {"DialCallStatus": "completed"}

    forged = await call.post(url, fields, signature=call.sign(url, {"DialCallStatus": "x"}))
    unknown = await call.post(f"{ROUTED}?entry=nosuchentry", fields)

    assert forged.status_code == 403
    assert await _agent_status(api, tenant, asha["id"]) == "busy"
    assert unknown.status_code == 404
    assert "no routed call 'nosuchentry'" in unknown.text
