"""The twilio provider: SMS, WhatsApp and outbound calls through the twilio library, once each.

Exactly one message (or call) per step, although Twilio's Messages and Calls APIs take no
idempotency key:

1. *Reserve.* Before calling Twilio, the step's outbox row is inserted with status
   `reserved`, keyed by the step's idempotency key (execution and seq), in a transaction of
   its own. The insert cannot race (`ON CONFLICT DO NOTHING`); an attempt that finds a row
   not `reserved` returns what that row recorded and sends nothing.
2. *Send*, then *settle*: the row gets Twilio's sid and status.
3. *Recover.* An attempt that finds a `reserved` row of an earlier attempt does not know
   whether Twilio accepted that attempt's request (the worker died, the connection dropped,
   Twilio answered 5xx after creating the message). It asks Twilio: the newest messages (or
   calls) to that recipient from that sender, created no earlier than the reservation minus
   `RECOVERY_SLACK` (clock skew), with the same body when a body was sent, whose sid no
   other outbox row holds. The first such message is taken as this step's; only if none
   exists is the request made again.
4. *Refused* (a 4xx but 408/429, e.g. an invalid number): the row becomes `refused` with
   Twilio's error, and the step fails for good; 5xx, 408, 429 and network errors are retried.

Limits, said plainly: two steps that send the same text to the same contact from the same
sender within the same minute, both interrupted between Twilio's acceptance and the
settling, could each adopt the other's message; WhatsApp template sends are matched without
their body (Twilio shows the rendered text). An attempt never overlaps the next one as long
as `FLOWDECK_TWILIO_TIMEOUT_S` stays below the step's `timeout_s`.

Twilio's "sending" is one of its own message statuses, hence `reserved` for ours.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from activities.step import INVALID_CONFIG, StepContext, step_error
from providers.twilio_rest import TwilioNotConfigured, client_over, find_content_sid
from schemas.settings import Settings
from store.db import session_scope
from store.models import OutboxMessage, new_id, utcnow
from store.outbox import insert_message_once

RESERVED = "reserved"
"""An outbox row written before the request to Twilio, not yet settled with Twilio's sid."""
REFUSED = "refused"
"""Twilio refused the request (4xx): nothing was sent."""
RECOVERY_SLACK = timedelta(seconds=60)
RECOVERY_PAGE = 20
PROVIDER = "twilio"

_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]


def client_for(ctx: StepContext) -> Client:
    """The step's twilio client: its requests go through the worker's httpx client."""
    try:
        return client_over(ctx.settings, ctx.http)
    except TwilioNotConfigured as exc:
        raise step_error(str(exc), type=INVALID_CONFIG, retryable=False) from None


def callback_url(settings: Settings, path: str) -> str:
    return settings.public_base_url.rstrip("/") + path


def voice_url(settings: Settings, agent_id: str | None, execution_id: str) -> str:
    """Where Twilio fetches the TwiML of an answered call.

    A call for a voice agent (`agent_id`), with FLOWDECK_TWILIO_VOICE_URL set: the agent's URL
    (`{agent_id}` filled in), and the AI agent talks to the contact. Otherwise (no agent, as
    for a run's own `call`) Flowdeck's own voice webhook, which hands the call to the
    execution that placed it: the flow's voice steps run on it.
    """
    if settings.twilio_voice_url and agent_id:
        return settings.twilio_voice_url.replace("{agent_id}", quote(agent_id, safe=""))
    query = urlencode({"execution": execution_id})
    return callback_url(settings, f"/webhooks/twilio/voice?{query}")


def content_sid_for(settings: Settings, template: str) -> str:
    """The approved Content SID of a WhatsApp template, named or given as `HX…`."""
    sid = find_content_sid(settings, template)
    if sid is None:
        raise step_error(
            f"no Twilio Content SID for the WhatsApp template {template!r}: give the `HX…` "
            "sid as `template`, or map the name in FLOWDECK_TWILIO_CONTENT_SIDS",
            type=INVALID_CONFIG,
            retryable=False,
        )
    return sid


def fake_sid(prefix: str, key: str) -> str:
    """A sandbox sid shaped like Twilio's (`CA` + 32 hex), stable for one idempotency key."""
    return prefix + hashlib.sha256(key.encode()).hexdigest()[:32]


def address(channel: str, number: str) -> str:
    return f"whatsapp:{number}" if channel == "whatsapp" else number


# --- the outbox rows -----------------------------------------------------------------------


def _settle(engine: Engine, key: str, *, status: str, provider_id: str | None) -> OutboxMessage:
    with session_scope(engine) as session:
        conn = session.connection()
        conn.execute(
            sa.update(_outbox)
            .where(_outbox.c.idempotency_key == key)
            .values(status=status, provider_id=provider_id)
        )
        row = conn.execute(sa.select(_outbox).where(_outbox.c.idempotency_key == key)).one()
    return OutboxMessage.model_construct(**row._asdict())


def _refuse(engine: Engine, key: str, error: str) -> None:
    with session_scope(engine) as session:
        conn = session.connection()
        row = conn.execute(sa.select(_outbox).where(_outbox.c.idempotency_key == key)).one()
        content = {**(row.content or {}), "error": error}
        conn.execute(
            sa.update(_outbox)
            .where(_outbox.c.idempotency_key == key)
            .values(status=REFUSED, content=content)
        )


def _claimed(engine: Engine, sids: Sequence[str]) -> set[str]:
    """The sids among these that outbox rows already hold."""
    if not sids:
        return set()
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_outbox.c.provider_id).where(_outbox.c.provider_id.in_(list(sids)))
        ).all()
    return {str(r.provider_id) for r in rows}


# --- exactly once ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What Twilio answered about a created (or recovered) message or call."""

    sid: str
    status: str


@dataclass(frozen=True)
class Candidate:
    sid: str
    status: str
    created_at: datetime | None
    body: str | None = None


@dataclass
class Delivery:
    """One request to make exactly once, and how to find it again at Twilio."""

    draft: OutboxMessage
    create: Callable[[], Awaitable[Sent]]
    candidates: Callable[[], Awaitable[list[Candidate]]]
    body: str | None = None
    """The text sent, if any: a recovered message must carry the same."""


def _refused(exc: TwilioRestException) -> bool:
    return 400 <= exc.status < 500 and exc.status not in (408, 429)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        code = f" (code {exc.code})" if exc.code else ""
        return f"Twilio answered {exc.status}{code}: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


async def _recover(ctx: StepContext, delivery: Delivery, reserved_at: datetime) -> Sent | None:
    since = reserved_at - RECOVERY_SLACK
    candidates = [
        c
        for c in await delivery.candidates()
        if c.created_at is not None
        and c.created_at >= since
        and (delivery.body is None or c.body == delivery.body)
    ]
    claimed = await asyncio.to_thread(_claimed, ctx.engine, [c.sid for c in candidates])
    for candidate in candidates:
        if candidate.sid not in claimed:
            return Sent(sid=candidate.sid, status=candidate.status)
    return None


async def deliver_once(ctx: StepContext, delivery: Delivery) -> OutboxMessage:
    """Reserve, send, settle; or return what an earlier attempt of this step recorded."""
    key = ctx.data.idempotency_key
    stored = await asyncio.to_thread(insert_message_once, ctx.engine, delivery.draft)
    if stored.status == REFUSED:
        error = (stored.content or {}).get("error", "Twilio refused the request")
        raise step_error(str(error), type="ProviderRefused", retryable=False)
    if stored.status != RESERVED:
        ctx.log.info("twilio.already_sent", sid=stored.provider_id)
        return stored
    if stored.id != delivery.draft.id:
        # An earlier attempt reserved this step and never settled: did Twilio get it?
        try:
            found = await _recover(ctx, delivery, stored.created_at)
        except (TwilioException, httpx.HTTPError) as exc:
            raise step_error(
                f"could not check Twilio for an earlier attempt's send: {_describe(exc)}",
                type="ProviderUnavailable",
                retryable=True,
            ) from None
        if found is not None:
            ctx.log.info("twilio.recovered", sid=found.sid)
            return await asyncio.to_thread(
                _settle, ctx.engine, key, status=found.status, provider_id=found.sid
            )
    try:
        sent = await delivery.create()
    except TwilioRestException as exc:
        if _refused(exc):
            await asyncio.to_thread(_refuse, ctx.engine, key, _describe(exc))
            raise step_error(_describe(exc), type="ProviderRefused", retryable=False) from None
        raise step_error(_describe(exc), type="ProviderUnavailable", retryable=True) from None
    except (TwilioException, httpx.HTTPError) as exc:
        raise step_error(_describe(exc), type="ProviderUnavailable", retryable=True) from None
    ctx.log.info("twilio.sent", sid=sent.sid, status=sent.status)
    return await asyncio.to_thread(
        _settle, ctx.engine, key, status=sent.status, provider_id=sent.sid
    )


def _draft(ctx: StepContext, *, channel: str, to: str, content: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id=new_id(),  # per attempt: tells this attempt's reservation from an earlier one's
        tenant_id=ctx.data.tenant_id,
        execution_id=ctx.data.execution_id,
        node_id=ctx.data.node_id,
        channel=channel,
        provider=PROVIDER,
        to=to,
        content=content,
        status=RESERVED,
        idempotency_key=ctx.data.idempotency_key,
        created_at=utcnow(),
    )


async def send_message(
    ctx: StepContext,
    client: Client,
    *,
    channel: str,
    to: str,
    sender: str,
    content: dict[str, Any],
    body: str | None = None,
    content_sid: str | None = None,
    content_variables: dict[str, str] | None = None,
) -> OutboxMessage:
    """An SMS or WhatsApp message (a body, or an approved template), sent exactly once."""
    kwargs: dict[str, Any] = {
        "to": address(channel, to),
        "from_": address(channel, sender),
        "status_callback": callback_url(ctx.settings, "/webhooks/twilio/messaging"),
    }
    if content_sid is not None:
        kwargs["content_sid"] = content_sid
        if content_variables:
            kwargs["content_variables"] = json.dumps(content_variables)
    else:
        kwargs["body"] = body

    async def create() -> Sent:
        message = await client.messages.create_async(**kwargs)
        return Sent(sid=str(message.sid), status=str(message.status or "queued"))

    async def candidates() -> list[Candidate]:
        found = await client.messages.list_async(
            to=kwargs["to"], from_=kwargs["from_"], limit=RECOVERY_PAGE
        )
        return [
            Candidate(sid=str(m.sid), status=str(m.status), created_at=m.date_created, body=m.body)
            for m in found
        ]

    draft = _draft(ctx, channel=channel, to=to, content={**content, "from": sender})
    delivery = Delivery(
        draft=draft,
        create=create,
        candidates=candidates,
        body=body if content_sid is None else None,
    )
    return await deliver_once(ctx, delivery)


async def place_call(
    ctx: StepContext,
    client: Client,
    *,
    to: str,
    sender: str,
    agent_id: str | None,
    ring_timeout_s: int,
    machine_detection: bool,
) -> OutboxMessage:
    """An outbound call with status callbacks (and answering-machine detection), placed once."""
    url = voice_url(ctx.settings, agent_id, ctx.data.execution_id)
    kwargs: dict[str, Any] = {
        "to": to,
        "from_": sender,
        "url": url,
        "status_callback": callback_url(ctx.settings, "/webhooks/twilio/status"),
        "status_callback_event": ["initiated", "ringing", "answered", "completed"],
        "timeout": ring_timeout_s,
    }
    if machine_detection:
        kwargs["machine_detection"] = "Enable"

    async def create() -> Sent:
        call = await client.calls.create_async(**kwargs)
        return Sent(sid=str(call.sid), status=str(call.status or "queued"))

    async def candidates() -> list[Candidate]:
        found = await client.calls.list_async(to=to, from_=sender, limit=RECOVERY_PAGE)
        return [
            Candidate(sid=str(c.sid), status=str(c.status), created_at=c.date_created)
            for c in found
        ]

    content = {
        "from": sender,
        "agent_id": agent_id,
        "url": url,
        "ring_timeout_s": ring_timeout_s,
        "machine_detection": machine_detection,
    }
    draft = _draft(ctx, channel="voice", to=to, content=content)
    return await deliver_once(ctx, Delivery(draft=draft, create=create, candidates=candidates))
