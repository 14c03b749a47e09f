"""An inbound SMS or WhatsApp that answers no waiting question starts the `message_received`
flow it matches, signed as Twilio signs it, on a real worker."""

from __future__ import annotations

import io
from typing import Any

import httpx
from temporalio.worker import Worker

from api.routes import webhooks_twilio
from tests.api.helpers import TenantKeys, make_flow, wait_for_status
from tests.channels.conftest import unique_phone
from tests.channels.test_webhooks import ASK_FLOW, ports, start, twilio_post, waiting_step
from tests.engagement.helpers import executions, outbox, sms_flow

MESSAGING = "/webhooks/twilio/messaging"


async def our_number(api: httpx.AsyncClient, tenant: TenantKeys) -> str:
    number = unique_phone()
    response = await api.post(
        "/api/phone-numbers", json={"number": number}, headers=tenant.auth("manager")
    )
    assert response.status_code == 201, response.text
    return number


def message_trigger(**keys: Any) -> dict[str, Any]:
    return {"type": "message_received", **keys}


async def message_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, text: str, **fields: Any
) -> dict[str, Any]:
    return await make_flow(api, tenant, sms_flow(text), name=text, **fields)


async def inbound(
    api: httpx.AsyncClient, sender: str, to: str, body: str, *, sid: str = "SM" + "7" * 32
) -> httpx.Response:
    """An inbound message, and whatever it set off after Twilio's answer."""
    form = {"MessageSid": sid, "From": sender, "To": to, "Body": body, "SmsStatus": "received"}
    response = await twilio_post(api, MESSAGING, form)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    await webhooks_twilio.settled()
    return response


async def test_an_inbound_sms_starts_the_keyword_flow_with_the_message(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    number, sender = await our_number(api, tenant), unique_phone()
    flow = await message_flow(
        api,
        tenant,
        "Our prices:",
        trigger=message_trigger(channel="sms", to=number, keywords=["price"]),
    )

    await inbound(api, sender, number, "PRICE please", sid="SM" + "3" * 32)

    [started] = await executions(api, tenant, flow_id=flow["id"])
    done = await wait_for_status(api, tenant, started["id"], "completed")
    assert done["trigger"]["message"] == {
        "body": "PRICE please",
        "from": sender,
        "to": number,
        "channel": "sms",
        "message_sid": "SM" + "3" * 32,
    }
    assert done["contact"]["phone"] == sender
    [sent] = await outbox(api, tenant, started["id"])
    assert (sent["channel"], sent["to"]) == ("sms", sender)


async def test_a_reply_to_a_waiting_question_goes_to_its_run_and_starts_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    number, phone = await our_number(api, tenant), unique_phone()
    flow = await message_flow(api, tenant, "Hello", trigger=message_trigger())
    execution_id = await start(api, tenant, ASK_FLOW, phone)
    await waiting_step(api, tenant, execution_id, "ask")

    await inbound(api, f"whatsapp:{phone}", f"whatsapp:{number}", "YES")

    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert ports(done)[0] == ("ask", "reply")
    assert await executions(api, tenant, flow_id=flow["id"]) == []


async def test_a_message_that_matches_no_trigger_starts_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, product_logs: io.StringIO
) -> None:
    number = await our_number(api, tenant)
    by_keyword = await message_flow(
        api, tenant, "Prices", trigger=message_trigger(keywords=["price"])
    )
    by_regex = await message_flow(
        api, tenant, "Orders", trigger=message_trigger(regex=r"order\s+#?\d+")
    )
    on_whatsapp = await message_flow(
        api, tenant, "WhatsApp only", trigger=message_trigger(channel="whatsapp")
    )
    elsewhere = await message_flow(
        api, tenant, "Other number", trigger=message_trigger(to=unique_phone())
    )

    sender = unique_phone()
    await inbound(api, sender, number, "priceless advice about my order")

    for flow in (by_keyword, by_regex, on_whatsapp, elsewhere):
        assert await executions(api, tenant, flow_id=flow["id"]) == [], flow["name"]
    logged = product_logs.getvalue()
    assert "twilio.inbound.no_waiting_step" in logged
    assert sender not in logged  # the contact's number is not logged


async def test_the_better_priority_wins_among_matching_flows(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    number = await our_number(api, tenant)
    second = await message_flow(
        api, tenant, "Second", priority=2, trigger=message_trigger(keywords=["order"])
    )
    first = await message_flow(
        api, tenant, "First", priority=1, trigger=message_trigger(regex=r"(?i)order\s+#?\d+")
    )

    await inbound(api, unique_phone(), number, "Where is my Order #1234?")

    [started] = await executions(api, tenant, flow_id=first["id"])
    assert await executions(api, tenant, flow_id=second["id"]) == []
    execution = await wait_for_status(api, tenant, started["id"], "completed")
    verdicts = {c["name"]: c for c in execution["match"]["candidates"]}
    assert verdicts["Second"]["matched"] and "ranks higher" in verdicts["Second"]["reason"]


async def test_a_dnc_contact_or_a_stop_message_starts_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    number, blocked, quitting = await our_number(api, tenant), unique_phone(), unique_phone()
    contact = {"name": "Ravi", "phone": blocked, "tags": ["dnc"]}
    created = await api.post("/api/contacts", json=contact, headers=tenant.auth("manager"))
    assert created.status_code == 201, created.text
    flow = await message_flow(api, tenant, "Anything", trigger=message_trigger())

    await inbound(api, blocked, number, "hello")
    await inbound(api, quitting, number, " Stop ")

    [skipped] = await executions(api, tenant, flow_id=flow["id"])
    assert skipped["status"] == "skipped"
    assert skipped["contact_phone"] == blocked


async def test_a_badly_signed_message_is_403_and_starts_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    number = await our_number(api, tenant)
    flow = await message_flow(api, tenant, "Anything", trigger=message_trigger())
    form = {"MessageSid": "SM" + "5" * 32, "From": unique_phone(), "To": number, "Body": "hi"}

    bad = await twilio_post(api, MESSAGING, form, signature="not-a-signature")
    unsigned = await twilio_post(api, MESSAGING, form, signature=None)
    await webhooks_twilio.settled()

    assert [bad.status_code, unsigned.status_code] == [403, 403]
    assert await executions(api, tenant, flow_id=flow["id"]) == []


async def test_a_trigger_with_a_bad_regex_or_channel_is_422_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    cases = [
        (message_trigger(regex="(a"), "$.trigger.regex"),
        (message_trigger(regex=r"(\w)\1"), "$.trigger.regex"),
        (message_trigger(channel="fax"), "$.trigger.channel"),
        (message_trigger(to="12345"), "$.trigger.to"),
        (message_trigger(keywords=["  "]), "$.trigger.keywords"),
    ]
    for trigger, path in cases:
        body = {"name": "Bad trigger", "trigger": trigger}
        response = await api.post("/api/flows", json=body, headers=tenant.auth("manager"))
        assert response.status_code == 422, response.text
        assert path in [d["path"] for d in response.json()["error"]["details"]], response.text

    fine = await api.post(
        "/api/flows",
        json={"name": "Any message", "trigger": message_trigger(channel="whatsapp")},
        headers=tenant.auth("manager"),
    )
    assert fine.status_code == 201, fine.text


def assign_flow(name: str, value: str) -> dict[str, Any]:
    """Sets `vars.<name>` to `value` (a template), then ends."""
    return {
        "start": "assign",
        "nodes": [
            {
                "id": "assign",
                "type": "set",
                "config": {"assign": {name: value}},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def test_a_conversation_keeps_its_variables_across_the_flows_it_triggers(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    number, phone = await our_number(api, tenant), unique_phone()
    asks = await make_flow(
        api,
        tenant,
        assign_flow("product", "{{ trigger.message.body }}"),
        name="Asks",
        trigger=message_trigger(keywords=["want"]),
    )
    buying = sms_flow("Buying")
    buying["nodes"][0]["config"]["body"] = "Buying {{ vars.product | default('nothing') }}."
    buys = await make_flow(
        api,
        tenant,
        buying,
        name="Buys",
        cooldown_minutes=0,
        trigger=message_trigger(keywords=["buy"]),
    )

    await inbound(api, phone, number, "I want the blue kettle")
    [asked] = await executions(api, tenant, flow_id=asks["id"])
    await wait_for_status(api, tenant, asked["id"], "completed")
    await inbound(api, phone, number, "buy it")
    await inbound(api, f"whatsapp:{phone}", f"whatsapp:{number}", "buy")

    bought = await executions(api, tenant, flow_id=buys["id"])
    by_channel: dict[str, str] = {}
    for started in bought:
        done = await wait_for_status(api, tenant, started["id"], "completed")
        [sent] = await outbox(api, tenant, started["id"])
        by_channel[done["trigger"]["message"]["channel"]] = sent["content"]["body"]
    assert by_channel == {"sms": "Buying I want the blue kettle.", "whatsapp": "Buying nothing."}
