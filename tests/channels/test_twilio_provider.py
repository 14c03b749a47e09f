"""The twilio provider through the real twilio library, against a fake Twilio on a local server.

Every request the library sends is checked against Twilio's OpenAPI description (path,
method, required and unknown parameters): `fake.violations` must stay empty.
"""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities import messaging
from providers.twilio_rest import HttpxTwilioClient, twilio_client
from store.db import session_scope
from store.models import OutboxMessage
from tests.channels.conftest import (
    ACCOUNT_SID,
    CONTENT_SID,
    FROM_SMS,
    FROM_VOICE,
    FROM_WHATSAPP,
    PUBLIC_URL,
    FakeTwilio,
    Steps,
    channel_settings,
    routed_to,
)
from tests.channels.contract import problems

MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
CALLS = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
TO = "+919800000001"


def outbox_row(steps: Steps, key: str) -> OutboxMessage:
    with session_scope(steps.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.idempotency_key == key)).one()
    return row


def posts(fake: FakeTwilio, path: str) -> list[dict[str, list[str]]]:
    return [r.form for r in fake.requests if r.method == "POST" and r.path == path]


async def test_sms_is_sent_through_twilio_with_a_status_callback(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("sms", {"to": TO, "body": "Hi Asha, thanks for your enquiry"})

    output = await messaging.send_sms(ctx)

    [message] = fake_twilio.messages
    assert posts(fake_twilio, MESSAGES) == [
        {
            "To": [TO],
            "From": [FROM_SMS],
            "Body": ["Hi Asha, thanks for your enquiry"],
            "StatusCallback": [f"{PUBLIC_URL}/webhooks/twilio/messaging"],
        }
    ]
    assert fake_twilio.violations == []
    assert output.port == "sent" and not output.waiting
    assert output.result["message_sid"] == message["sid"]
    assert output.result["provider"] == "twilio"
    row = outbox_row(steps, ctx.data.idempotency_key)
    assert (row.channel, row.provider, row.to, row.provider_id, row.status) == (
        "sms",
        "twilio",
        TO,
        message["sid"],
        "queued",
    )
    assert output.result["message_id"] == row.id


async def test_whatsapp_sends_the_approved_template_with_its_variables(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    config = {"to": TO, "template": "lead_followup", "params": {"1": "Asha", "2": "pumps"}}

    output = await messaging.send_whatsapp(steps.context("whatsapp", config))

    [form] = posts(fake_twilio, MESSAGES)
    assert form["To"] == [f"whatsapp:{TO}"]
    assert form["From"] == [f"whatsapp:{FROM_WHATSAPP}"]
    assert form["ContentSid"] == [CONTENT_SID]
    assert json.loads(form["ContentVariables"][0]) == {"1": "Asha", "2": "pumps"}
    assert "Body" not in form
    assert fake_twilio.violations == []
    assert output.result["message_sid"] == fake_twilio.messages[0]["sid"]


async def test_an_unmapped_whatsapp_template_fails_without_sending(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("whatsapp", {"to": TO, "template": "never_approved"})

    with pytest.raises(ApplicationError) as caught:
        await messaging.send_whatsapp(ctx)

    assert caught.value.non_retryable
    assert "never_approved" in caught.value.message
    assert "FLOWDECK_TWILIO_CONTENT_SIDS" in caught.value.message
    assert fake_twilio.requests == []


async def test_ai_call_places_a_call_with_callbacks_and_machine_detection(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    config = {"to": TO, "agent_id": "sales-bot", "ring_timeout_s": 25, "machine_detection": True}

    output = await messaging.place_ai_call(steps.context("ai_call", config))

    [call] = fake_twilio.calls
    [form] = posts(fake_twilio, CALLS)
    assert form == {
        "To": [TO],
        "From": [FROM_VOICE],
        "Url": ["https://agents.example.com/twiml/sales-bot"],
        "StatusCallback": [f"{PUBLIC_URL}/webhooks/twilio/status"],
        "StatusCallbackEvent": ["initiated", "ringing", "answered", "completed"],
        "Timeout": ["25"],
        "MachineDetection": ["Enable"],
    }
    assert fake_twilio.violations == []
    assert output.waiting
    assert output.result == {
        "call_sid": call["sid"],
        "status": "queued",
        "to": TO,
        "provider": "twilio",
    }


async def test_ai_call_takes_its_from_and_quotes_the_agent_into_the_url(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("ai_call", {"to": TO, "agent_id": "sales bot", "from": "+15550009999"})

    await messaging.place_ai_call(ctx)

    [form] = posts(fake_twilio, CALLS)
    assert form["Url"] == ["https://agents.example.com/twiml/sales%20bot"]
    assert form["From"] == ["+15550009999"]
    assert "MachineDetection" not in form
    assert fake_twilio.violations == []


async def test_ai_call_without_a_voice_agent_url_is_answered_by_our_own_voice_webhook(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("ai_call", {"to": TO}, FLOWDECK_TWILIO_VOICE_URL=None)

    await messaging.place_ai_call(ctx)

    [form] = posts(fake_twilio, CALLS)
    execution_id = ctx.data.execution_id
    assert form["Url"] == [f"{PUBLIC_URL}/webhooks/twilio/voice?execution={execution_id}"]
    assert fake_twilio.violations == []


async def test_a_call_for_no_voice_agent_is_answered_by_our_own_voice_webhook_anyway(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    """A run's own `call` (and an `ai_call` naming no agent) runs the flow's voice steps,
    even where FLOWDECK_TWILIO_VOICE_URL points answered calls at an AI agent."""
    ctx = steps.context("ai_call", {"to": TO})
    assert ctx.settings.twilio_voice_url is not None

    await messaging.place_ai_call(ctx)

    [form] = posts(fake_twilio, CALLS)
    execution_id = ctx.data.execution_id
    assert form["Url"] == [f"{PUBLIC_URL}/webhooks/twilio/voice?execution={execution_id}"]


async def test_send_and_wait_sends_and_waits_for_the_reply(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("send_and_wait", {"channel": "sms", "to": TO, "body": "Reply YES"})

    output = await messaging.send_and_wait(ctx)

    [message] = fake_twilio.messages
    assert output.waiting
    assert output.result["message_sid"] == message["sid"]
    assert (output.result["to"], output.result["channel"]) == (TO, "sms")
    row = outbox_row(steps, ctx.data.idempotency_key)
    assert row.content is not None and row.content["awaiting_reply"] is True
    assert fake_twilio.violations == []


async def test_a_retried_step_finds_its_send_and_sends_nothing(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    ctx = steps.context("sms", {"to": TO, "body": "Once"})

    first = await messaging.send_sms(ctx)
    second = await messaging.send_sms(steps.again(ctx))

    assert first == second
    assert len(fake_twilio.messages) == 1
    assert len(fake_twilio.requests) == 1


@pytest.mark.parametrize("failure", ["500", "hang"])
async def test_twilio_accepting_then_failing_the_answer_sends_one_message(
    steps: Steps, fake_twilio: FakeTwilio, failure: str
) -> None:
    """Twilio stores the message, then the answer is a 500 or never comes: the retry asks
    Twilio before sending again, and adopts the message instead of sending a second."""
    fake_twilio.fail_after_accept = failure
    fake_twilio.hang_s = 1.5
    ctx = steps.context("sms", {"to": TO, "body": "Exactly once"}, FLOWDECK_TWILIO_TIMEOUT_S=0.5)

    with pytest.raises(ApplicationError) as caught:
        await messaging.send_sms(ctx)
    assert not caught.value.non_retryable
    assert outbox_row(steps, ctx.data.idempotency_key).status == "reserved"

    output = await messaging.send_sms(steps.again(ctx))

    [message] = fake_twilio.messages
    assert output.result["message_sid"] == message["sid"]
    assert [r.method for r in fake_twilio.requests] == ["POST", "GET"]
    lookup = fake_twilio.requests[1]
    assert lookup.query["To"] == [TO] and lookup.query["From"] == [FROM_SMS]
    assert fake_twilio.violations == []
    row = outbox_row(steps, ctx.data.idempotency_key)
    assert (row.status, row.provider_id) == ("queued", message["sid"])


async def test_a_call_accepted_then_failed_is_placed_once(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_after_accept = "500"
    ctx = steps.context("ai_call", {"to": TO, "agent_id": "sales-bot"})

    with pytest.raises(ApplicationError):
        await messaging.place_ai_call(ctx)
    output = await messaging.place_ai_call(steps.again(ctx))

    [call] = fake_twilio.calls
    assert output.result["call_sid"] == call["sid"]
    assert [r.method for r in fake_twilio.requests] == ["POST", "GET"]
    assert fake_twilio.violations == []


async def test_a_reservation_twilio_never_got_is_sent_by_the_retry(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    """The first attempt died before reaching Twilio: the retry finds nothing and sends."""
    fake_twilio.refuse_next = (503, 20503, "Service Unavailable")
    ctx = steps.context("sms", {"to": TO, "body": "Hello"})
    with pytest.raises(ApplicationError) as caught:
        await messaging.send_sms(ctx)
    assert not caught.value.non_retryable and fake_twilio.messages == []

    output = await messaging.send_sms(steps.again(ctx))

    [message] = fake_twilio.messages
    assert output.result["message_sid"] == message["sid"]
    assert [r.method for r in fake_twilio.requests] == ["POST", "GET", "POST"]


async def test_a_message_of_another_step_is_not_adopted(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    """Recovery skips messages that other outbox rows already hold."""
    await messaging.send_sms(steps.context("sms", {"to": TO, "body": "Same text"}))
    fake_twilio.refuse_next = (503, 20503, "Service Unavailable")
    ctx = steps.context("sms", {"to": TO, "body": "Same text"})
    with pytest.raises(ApplicationError):
        await messaging.send_sms(ctx)

    output = await messaging.send_sms(steps.again(ctx))

    assert len(fake_twilio.messages) == 2
    assert output.result["message_sid"] == fake_twilio.messages[1]["sid"]


async def test_twilio_refusing_a_number_fails_the_step_for_good(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.refuse_next = (400, 21211, "The 'To' number is not a valid phone number.")
    ctx = steps.context("sms", {"to": "+1", "body": "Hi"})

    with pytest.raises(ApplicationError) as caught:
        await messaging.send_sms(ctx)
    with pytest.raises(ApplicationError) as again:
        await messaging.send_sms(steps.again(ctx))

    assert caught.value.non_retryable and again.value.non_retryable
    assert "21211" in caught.value.message and "not a valid phone number" in caught.value.message
    assert again.value.message == caught.value.message
    assert len(fake_twilio.requests) == 1
    assert outbox_row(steps, ctx.data.idempotency_key).status == "refused"


async def test_no_sender_and_no_credentials_fail_clearly(
    steps: Steps, fake_twilio: FakeTwilio
) -> None:
    no_sender = steps.context("sms", {"to": TO, "body": "Hi"}, FLOWDECK_TWILIO_FROM_SMS=None)
    with pytest.raises(ApplicationError) as caught:
        await messaging.send_sms(no_sender)
    assert caught.value.non_retryable
    assert "FLOWDECK_TWILIO_FROM_SMS" in caught.value.message

    no_token = steps.context("sms", {"to": TO, "body": "Hi"}, TWILIO_AUTH_TOKEN=None)
    with pytest.raises(ApplicationError) as caught:
        await messaging.send_sms(no_token)
    assert caught.value.non_retryable
    assert "TWILIO_AUTH_TOKEN" in caught.value.message
    assert fake_twilio.requests == []


async def test_test_executions_use_the_sandbox(steps: Steps, fake_twilio: FakeTwilio) -> None:
    ctx = steps.context("sms", {"to": TO, "body": "Hi"})
    ctx.data.test = True

    output = await messaging.send_sms(ctx)

    assert output.result["provider"] == "sandbox"
    assert fake_twilio.requests == []
    assert [m.channel for m in ctx.deferred] == ["sms"]


async def test_the_twilio_client_lists_what_it_created(fake_twilio: FakeTwilio) -> None:
    async with routed_to(fake_twilio) as http:
        client = twilio_client(channel_settings(), HttpxTwilioClient(http, timeout=5))
        message = await client.messages.create_async(
            to=TO, from_=FROM_SMS, body="Hi", status_callback=f"{PUBLIC_URL}/x"
        )
        listed = await client.messages.list_async(to=TO, limit=5)

    assert message.sid == fake_twilio.messages[0]["sid"]
    assert [m.sid for m in listed] == [message.sid]
    assert fake_twilio.violations == []


def test_the_contract_check_catches_bad_requests() -> None:
    assert problems("POST", MESSAGES, {"To": ["+1"], "From": ["+2"], "Body": ["x"]}, {}) == []
    assert problems("POST", MESSAGES, {"Body": ["x"]}, {}) == [
        "POST /2010-04-01/Accounts/{AccountSid}/Messages.json lacks required ['To']"
    ]
    assert problems("POST", CALLS, {"To": ["+1"], "From": ["+2"], "Bogus": ["1"]}, {}) == [
        "POST /2010-04-01/Accounts/{AccountSid}/Calls.json sends unknown fields ['Bogus']"
    ]
    assert problems("GET", MESSAGES, {}, {"Nope": ["1"]}) == [
        "GET /2010-04-01/Accounts/{AccountSid}/Messages.json sends unknown query ['Nope']"
    ]
    assert problems("PATCH", MESSAGES, {}, {}) == [
        "Twilio's /2010-04-01/Accounts/{AccountSid}/Messages.json has no PATCH"
    ]
    assert problems("POST", "/2010-04-01/Nowhere.json", {}, {}) == [
        "/2010-04-01/Nowhere.json is no path of Twilio's API"
    ]
