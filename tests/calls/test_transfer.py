"""Transfers to a department: an available agent is dialled, else the caller waits in the
department's queue until an agent is free; the agent is busy while connected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import Deploy, SaveHistory

SALES_LINE = "+15550104040"
ASHA = "+15550105050"
BO = "+15550106060"
Phone = Callable[..., SimulatedCall]


def menu_flow() -> dict[str, Any]:
    return {
        "start": "menu",
        "nodes": [
            {
                "id": "menu",
                "type": "gather",
                "config": {"prompt": "Press 1 for support, 2 for sales.", "num_digits": 1},
                "transitions": {"input": "route"},
            },
            {
                "id": "route",
                "type": "condition",
                "config": {"when": {"var": "call.digits", "op": "eq", "value": "2"}},
                "transitions": {"true": "sales", "false": "menu"},
            },
            {
                "id": "sales",
                "type": "transfer",
                "config": {"department": "Sales", "timeout_s": 25},
                "transitions": {"connected": "bye", "no_answer": "sorry", "failed": "sorry"},
            },
            {"id": "sorry", "type": "say", "config": {"text": "Sorry, nobody could answer."}},
            {"id": "bye", "type": "hangup"},
        ],
    }


@pytest.fixture
async def sales(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    """The Sales department (queue `sales`) and its one agent, Asha, offline for now."""
    response = await api.post(
        "/api/departments",
        json={"name": "Sales", "queue": "sales", "phone_number": SALES_LINE},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 201, response.text
    department = response.json()
    response = await api.post(
        "/api/agents",
        json={"name": "Asha", "phone": ASHA, "department_ids": [department["id"]]},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 201, response.text
    return {"department": department, "agent": response.json()}


async def _agent_status(api: httpx.AsyncClient, tenant: TenantKeys, agent_id: str) -> str:
    response = await api.get(f"/api/agents/{agent_id}", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def _set_status(
    api: httpx.AsyncClient, tenant: TenantKeys, agent_id: str, status: str
) -> dict[str, Any]:
    response = await api.patch(
        f"/api/agents/{agent_id}", json={"status": status}, headers=tenant.auth("manager")
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _active_flows(
    api: httpx.AsyncClient, tenant: TenantKeys, agent_id: str
) -> list[dict[str, Any]]:
    response = await api.get(f"/api/agents/{agent_id}/flows/active", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return list(response.json())


async def _until_status(
    api: httpx.AsyncClient, tenant: TenantKeys, agent_id: str, status: str
) -> None:
    for _ in range(100):
        if await _agent_status(api, tenant, agent_id) == status:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"agent never became {status}")


async def test_an_available_agent_is_dialled_and_busy_until_the_call_ends(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    sales: dict[str, Any],
) -> None:
    agent = sales["agent"]
    await _set_status(api, tenant, agent["id"], "available")
    _, number = await deploy(menu_flow())
    call = phone(number)
    await call.start()

    dialling = await call.press("2")
    dial = dialling.first("Dial")
    assert dial is not None, dialling.text
    assert [n.text for n in dial.iter("Number")] == [ASHA]
    assert dial.attrib["callerId"] == SALES_LINE and dial.attrib["timeout"] == "25"
    assert await _agent_status(api, tenant, agent["id"]) == "busy"
    execution_id = execution_id_for_call(call.call_sid)
    [on_call] = await _active_flows(api, tenant, agent["id"])
    assert (on_call["execution_id"], on_call["kind"]) == (execution_id, "call")
    assert (on_call["call_sid"], on_call["flow_name"]) == (call.call_sid, "Call flow")

    end = await call.dial_ends("completed", duration_s=240)
    assert end.verbs == ["Hangup"]

    execution = await wait_for_status(api, tenant, execution_id, "completed")
    transfer = next(s for s in execution["steps"] if s["node_id"] == "sales")
    assert transfer["port"] == "connected"
    assert transfer["result"]["agent_name"] == "Asha"
    assert transfer["result"]["department"] == "Sales"
    await _until_status(api, tenant, agent["id"], "available")
    assert await _active_flows(api, tenant, agent["id"]) == []


async def test_an_agent_who_does_not_answer_leads_to_the_no_answer_port_and_goes_offline(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    sales: dict[str, Any],
) -> None:
    """As for a missed queue offer: the next caller is not dialled to the same empty desk."""
    await _set_status(api, tenant, sales["agent"]["id"], "available")
    _, number = await deploy(menu_flow())
    call = phone(number)
    await call.start()
    await call.press("2")

    sorry = await call.dial_ends("no-answer")

    assert sorry.spoken() == ["Sorry, nobody could answer."] and sorry.hangs_up
    await _until_status(api, tenant, sales["agent"]["id"], "offline")
    following = phone(number)
    await following.start()
    queued = await following.press("2")
    assert queued.first("Enqueue") is not None  # nobody available now: the queue
    await following.hang_up()
    await wait_for_status(api, tenant, execution_id_for_call(following.call_sid), "completed")


async def test_with_nobody_available_the_caller_queues_until_an_agent_is_free(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    sales: dict[str, Any],
    save_history: SaveHistory,
) -> None:
    department, agent = sales["department"], sales["agent"]
    _, number = await deploy(menu_flow())
    call = phone(number)
    await call.start()
    await call.press("7")  # not a choice: the menu again

    queued = await call.press("2")

    assert queued.spoken() == [
        "All agents of Sales are busy. Please hold, and you will be connected."
        " You are number 1 in the queue."
    ]
    enqueue = queued.first("Enqueue")
    queue = f"fd-{department['id']}-p5"  # the department's Twilio queue at priority 5
    assert enqueue is not None and enqueue.text == queue
    assert enqueue.attrib["waitUrl"].endswith("/webhooks/twilio/voice/wait")
    waiting = await api.get(
        f"/api/departments/{department['id']}/queue", headers=tenant.auth("viewer")
    )
    assert waiting.status_code == 200, waiting.text
    [entry] = waiting.json()
    assert entry["position"] == 1
    assert entry["context"]["path"] == ["menu", "route", "menu", "route", "sales"]
    music = await call.post(enqueue.attrib["waitUrl"])
    assert music.status_code == 200 and "<Say>" in music.text

    freed = await _set_status(api, tenant, agent["id"], "available")
    assert freed["status"] == "busy"  # offered the waiting caller at once
    [offer] = await offers_to(api, tenant, ASHA)
    assert f"<Dial><Queue>{queue}</Queue></Dial>" in offer["content"]["twiml"]

    connected = await call.queue_ends("bridged", queue_time_s=42)
    assert connected.verbs == ["Hangup"]
    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    transfer = next(s for s in execution["steps"] if s["node_id"] == "sales")
    assert transfer["port"] == "connected"
    assert transfer["result"]["queue_result"] == "bridged"
    assert transfer["result"]["agent_name"] == "Asha"
    await _until_status(api, tenant, agent["id"], "available")
    await save_history(execution_id, "call_queue_transfer")


async def test_a_caller_who_hangs_up_in_the_queue_leaves_it_and_the_execution_completes(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    sales: dict[str, Any],
) -> None:
    department = sales["department"]
    _, number = await deploy(menu_flow())
    call = phone(number)
    await call.start()
    await call.press("2")

    await call.hang_up(duration_s=75)

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["reason"] == "hangup"
    transfer = next(s for s in execution["steps"] if s["node_id"] == "sales")
    assert transfer["status"] == "skipped" and transfer["skip_reason"] == "the caller hung up"
    for _ in range(100):
        left = await api.get(
            f"/api/departments/{department['id']}/queue", headers=tenant.auth("viewer")
        )
        if left.json() == []:
            break
        await asyncio.sleep(0.05)
    assert left.json() == []


async def test_an_agent_who_misses_a_queue_offer_goes_offline_and_the_next_agent_gets_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    sales: dict[str, Any],
) -> None:
    asha = sales["agent"]
    bo = await api.post(
        "/api/agents",
        json={"name": "Bo", "phone": BO, "department_ids": [sales["department"]["id"]]},
        headers=tenant.auth("manager"),
    )
    assert bo.status_code == 201, bo.text
    _, number = await deploy(menu_flow())
    call = phone(number)
    await call.start()
    await call.press("2")  # nobody available: queued
    await _set_status(api, tenant, asha["id"], "available")  # offered to Asha
    await _set_status(api, tenant, bo.json()["id"], "available")  # nothing waits for Bo
    [offer] = await offers_to(api, tenant, ASHA)

    missed = await call.post(offer["content"]["status_callback"], {"CallStatus": "no-answer"})

    assert missed.status_code == 200
    assert await _agent_status(api, tenant, asha["id"]) == "offline"
    assert await _agent_status(api, tenant, bo.json()["id"]) == "busy"
    [offered_to_bo] = await offers_to(api, tenant, BO)
    assert offered_to_bo["content"]["queue_entry_id"] == offer["content"]["queue_entry_id"]
    connected = await call.queue_ends("bridged", queue_time_s=70)
    assert connected.verbs == ["Hangup"]
    execution = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid), "completed"
    )
    transfer = next(s for s in execution["steps"] if s["node_id"] == "sales")
    assert transfer["result"]["agent_name"] == "Bo"


async def offers_to(api: httpx.AsyncClient, tenant: TenantKeys, to: str) -> list[dict[str, Any]]:
    """The calls into a queue placed to `to` (the sandbox outbox's voice rows)."""
    outbox = await api.get(
        "/api/outbox", params={"channel": "voice"}, headers=tenant.auth("viewer")
    )
    return [m for m in outbox.json()["items"] if m["to"] == to]
