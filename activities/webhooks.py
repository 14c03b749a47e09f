"""Outgoing webhooks: one signed attempt at a delivery, and the delivery log around it.

Signed as Standard Webhooks asks (https://www.standardwebhooks.com): `webhook-id` (the
event's message id, the same on every attempt and redelivery, so a receiver can drop
duplicates), `webhook-timestamp` (seconds) and `webhook-signature`: `v1,` and the base64 of
HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the secret's bytes. Sent through the
same address guard as HTTP steps. Secrets never reach a log line.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.fetch import SHARED, Fetcher
from activities.net import guarded_request
from schemas.settings import Settings
from schemas.webhooks import (
    ACTIVITY_GIVE_UP,
    ACTIVITY_PENDING,
    ACTIVITY_SEND,
    GiveUpInput,
    GiveUpOutcome,
    PendingBatch,
    PendingInput,
    SendInput,
)
from store import webhooks as store
from store.models import utcnow

RECEIVER_REFUSED = "WebhookStatus"

_log = structlog.get_logger(__name__)


def sign(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header's value for this message."""
    content = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(store.secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class _Http:
    settings: Settings
    fetcher: Fetcher


class WebhookActivities:
    """The delivery workflow's activities, bound to a database and an HTTP client."""

    def __init__(
        self, *, engine: Engine, settings: Settings, fetcher: Fetcher | None = None
    ) -> None:
        self._engine = engine
        self._http = _Http(settings=settings, fetcher=fetcher or SHARED)

    def all(self) -> list[Callable[..., Any]]:
        return [self.pending, self.send, self.give_up]

    @activity.defn(name=ACTIVITY_PENDING)
    async def pending(self, data: PendingInput) -> PendingBatch:
        return await asyncio.to_thread(
            store.pending_deliveries,
            self._engine,
            webhook_id=data.webhook_id,
            limit=data.limit,
            skip=data.skip,
        )

    @activity.defn(name=ACTIVITY_GIVE_UP)
    async def give_up(self, data: GiveUpInput) -> GiveUpOutcome:
        disabled = await asyncio.to_thread(
            store.give_up,
            self._engine,
            delivery_id=data.delivery_id,
            error=data.error,
            disable_after=data.disable_after,
        )
        if disabled:
            _log.warning("webhook.disabled", delivery_id=data.delivery_id, error=data.error)
        return GiveUpOutcome(disabled=disabled)

    @activity.defn(name=ACTIVITY_SEND)
    async def send(self, data: SendInput) -> None:
        """One attempt; raises (retryably, unless the address is refused) unless a 2xx came."""
        outgoing = await asyncio.to_thread(store.load_outgoing, self._engine, data.delivery_id)
        if outgoing is None or outgoing.status != "pending" or not outgoing.active:
            return  # deleted, disabled, or delivered by an attempt whose answer was lost
        log = _log.bind(
            webhook_id=outgoing.webhook_id,
            delivery_id=outgoing.delivery_id,
            attempt=activity.info().attempt,
        )
        body = json.dumps(outgoing.payload, separators=(",", ":"), ensure_ascii=False)
        message_id = f"msg_{outgoing.event_id}"
        timestamp = int(time.time())
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(outgoing.secret, message_id, timestamp, body),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        failure: ApplicationError | None = None
        try:
            response = await guarded_request(
                self._http,
                method="POST",
                url=outgoing.url,
                timeout_s=data.timeout_s,
                headers=headers,
                content=body,
            )
            status = response.status
            if not 200 <= status < 300:
                error = f"the receiver answered {status}: {response.excerpt()}"
        except ApplicationError as exc:
            error, failure = exc.message, exc
        latency_ms = int((time.monotonic() - started) * 1000)
        await asyncio.to_thread(
            store.record_attempt,
            self._engine,
            delivery_id=outgoing.delivery_id,
            delivered=error is None,
            response_status=status,
            latency_ms=latency_ms,
            error=error,
            at=utcnow(),
        )
        if error is None:
            log.info("webhook.delivered", status=status, latency_ms=latency_ms)
            return
        log.warning("webhook.attempt_failed", status=status, error=error)
        if failure is not None:
            raise failure
        raise ApplicationError(error, type=RECEIVER_REFUSED)
