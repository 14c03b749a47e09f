"""The channel steps: SMS, WhatsApp, `send_and_wait` and `ai_call`, by the configured provider.

`FLOWDECK_PROVIDER_SMS` / `_WHATSAPP` / `_VOICE` pick `sandbox` (the default: the message or
call is recorded in the outbox and nothing leaves the machine) or `twilio` (the real twilio
library, see activities/twilio_provider.py). Test executions always use the sandbox.

Every send is keyed by the step's idempotency key (execution and seq), so a retried step
never messages or calls the contact twice. `ai_call` and `send_and_wait` return
`waiting=True`: the workflow waits for the call's status or the contact's reply, which the
Twilio webhooks (or the sandbox simulation, `POST /api/executions/{id}/simulate`) signal.
"""

from __future__ import annotations

from typing import Any

from activities import outbox, twilio_provider
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from schemas.execution import ActionOutput
from schemas.flow import AiCallConfig, SendAndWaitConfig, SmsConfig, WhatsappConfig
from store.models import OutboxMessage

MAX_TO_LENGTH = 320
SANDBOX = "sandbox"
AWAITING_REPLY = "awaiting_reply"
"""Content flag of a `send_and_wait` message: an inbound reply from its recipient is its."""
CALL_QUEUED = "queued"


def _recipient(to: str, channel: str) -> str:
    to = to.strip()
    problem = None
    if not to:
        problem = "empty"
    elif len(to) > MAX_TO_LENGTH:
        problem = "too long"
    elif "{{" in to:
        problem = "an unrendered template"
    if problem is not None:
        raise step_error(
            f"no valid {channel} recipient (`to` is {problem})",
            type="InvalidRecipient",
            retryable=False,
        )
    return to.removeprefix("whatsapp:") if channel == "whatsapp" else to


def _provider(ctx: StepContext, channel: str) -> str:
    if ctx.data.test:
        return SANDBOX
    settings = ctx.settings
    return {
        "sms": settings.provider_sms,
        "whatsapp": settings.provider_whatsapp,
        "voice": settings.provider_voice,
    }[channel]


def _sender(ctx: StepContext, channel: str, given: str | None) -> str:
    settings = ctx.settings
    default = {
        "sms": settings.twilio_from_sms,
        "whatsapp": settings.twilio_from_whatsapp,
        "voice": settings.twilio_from_voice,
    }[channel]
    sender = (given or default or "").strip().removeprefix("whatsapp:")
    if not sender:
        raise step_error(
            f"no {channel} sender: give the step a `from`, or set "
            f"FLOWDECK_TWILIO_FROM_{channel.upper()}",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return sender


def _sent(message: OutboxMessage) -> dict[str, Any]:
    result: dict[str, Any] = {
        "to": message.to,
        "message_id": message.id,
        "provider": message.provider,
    }
    if message.provider != SANDBOX:
        result["message_sid"] = message.provider_id
        result["status"] = message.status
    return result


async def _message(
    ctx: StepContext,
    *,
    channel: str,
    to: str,
    sender: str | None,
    body: str | None = None,
    template: str | None = None,
    params: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> OutboxMessage:
    """One SMS or WhatsApp message of this step, recorded (sandbox) or sent (twilio)."""
    to = _recipient(to, channel)
    content: dict[str, Any] = {}
    if template is not None:
        content.update(template=template, params=params or {})
    else:
        content["body"] = body
    content.update(extra or {})
    if _provider(ctx, channel) == SANDBOX:
        if sender:
            content["from"] = sender
        provider_id = twilio_provider.fake_sid("SM", ctx.data.idempotency_key)
        stored = await outbox.record_message(
            ctx, channel=channel, provider=SANDBOX, to=to, content=content, provider_id=provider_id
        )
        ctx.log.debug("message.recorded", channel=channel, outbox_id=stored.id)
        return stored
    sender = _sender(ctx, channel, sender)
    client = twilio_provider.client_for(ctx)
    if template is not None:
        return await twilio_provider.send_message(
            ctx,
            client,
            channel=channel,
            to=to,
            sender=sender,
            content=content,
            content_sid=twilio_provider.content_sid_for(ctx.settings, template),
            content_variables=params,
        )
    return await twilio_provider.send_message(
        ctx, client, channel=channel, to=to, sender=sender, content=content, body=body
    )


@handles("sms")
async def send_sms(ctx: StepContext) -> ActionOutput:
    config = parse_config(SmsConfig, ctx)
    stored = await _message(ctx, channel="sms", to=config.to, sender=config.from_, body=config.body)
    return ActionOutput(port="sent", result=_sent(stored))


@handles("whatsapp")
async def send_whatsapp(ctx: StepContext) -> ActionOutput:
    config = parse_config(WhatsappConfig, ctx)
    extra = {"language": config.language} if config.language else {}
    stored = await _message(
        ctx,
        channel="whatsapp",
        to=config.to,
        sender=config.from_,
        template=config.template,
        params=config.params,
        extra=extra,
    )
    return ActionOutput(port="sent", result=_sent(stored))


@handles("send_and_wait")
async def send_and_wait(ctx: StepContext) -> ActionOutput:
    """Send the question; the workflow then waits `timeout_s` for the reply (by signal)."""
    config = parse_config(SendAndWaitConfig, ctx)
    use_template = config.channel == "whatsapp" and config.template is not None
    stored = await _message(
        ctx,
        channel=config.channel,
        to=config.to,
        sender=config.from_,
        body=None if use_template else config.body,
        template=config.template if use_template else None,
        params=config.params,
        extra={AWAITING_REPLY: True},
    )
    result = {**_sent(stored), "message_sid": stored.provider_id, "channel": config.channel}
    return ActionOutput(port="sent", result=result, waiting=True)


@handles("ai_call")
async def place_ai_call(ctx: StepContext) -> ActionOutput:
    """Place the call; the workflow then waits for its outcome from the status callbacks."""
    config = parse_config(AiCallConfig, ctx)
    to = _recipient(config.to, "voice")
    if _provider(ctx, "voice") == SANDBOX:
        content: dict[str, Any] = {
            "agent_id": config.agent_id,
            "ring_timeout_s": config.ring_timeout_s,
            "machine_detection": config.machine_detection,
        }
        if config.from_:
            content["from"] = config.from_
        stored = await outbox.record_message(
            ctx,
            channel="voice",
            provider=SANDBOX,
            to=to,
            content=content,
            provider_id=twilio_provider.fake_sid("CA", ctx.data.idempotency_key),
        )
        # Not written yet (it goes with the step's record): a sandbox call starts queued,
        # and `POST /api/executions/{id}/simulate` decides how it ends.
        stored.status = CALL_QUEUED
    else:
        stored = await twilio_provider.place_call(
            ctx,
            twilio_provider.client_for(ctx),
            to=to,
            sender=_sender(ctx, "voice", config.from_),
            agent_id=config.agent_id,
            ring_timeout_s=config.ring_timeout_s,
            machine_detection=config.machine_detection,
        )
    result = {
        "call_sid": stored.provider_id,
        "status": stored.status,
        "to": stored.to,
        "provider": stored.provider,
    }
    return ActionOutput(port="placed", result=result, waiting=True)
