"""Twilio's webhooks, signed as Twilio signs them, driving real executions on a real worker.

The flows use the sandbox providers (the worker's defaults); the callbacks name the sandbox
call's sid, as Twilio's would name a real one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.worker import Worker
from twilio.request_validator import RequestValidator

from activities import messaging
from store.db import session_scope
from store.models import ExecutionStep, OutboxMessage
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.channels.conftest import AUTH_TOKEN, PUBLIC_URL, FakeTwilio, Steps, unique_phone

CALL_FLOW: dict[str, Any] = {
    "start": "call",
    "nodes": [
        {
            "id": "call",
            "type": "ai_call",
            "config": {"agent_id": "sales-bot", "ring_timeout_s": 30},
            "transitions": {
                "answered": "done",
                "missed": "wa",
                "busy": "wa",
                "failed": "wa",
                "voicemail": "wa",
            },
        },
        {
            "id": "wa",
            "type": "whatsapp",
            "config": {"template": "lead_followup", "params": {"1": "{{ contact.name }}"}},
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}
ASK_FLOW: dict[str, Any] = {
    "start": "ask",
    "nodes": [
        {
            "id": "ask",
            "type": "send_and_wait",
            "config": {"channel": "whatsapp", "body": "Shall we call you? Reply YES or NO"},
            "transitions": {"reply": "thanks", "timeout": "done"},
        },
        {
            "id": "thanks",
            "type": "sms",
            "config": {"body": "You said: {{ steps.ask.reply }}"},
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


def sign(path: str, params: dict[str, str]) -> str:
    return str(RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_URL + path, params))


async def twilio_post(
    api: httpx.AsyncClient, path: str, params: dict[str, str], signature: str | None = ""
) -> httpx.Response:
    """POST a form as Twilio does; `signature` "" signs it, None sends none."""
    headers = {}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature or sign(path, params)
    return await api.post(path, data=params, headers=headers)


async def waiting_step(
    api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str, node_id: str
) -> dict[str, Any]:
    execution = await wait_for_status(api, tenant, execution_id, "waiting")
    [step] = [s for s in execution["steps"] if s["node_id"] == node_id]
    assert step["status"] == "waiting", execution
    return dict(step)


def outbox_by_sid(engine: Engine, sid: str) -> OutboxMessage:
    with session_scope(engine) as session:
        return session.exec(select(OutboxMessage).where(OutboxMessage.provider_id == sid)).one()


async def start(
    api: httpx.AsyncClient, tenant: TenantKeys, definition: dict[str, Any], phone: str
) -> str:
    flow = await make_flow(api, tenant, definition)
    execution = await run(api, tenant, flow["id"], contact={"name": "Asha", "phone": phone})
    return str(execution["id"])


def ports(execution: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(s["node_id"], s["port"]) for s in execution["steps"]]


async def test_a_missed_call_callback_sends_the_flow_down_missed(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    execution_id = await start(api, tenant, CALL_FLOW, unique_phone())
    step = await waiting_step(api, tenant, execution_id, "call")
    call_sid = step["result"]["call_sid"]
    assert call_sid.startswith("CA") and len(call_sid) == 34

    ringing = await twilio_post(
        api, "/webhooks/twilio/status", {"CallSid": call_sid, "CallStatus": "ringing"}
    )
    missed = await twilio_post(
        api,
        "/webhooks/twilio/status",
        {"CallSid": call_sid, "CallStatus": "no-answer", "CallDuration": "0"},
    )

    assert ringing.status_code == missed.status_code == 200
    assert missed.headers["content-type"].startswith("text/xml")
    assert "<Response" in missed.text
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done) == [("call", "missed"), ("wa", "sent"), ("done", None)]
    assert done["steps"][0]["result"]["status"] == "no-answer"
    assert outbox_by_sid(engine, call_sid).status == "no-answer"


async def test_an_answered_call_by_a_machine_is_voicemail(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    execution_id = await start(api, tenant, CALL_FLOW, unique_phone())
    call_sid = (await waiting_step(api, tenant, execution_id, "call"))["result"]["call_sid"]

    response = await twilio_post(
        api,
        "/webhooks/twilio/status",
        {
            "CallSid": call_sid,
            "CallStatus": "completed",
            "AnsweredBy": "machine_start",
            "CallDuration": "17",
        },
    )

    assert response.status_code == 200
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done)[0] == ("call", "voicemail")
    assert done["steps"][0]["result"]["duration_s"] == 17


@pytest.mark.parametrize(
    "signature", [None, "bm90IGEgc2lnbmF0dXJl", "wrong-url"], ids=["missing", "bad", "other-url"]
)
async def test_unsigned_or_badly_signed_callbacks_are_403_and_change_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    engine: Engine,
    signature: str | None,
) -> None:
    execution_id = await start(api, tenant, CALL_FLOW, unique_phone())
    call_sid = (await waiting_step(api, tenant, execution_id, "call"))["result"]["call_sid"]
    params = {"CallSid": call_sid, "CallStatus": "no-answer"}
    if signature == "wrong-url":
        signature = str(
            RequestValidator(AUTH_TOKEN).compute_signature("https://evil.example/x", params)
        )

    response = await twilio_post(api, "/webhooks/twilio/status", params, signature=signature)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert outbox_by_sid(engine, call_sid).status == "queued"
    await asyncio.sleep(0.3)
    still = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
    assert still.json()["status"] == "waiting"


async def test_a_tampered_field_breaks_the_signature(api: httpx.AsyncClient) -> None:
    params = {"CallSid": "CA" + "0" * 32, "CallStatus": "completed"}
    signature = sign("/webhooks/twilio/status", params)

    response = await twilio_post(
        api, "/webhooks/twilio/status", {**params, "CallStatus": "busy"}, signature=signature
    )

    assert response.status_code == 403


UNKNOWN_CALL = {"CallSid": "CA" + "7" * 32, "CallStatus": "completed"}
STATUS = "/webhooks/twilio/status"


async def test_a_signature_over_the_url_with_its_port_is_accepted(api: httpx.AsyncClient) -> None:
    """Twilio is not consistent about the port in the URL it signs; its library accepts both."""
    with_port = PUBLIC_URL.replace(
        "https://flowdeck.example.com", "https://flowdeck.example.com:443"
    )
    signature = RequestValidator(AUTH_TOKEN).compute_signature(with_port + STATUS, UNKNOWN_CALL)

    response = await twilio_post(api, STATUS, UNKNOWN_CALL, signature=str(signature))

    assert response.status_code == 200


async def test_blank_and_non_ascii_fields_are_signed_like_any_other(
    api: httpx.AsyncClient,
) -> None:
    params = {
        **UNKNOWN_CALL,
        "CallerCity": "",
        "FromCity": "Zürich",
        "SpeechResult": "ja, grüezi & 1+1=2",
    }
    signature = sign(STATUS, params)
    blank_changed = {**params, "CallerCity": "Bern"}
    blank_dropped = {k: v for k, v in params.items() if k != "CallerCity"}

    signed = await twilio_post(api, STATUS, params, signature=signature)
    changed = await twilio_post(api, STATUS, blank_changed, signature=signature)
    dropped = await twilio_post(api, STATUS, blank_dropped, signature=signature)

    assert [signed.status_code, changed.status_code, dropped.status_code] == [200, 403, 403]


async def test_a_signature_header_that_is_not_ascii_is_403(api: httpx.AsyncClient) -> None:
    headers = {"X-Twilio-Signature": "sïgnätüre=".encode()}

    response = await api.post(STATUS, data=UNKNOWN_CALL, headers=headers)

    assert response.status_code == 403


async def test_callbacks_for_unknown_calls_and_messages_are_answered_and_ignored(
    api: httpx.AsyncClient,
) -> None:
    call = await twilio_post(
        api, "/webhooks/twilio/status", {"CallSid": "CA" + "9" * 32, "CallStatus": "completed"}
    )
    status = await twilio_post(
        api,
        "/webhooks/twilio/messaging",
        {"MessageSid": "SM" + "9" * 32, "MessageStatus": "delivered"},
    )
    inbound = await twilio_post(
        api,
        "/webhooks/twilio/messaging",
        {"MessageSid": "SM" + "8" * 32, "From": unique_phone(), "To": "+1555", "Body": "hi"},
    )

    assert [call.status_code, status.status_code, inbound.status_code] == [200, 200, 200]
    assert inbound.headers["content-type"].startswith("text/xml")
    assert "<Response" in inbound.text


async def test_a_whatsapp_reply_reaches_the_waiting_step(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, engine: Engine
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, ASK_FLOW, phone)
    step = await waiting_step(api, tenant, execution_id, "ask")
    assert step["result"]["to"] == phone and step["result"]["channel"] == "whatsapp"

    response = await twilio_post(
        api,
        "/webhooks/twilio/messaging",
        {
            "MessageSid": "SM" + "1" * 32,
            "From": f"whatsapp:{phone}",
            "To": "whatsapp:+15550002222",
            "Body": "YES please",
            "SmsStatus": "received",
        },
    )

    assert response.status_code == 200
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done) == [("ask", "reply"), ("thanks", "sent"), ("done", None)]
    assert done["steps"][0]["result"]["reply"] == "YES please"
    outbox = await api.get(
        "/api/outbox", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
    )
    newest = outbox.json()["items"][0]
    assert (newest["channel"], newest["content"]["body"]) == ("sms", "You said: YES please")


async def test_a_reply_from_an_sms_number_does_not_answer_a_whatsapp_question(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, ASK_FLOW, phone)
    await waiting_step(api, tenant, execution_id, "ask")

    response = await twilio_post(
        api,
        "/webhooks/twilio/messaging",
        {"MessageSid": "SM" + "2" * 32, "From": phone, "To": "+15550001111", "Body": "YES"},
    )

    assert response.status_code == 200
    await asyncio.sleep(0.3)
    still = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
    assert still.json()["status"] == "waiting"


async def test_delivery_status_callbacks_update_the_message_and_its_step(
    api: httpx.AsyncClient, steps: Steps, fake_twilio: FakeTwilio, engine: Engine
) -> None:
    ctx = steps.context("sms", {"to": "+919800000001", "body": "Hi"})
    output = await messaging.send_sms(ctx)
    sid = output.result["message_sid"]
    with session_scope(engine) as session:
        session.add(
            ExecutionStep(
                execution_id=steps.seed.execution_id,
                tenant_id=steps.seed.tenant_id,
                seq=ctx.data.seq,
                node_id=ctx.data.node_id,
                node_type="sms",
                status="success",
                port="sent",
                result=output.result,
            )
        )

    for status in ("sent", "delivered", "sent"):  # the late "sent" must not undo "delivered"
        response = await twilio_post(
            api, "/webhooks/twilio/messaging", {"MessageSid": sid, "MessageStatus": status}
        )
        assert response.status_code == 200

    assert outbox_by_sid(engine, sid).status == "delivered"
    step = steps.seed.step(ctx.data.seq)
    assert step is not None and step.result is not None
    assert step.result["delivery_status"] == "delivered"
    assert step.result["message_sid"] == sid


async def test_an_unsigned_reply_is_403_and_the_step_keeps_waiting(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    phone = unique_phone()
    execution_id = await start(api, tenant, ASK_FLOW, phone)
    await waiting_step(api, tenant, execution_id, "ask")
    params = {"MessageSid": "SM" + "3" * 32, "From": f"whatsapp:{phone}", "Body": "YES"}

    unsigned = await twilio_post(api, "/webhooks/twilio/messaging", params, signature=None)
    forged = await twilio_post(api, "/webhooks/twilio/messaging", params, signature="Zm9yZ2Vk")

    assert unsigned.status_code == forged.status_code == 403
    assert forged.json()["error"]["message"] == "missing or invalid X-Twilio-Signature"
    await asyncio.sleep(0.3)
    still = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
    assert still.json()["status"] == "waiting"
