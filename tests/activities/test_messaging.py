"""SMS and WhatsApp through the sandbox provider, and the channel steps not built yet."""

from __future__ import annotations

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed


async def test_sms_is_recorded_in_the_outbox(runner: Runner, seed: Seed) -> None:
    output = await runner.perform(seed.action("sms", {"to": "+15550002222", "body": "Hi Asha"}))

    [message] = seed.outbox()
    assert output.port == "sent"
    assert output.result == {"to": "+15550002222", "message_id": message.id, "provider": "sandbox"}
    assert (message.channel, message.to, message.content) == (
        "sms",
        "+15550002222",
        {"body": "Hi Asha"},
    )
    assert message.idempotency_key == f"{seed.execution_id}:1"
    step = seed.step(1)
    assert step is not None and (step.status, step.port) == ("success", "sent")


async def test_whatsapp_template_is_recorded_with_its_params(runner: Runner, seed: Seed) -> None:
    config = {
        "to": "+15550002222",
        "template": "lead_followup",
        "params": {"1": "Asha"},
        "from": "+15550001111",
    }

    output = await runner.perform(seed.action("whatsapp", config))

    [message] = seed.outbox()
    assert output.result["message_id"] == message.id
    assert message.channel == "whatsapp"
    assert message.content == {
        "template": "lead_followup",
        "params": {"1": "Asha"},
        "from": "+15550001111",
    }


@pytest.mark.parametrize(
    ("node_type", "config"),
    [("sms", {"to": "+1555", "body": "Hi"}), ("whatsapp", {"to": "+1555", "template": "t"})],
)
async def test_a_retried_send_is_recorded_once(
    runner: Runner, seed: Seed, node_type: str, config: dict[str, str]
) -> None:
    data = seed.action(node_type, config)

    first = await runner.perform(data)
    second = await runner.perform(data, attempt=2)

    assert first == second
    assert len(seed.outbox()) == 1


async def test_empty_recipient_is_not_retryable(runner: Runner, seed: Seed) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("sms", {"to": "  ", "body": "Hi"}))

    assert caught.value.type == "InvalidRecipient"
    assert caught.value.non_retryable
    assert seed.outbox() == []
