"""SMS and WhatsApp steps, and the channel steps that do not exist yet.

The sandbox provider records the message in the outbox instead of sending it; a retried
step finds its earlier record, so the contact is never messaged twice.
"""

from __future__ import annotations

from typing import Any

from activities import outbox
from activities.step import StepContext, not_implemented, parse_config, step_error
from schemas.execution import ActionOutput
from schemas.flow import SmsConfig, WhatsappConfig
from store.models import OutboxMessage

MAX_TO_LENGTH = 320


def _recipient(to: str, channel: str) -> str:
    to = to.strip()
    if not to or len(to) > MAX_TO_LENGTH:
        raise step_error(
            f"no valid {channel} recipient (`to` is {'empty' if not to else 'too long'})",
            type="InvalidRecipient",
            retryable=False,
        )
    return to


def _result(message: OutboxMessage) -> ActionOutput:
    return ActionOutput(
        port="sent",
        result={"to": message.to, "message_id": message.id, "provider": message.provider},
    )


async def _send(
    ctx: StepContext, *, channel: str, provider: str, to: str, content: dict[str, Any]
) -> ActionOutput:
    if provider != "sandbox":
        raise not_implemented(f"the {provider} messaging provider")
    stored = await outbox.record_message(
        ctx, channel=channel, provider="sandbox", to=_recipient(to, channel), content=content
    )
    ctx.log.debug("message.recorded", channel=channel, outbox_id=stored.id)
    return _result(stored)


async def send_sms(ctx: StepContext) -> ActionOutput:
    config = parse_config(SmsConfig, ctx)
    content: dict[str, Any] = {"body": config.body}
    if config.from_:
        content["from"] = config.from_
    return await _send(
        ctx, channel="sms", provider=ctx.settings.provider_sms, to=config.to, content=content
    )


async def send_whatsapp(ctx: StepContext) -> ActionOutput:
    config = parse_config(WhatsappConfig, ctx)
    content: dict[str, Any] = {"template": config.template, "params": config.params}
    if config.language:
        content["language"] = config.language
    if config.from_:
        content["from"] = config.from_
    return await _send(
        ctx,
        channel="whatsapp",
        provider=ctx.settings.provider_whatsapp,
        to=config.to,
        content=content,
    )


async def place_ai_call(ctx: StepContext) -> ActionOutput:
    raise not_implemented("the ai_call step")


async def send_and_wait(ctx: StepContext) -> ActionOutput:
    raise not_implemented("the send_and_wait step")
