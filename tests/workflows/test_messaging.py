"""Messages on the sandbox providers, run by the interpreter: a WhatsApp template, an SMS, and
a question whose reply arrives by signal; its history is committed and replayed."""

from __future__ import annotations

import asyncio

from schemas.execution import SIGNAL_MESSAGE_REPLY, ExecutionResult, MessageReplySignal
from tests.workflows.conftest import Runner

PHONE = "+919800000042"
FLOW = {
    "start": "hello",
    "nodes": [
        {
            "id": "hello",
            "type": "whatsapp",
            "config": {"template": "lead_followup", "params": {"1": "{{ contact.name }}"}},
            "transitions": {"sent": "ask"},
        },
        {
            "id": "ask",
            "type": "send_and_wait",
            "config": {"channel": "sms", "body": "Shall we call you, {{ contact.name }}?"},
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


async def test_a_template_a_question_and_its_reply_then_an_sms(runner: Runner) -> None:
    handle = await runner.start(FLOW, contact={"name": "Asha", "phone": PHONE})
    for _ in range(100):
        if any(s.node_id == "ask" and s.status == "waiting" for s in runner.steps(handle)):
            break
        await asyncio.sleep(0.05)
    reply = MessageReplySignal(channel="sms", **{"from": PHONE}, body="yes", message_sid="SM1")
    await handle.signal(SIGNAL_MESSAGE_REPLY, reply)
    result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    assert runner.path(handle) == [
        ("hello", "success", "sent"),
        ("ask", "success", "reply"),
        ("thanks", "success", "sent"),
        ("done", "success", None),
    ]
    sent = sorted((m.channel, m.node_id) for m in runner.outbox(handle))
    assert sent == [("sms", "ask"), ("sms", "thanks"), ("whatsapp", "hello")]
    assert next(m for m in runner.outbox(handle) if m.node_id == "thanks").content == {
        "body": "You said: yes"
    }
    await runner.save_history(handle, "messaging_send_and_wait")
