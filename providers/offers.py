"""A free agent called into the queue of the first caller waiting for it.

When an agent is free again (a transfer released by the worker, or the agent set available
through the API), `dispatch_offer` calls the agent (`<Dial><Queue>name</Queue></Dial>`),
through Twilio or, in sandbox mode, into the outbox, and tells the caller's workflow who took
the call (`call_routed`). `store.routing` does the race-safe claiming before it.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import httpx
import structlog
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.twiml.voice_response import Dial, VoiceResponse

from providers.twilio_rest import TwilioNotConfigured, client_over
from schemas.call import SIGNAL_CALL_ROUTED, CallRoutedSignal
from schemas.settings import Settings
from store import routing
from store.models import OutboxMessage
from store.outbox import insert_message_once

_log = structlog.get_logger(__name__)


class DispatchError(Exception):
    """The agent could not be called; the caller is back in the queue, the agent available."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


def queue_offer_twiml(queue: str) -> str:
    """What the agent hears on answering: connected to the front of the queue."""
    response = VoiceResponse()
    dial = Dial()
    dial.queue(queue)
    response.append(dial)
    return str(response)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TwilioRestException):
        return f"Twilio answered {exc.status}: {exc.msg}"
    return f"{type(exc).__name__}: {exc}"


def offer_status_url(settings: Settings, offer: routing.Offer) -> str:
    """Where Twilio reports how the agent's call ended: a missed offer goes to another agent."""
    query = urlencode({"offer": offer.queue_entry_id, "agent": offer.agent_id})
    return f"{settings.public_base_url.rstrip('/')}/webhooks/twilio/status?{query}"


async def _call_agent(
    offer: routing.Offer, *, settings: Settings, http: httpx.AsyncClient, twiml: str, sender: str
) -> tuple[str, str]:
    """Place the agent's call through Twilio; (sid, status)."""
    try:
        call = await client_over(settings, http).calls.create_async(
            to=offer.to,
            from_=sender,
            twiml=twiml,
            status_callback=offer_status_url(settings, offer),
            status_callback_event=["completed"],
        )
    except TwilioRestException as exc:
        refused = 400 <= exc.status < 500 and exc.status not in (408, 429)
        raise DispatchError(_describe(exc), retryable=not refused) from None
    except TwilioNotConfigured as exc:
        raise DispatchError(str(exc), retryable=False) from None
    except (TwilioException, httpx.HTTPError) as exc:
        raise DispatchError(_describe(exc), retryable=True) from None
    return str(call.sid), str(call.status or "queued")


async def dispatch_offer(
    offer: routing.Offer,
    *,
    engine: Engine,
    settings: Settings,
    http: httpx.AsyncClient,
    temporal: Client | None,
) -> OutboxMessage:
    """Call the agent into the caller's queue (Twilio, or the sandbox outbox), then signal
    the caller's workflow. On failure the offer is withdrawn and DispatchError raised."""
    log = _log.bind(queue_entry_id=offer.queue_entry_id, agent_id=offer.agent_id)
    twiml = queue_offer_twiml(offer.queue)
    sender = offer.caller_id or settings.twilio_from_voice or ""
    content: dict[str, Any] = {
        "purpose": "queue_offer",
        "twiml": twiml,
        "from": sender or None,
        "queue": offer.queue,
        "queue_entry_id": offer.queue_entry_id,
        "agent_id": offer.agent_id,
        "call_sid": offer.call_sid,
        "status_callback": offer_status_url(settings, offer),
    }
    provider, sid, status = "sandbox", None, "sent"
    if settings.provider_voice == "twilio":
        try:
            if not sender:
                raise DispatchError(
                    "no number to call the agent from: give the department a phone_number or "
                    "set FLOWDECK_TWILIO_FROM_VOICE",
                    retryable=False,
                )
            sid, status = await _call_agent(
                offer, settings=settings, http=http, twiml=twiml, sender=sender
            )
        except DispatchError as exc:
            log.warning("queue_offer.failed", error=str(exc))
            await asyncio.to_thread(routing.withdraw_offer, engine, offer=offer)
            raise
        provider = "twilio"
    message = OutboxMessage(
        tenant_id=offer.tenant_id,
        execution_id=offer.execution_id,
        channel="voice",
        provider=provider,
        to=offer.to,
        content=content,
        status=status,
        provider_id=sid,
        idempotency_key=f"queue-offer:{offer.queue_entry_id}:{offer.agent_id}",
    )
    stored = await asyncio.to_thread(_placed, engine, offer, message)
    log.info("queue_offer.placed", provider=provider, sid=sid, to=offer.to)
    await _signal_caller(offer, temporal)
    return stored


def _placed(engine: Engine, offer: routing.Offer, message: OutboxMessage) -> OutboxMessage:
    """The offer's call is placed: its outbox row, and the entry no longer sweepable."""
    routing.offer_placed(engine, offer=offer, call=message.provider_id or message.provider)
    return insert_message_once(engine, message)


async def _signal_caller(offer: routing.Offer, temporal: Client | None) -> None:
    """Tell the caller's workflow an agent is coming; a workflow that is gone is no error."""
    if temporal is None or offer.workflow_id is None:
        return
    signal = CallRoutedSignal(
        queue_entry_id=offer.queue_entry_id, agent_id=offer.agent_id, agent_name=offer.agent_name
    )
    try:
        await temporal.get_workflow_handle(offer.workflow_id).signal(SIGNAL_CALL_ROUTED, signal)
    except RPCError as exc:
        # The agent's call is placed either way; the caller's workflow only learns who took it.
        level = "info" if exc.status == RPCStatusCode.NOT_FOUND else "warning"
        getattr(_log, level)(
            "queue_offer.signal_not_delivered", workflow_id=offer.workflow_id, error=exc.message
        )
