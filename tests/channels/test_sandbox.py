"""The sandbox providers of `ai_call` and `send_and_wait`: recorded, never sent, once per step."""

from __future__ import annotations

import hashlib

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed


async def test_a_sandbox_call_is_recorded_and_waits_for_its_outcome(
    runner: Runner, seed: Seed
) -> None:
    data = seed.action("ai_call", {"to": "+919800000001", "agent_id": "sales-bot"})

    output = await runner.perform(data)

    [call] = seed.outbox()
    expected_sid = "CA" + hashlib.sha256(data.idempotency_key.encode()).hexdigest()[:32]
    assert output.waiting
    assert output.result == {
        "call_sid": expected_sid,
        "status": "queued",
        "to": "+919800000001",
        "provider": "sandbox",
    }
    assert (call.channel, call.provider, call.status, call.provider_id) == (
        "voice",
        "sandbox",
        "queued",
        expected_sid,
    )
    assert call.content == {
        "agent_id": "sales-bot",
        "ring_timeout_s": 30,
        "machine_detection": False,
    }
    step = seed.step(1)
    assert step is not None and step.status == "waiting"
    assert step.result is not None and step.result["call_sid"] == expected_sid


async def test_a_retried_sandbox_call_is_recorded_once(runner: Runner, seed: Seed) -> None:
    data = seed.action("ai_call", {"to": "+919800000001"})

    first = await runner.perform(data)
    second = await runner.perform(data, attempt=2)

    assert first == second
    assert len(seed.outbox()) == 1


async def test_send_and_wait_in_the_sandbox_records_the_question(
    runner: Runner, seed: Seed
) -> None:
    config = {
        "channel": "whatsapp",
        "to": "whatsapp:+919800000001",
        "template": "confirm",
        "params": {"1": "Asha"},
    }

    output = await runner.perform(seed.action("send_and_wait", config))

    [message] = seed.outbox()
    assert output.waiting
    assert output.result["channel"] == "whatsapp"
    assert output.result["to"] == "+919800000001"
    assert output.result["message_sid"] == message.provider_id
    assert (message.channel, message.provider) == ("whatsapp", "sandbox")
    assert message.content == {
        "template": "confirm",
        "params": {"1": "Asha"},
        "awaiting_reply": True,
    }


async def test_a_recipient_left_as_a_placeholder_is_refused(runner: Runner, seed: Seed) -> None:
    data = seed.action("ai_call", {"to": "{{ contact.phone }}"})

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(data)

    assert caught.value.non_retryable
    assert caught.value.message == "no valid voice recipient (`to` is an unrendered template)"
    assert seed.outbox() == []
