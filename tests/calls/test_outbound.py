"""Outbound calls reuse the call session: once answered, the flow's voice steps run on them.

The sandbox voice provider places no real call; the test plays Twilio: the answered call
asks Flowdeck's voice webhook (`?execution=<id>`, as the placed call's URL says) for TwiML.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from temporalio.worker import Worker

from callsim import SimulatedCall
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.calls.conftest import AUTH_TOKEN, PUBLIC_URL, SaveHistory

CONTACT = "+15558880001"
SURVEY: list[dict[str, Any]] = [
    {
        "id": "ask",
        "type": "gather",
        "config": {"prompt": "Hello {{ contact.name }}. Press 1 to confirm your order."},
        "transitions": {"input": "thanks", "timeout": "thanks"},
    },
    {"id": "thanks", "type": "say", "config": {"text": "You pressed {{ call.digits }}. Bye."}},
]


async def _placed_call(api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str) -> str:
    for _ in range(100):
        response = await api.get(
            "/api/outbox", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
        )
        assert response.status_code == 200, response.text
        calls = [m for m in response.json()["items"] if m["channel"] == "voice"]
        if calls:
            return str(calls[0]["provider_id"])
        await asyncio.sleep(0.05)
    raise AssertionError("no call was placed")


def _answer(api: httpx.AsyncClient, sid: str) -> SimulatedCall:
    return SimulatedCall(
        client=api,
        auth_token=AUTH_TOKEN,
        public_url=PUBLIC_URL,
        to=CONTACT,
        from_="+15550003333",
        call_sid=sid,
        direction="outbound-api",
    )


async def test_an_ai_call_answered_runs_the_flows_voice_steps_on_the_call(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, save_history: SaveHistory
) -> None:
    flow = await make_flow(
        api,
        tenant,
        {
            "start": "call",
            "nodes": [
                {
                    "id": "call",
                    "type": "ai_call",
                    "transitions": {"answered": "ask", "missed": "sms"},
                },
                *SURVEY,
                {"id": "sms", "type": "sms", "config": {"body": "We missed you."}},
            ],
        },
    )
    execution = await run(api, tenant, flow["id"], contact={"name": "Ann", "phone": CONTACT})
    sid = await _placed_call(api, tenant, execution["id"])

    call = _answer(api, sid)
    asked = await call.start(path=f"/webhooks/twilio/voice?execution={execution['id']}")
    assert asked.spoken() == ["Hello Ann. Press 1 to confirm your order."]
    done = await call.press("1")
    assert done.spoken() == ["You pressed 1. Bye."] and done.hangs_up

    finished = await wait_for_status(api, tenant, execution["id"], "completed")
    ports = [(s["node_id"], s["port"]) for s in finished["steps"]]
    assert ports == [("call", "answered"), ("ask", "input"), ("thanks", "next")]
    await save_history(execution["id"], "call_outbound_ai_call")


async def test_an_ai_call_a_machine_answers_leaves_by_voicemail_and_speaks_on_it(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, save_history: SaveHistory
) -> None:
    """Twilio's machine detection answers in the voice webhook's own request (AnsweredBy):
    the flow leaves by `voicemail`, and its voice steps there drop a message on the call."""
    flow = await make_flow(
        api,
        tenant,
        {
            "start": "call",
            "nodes": [
                {
                    "id": "call",
                    "type": "ai_call",
                    "config": {"machine_detection": True},
                    "transitions": {"answered": "ask", "voicemail": "message"},
                },
                *SURVEY,
                {"id": "message", "type": "say", "config": {"text": "Hi {{ contact.name }}."}},
            ],
        },
    )
    execution = await run(api, tenant, flow["id"], contact={"name": "Ann", "phone": CONTACT})
    sid = await _placed_call(api, tenant, execution["id"])

    call = _answer(api, sid)
    path = f"/webhooks/twilio/voice?execution={execution['id']}"
    dropped = await call.start(path=path, answered_by="machine_end_beep")
    assert dropped.spoken() == ["Hi Ann."] and dropped.hangs_up

    finished = await wait_for_status(api, tenant, execution["id"], "completed")
    ports = [(s["node_id"], s["port"]) for s in finished["steps"]]
    assert ports == [("call", "voicemail"), ("message", "next")]
    assert finished["steps"][0]["result"]["answered_by"] == "machine_end_beep"
    await save_history(execution["id"], "call_outbound_machine")


async def test_a_run_with_a_call_places_it_and_runs_the_flow_on_it(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await make_flow(api, tenant, {"start": "ask", "nodes": SURVEY})
    execution = await run(
        api, tenant, flow["id"], contact={"name": "Bo"}, call={"to": CONTACT, "ring_timeout_s": 20}
    )
    sid = await _placed_call(api, tenant, execution["id"])

    call = _answer(api, sid)
    asked = await call.start(path=f"/webhooks/twilio/voice?execution={execution['id']}")
    assert asked.spoken() == ["Hello Bo. Press 1 to confirm your order."]
    done = await call.silence()
    assert done.spoken() == ["You pressed . Bye."] or done.spoken() == ["You pressed None. Bye."]

    finished = await wait_for_status(api, tenant, execution["id"], "completed")
    assert finished["contact"]["phone"] == CONTACT
    steps = [(s["node_id"], s["port"]) for s in finished["steps"]]
    assert steps == [("outbound_call", "answered"), ("ask", "timeout"), ("thanks", "next")]


async def test_a_run_whose_call_is_not_answered_ends_without_running_the_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await make_flow(api, tenant, {"start": "ask", "nodes": SURVEY})
    execution = await run(api, tenant, flow["id"], call={"to": CONTACT})
    await _placed_call(api, tenant, execution["id"])
    simulated = await api.post(
        f"/api/executions/{execution['id']}/simulate",
        json={"call": "busy"},
        headers=tenant.auth("manager"),
    )
    assert simulated.status_code in (200, 202), simulated.text

    finished = await wait_for_status(api, tenant, execution["id"], "completed")
    assert finished["reason"] == "the call was not answered: busy"
    assert [s["node_id"] for s in finished["steps"]] == ["outbound_call"]


async def test_a_call_to_a_number_that_is_not_e164_is_refused_with_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, {"start": "ask", "nodes": SURVEY})
    response = await api.post(
        f"/api/flows/{flow['id']}/executions",
        json={"call": {"to": "0800 CALL ME"}},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 422
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$.call.to"]
