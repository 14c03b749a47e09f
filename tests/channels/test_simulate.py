"""Walking a flow locally: the sandbox call's outcome and the contact's reply, simulated."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from tests.api.helpers import TenantKeys, make_flow, run, set_flow, wait_for_status
from tests.channels.conftest import unique_phone
from tests.channels.test_webhooks import ASK_FLOW, CALL_FLOW, ports, start, waiting_step


async def simulate(
    api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await api.post(
        f"/api/executions/{execution_id}/simulate", json=body, headers=tenant.auth("manager")
    )


async def outbox(api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str) -> list[Any]:
    response = await api.get(
        "/api/outbox", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
    )
    return list(reversed(response.json()["items"]))


async def test_a_missed_sandbox_call_follows_missed_to_whatsapp(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, CALL_FLOW, phone)
    call_sid = (await waiting_step(api, tenant, execution_id, "call"))["result"]["call_sid"]
    [call] = await outbox(api, tenant, execution_id)
    assert (call["channel"], call["to"], call["status"]) == ("voice", phone, "queued")

    response = await simulate(api, tenant, execution_id, {"call": "missed"})

    assert response.status_code == 200, response.text
    assert response.json() == {
        "execution_id": execution_id,
        "signal": "call_status",
        "sent": {"call_sid": call_sid, "status": "no-answer", "answered_by": None, "duration_s": 0},
    }
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done) == [("call", "missed"), ("wa", "sent"), ("done", None)]
    sent = await outbox(api, tenant, execution_id)
    assert [(m["channel"], m["status"]) for m in sent] == [
        ("voice", "no-answer"),
        ("whatsapp", "sent"),
    ]
    assert sent[1]["content"]["params"] == {"1": "Asha"}


@pytest.mark.parametrize(
    ("outcome", "port"),
    [("answered", "answered"), ("voicemail", "voicemail"), ("busy", "busy"), ("failed", "failed")],
)
async def test_each_simulated_outcome_picks_its_port(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, outcome: str, port: str
) -> None:
    execution_id = await start(api, tenant, CALL_FLOW, unique_phone())
    await waiting_step(api, tenant, execution_id, "call")

    response = await simulate(api, tenant, execution_id, {"call": outcome})

    assert response.status_code == 200, response.text
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done)[0] == ("call", port)


async def test_a_simulated_reply_answers_send_and_wait(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, ASK_FLOW, phone)
    await waiting_step(api, tenant, execution_id, "ask")

    response = await simulate(api, tenant, execution_id, {"reply": "No thanks"})

    assert response.status_code == 200, response.text
    assert response.json()["sent"] == {
        "channel": "whatsapp",
        "from": phone,
        "body": "No thanks",
        "message_sid": None,
    }
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done) == [("ask", "reply"), ("thanks", "sent"), ("done", None)]
    assert done["steps"][0]["result"]["reply"] == "No thanks"


async def test_simulating_what_is_not_waiting_is_a_conflict(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    asking = await start(api, tenant, ASK_FLOW, unique_phone())
    await waiting_step(api, tenant, asking, "ask")
    no_call = await simulate(api, tenant, asking, {"call": "answered"})
    assert no_call.status_code == 409
    assert no_call.json()["error"]["message"] == (
        f"no sandbox call is waiting for its outcome in execution {asking}"
    )

    flow = await make_flow(api, tenant, set_flow())
    finished = (await run(api, tenant, flow["id"]))["id"]
    await wait_for_status(api, tenant, finished, "completed")
    late = await simulate(api, tenant, finished, {"reply": "hello"})
    assert late.status_code == 409
    assert late.json()["error"]["message"] == f"execution {finished} has already completed"


async def test_another_tenants_execution_is_not_found(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, worker: Worker
) -> None:
    execution_id = await start(api, tenant, CALL_FLOW, unique_phone())
    await waiting_step(api, tenant, execution_id, "call")

    response = await simulate(api, other_tenant, execution_id, {"call": "answered"})

    assert response.status_code == 404
    still = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
    assert still.json()["status"] == "waiting"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "$"),
        ({"call": "answered", "reply": "x"}, "$"),
        ({"call": "exploded"}, "$.call"),
        ({"reply": ""}, "$.reply"),
        ({"reply": "x", "extra": 1}, "$.extra"),
    ],
)
async def test_bad_simulations_are_422_with_a_path(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any], path: str
) -> None:
    response = await simulate(api, tenant, "nope", body)

    assert response.status_code == 422, response.text
    assert [d["path"] for d in response.json()["error"]["details"]] == [path]
