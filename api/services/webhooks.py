"""Outgoing webhooks: the address check at creation, waking a webhook's delivery workflow,
and the fan-out that offers the event log to the webhooks.

The fan-out reads the event log after the fact (as `GET /api/events/stream` does) instead of
adding work to the writes of runs: the hot path stays as it was. Each pass reads the events
above its cursor, turns them into delivery rows, and wakes the delivery workflow of each
webhook that got some (signal-with-start). On PostgreSQL an event id can commit after a
higher one was read, so each pass also looks back `LOOKBACK_S` for ids it has not offered;
the rows are unique per webhook and event, so an event offered twice is delivered once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.deps import temporal_client_of
from schemas.addresses import IPAddress, refused_addresses
from schemas.settings import Settings
from schemas.webhooks import WORKFLOW_NAME, DeliveriesInput, RetryPlan, workflow_id
from store import webhooks as store
from store.errors import InvalidInputError
from store.models import Webhook, WebhookDelivery

log = structlog.get_logger(__name__)

LOOKBACK_S = 10.0
RESOLVE_TIMEOUT_S = 5.0
REWAKE_EVERY = 60
"""Passes between wake-ups of every webhook with deliveries waiting (a lost signal's cure)."""


def _url_problem(message: str) -> InvalidInputError:
    return InvalidInputError(
        message, details=[{"path": "$.url", "code": "address_not_allowed", "message": message}]
    )


async def check_url(url: str, settings: Settings) -> None:
    """422 at `$.url` unless every address the URL's host resolves to may be reached, by the
    same rule the delivery applies again (private and loopback only when allow-listed)."""
    try:
        target = httpx.URL(url)
        host = target.raw_host.decode("ascii").lower()
    except (httpx.InvalidURL, UnicodeDecodeError) as exc:
        raise _url_problem(f"invalid URL: {exc}") from None
    if target.scheme not in ("http", "https") or not host:
        raise _url_problem("the URL must be http:// or https:// with a host")
    addresses: list[IPAddress]
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        addresses = await _resolve(host, target.port or (443 if target.scheme == "https" else 80))
    refused = refused_addresses(host, addresses, settings)
    if refused:
        raise _url_problem(
            f"host {host} resolves to a private or reserved address ({refused[0]}); "
            "add it to FLOWDECK_HTTP_ALLOWLIST to allow it"
        )


async def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            loop = asyncio.get_running_loop()
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise _url_problem(f"cannot resolve host {host}: {reason}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def retry_plan(settings: Settings) -> RetryPlan:
    return RetryPlan(
        initial_s=settings.webhook_retry_initial_s,
        retry_for_s=settings.webhook_retry_for_s,
        timeout_s=settings.webhook_timeout_s,
        disable_after=settings.webhook_disable_after,
    )


async def wake(client: Client, settings: Settings, *, webhook_id: str, tenant_id: str) -> None:
    """Signal the webhook's delivery workflow that deliveries wait, starting it if it is not
    running (signal-with-start)."""
    await client.start_workflow(
        WORKFLOW_NAME,
        DeliveriesInput(webhook_id=webhook_id, tenant_id=tenant_id, plan=retry_plan(settings)),
        id=workflow_id(webhook_id),
        task_queue=settings.task_queue,
        start_signal="wake",
        static_summary=f"webhook {webhook_id}",
    )


async def create_webhook(
    *, session: Session, settings: Settings, tenant_id: str, fields: Mapping[str, Any]
) -> Webhook:
    await check_url(fields["url"], settings)
    return store.create_webhook(session, tenant_id=tenant_id, fields=fields)


async def update_webhook(
    *,
    session: Session,
    settings: Settings,
    client: Client,
    tenant_id: str,
    webhook_id: str,
    changes: Mapping[str, Any],
) -> Webhook:
    """Change it; switched on again, its waiting deliveries go out."""
    store.get_webhook(session, tenant_id=tenant_id, webhook_id=webhook_id)
    if "url" in changes:
        await check_url(changes["url"], settings)
    webhook = store.update_webhook(
        session, tenant_id=tenant_id, webhook_id=webhook_id, changes=changes
    )
    if changes.get("active"):
        await wake(client, settings, webhook_id=webhook.id, tenant_id=tenant_id)
    return webhook


async def redeliver(
    *,
    session: Session,
    settings: Settings,
    client: Client,
    tenant_id: str,
    webhook_id: str,
    delivery_id: str,
) -> WebhookDelivery:
    delivery = store.redeliver(
        session, tenant_id=tenant_id, webhook_id=webhook_id, delivery_id=delivery_id
    )
    await wake(client, settings, webhook_id=webhook_id, tenant_id=tenant_id)
    return delivery


@dataclass
class FanOut:
    """The fan-out's place in the event log, kept between passes."""

    cursor: int | None = None
    """Every event up to here was read (but ids that commit late)."""
    floor: int = 0
    """Every event up to here was offered: the lookback starts above it."""
    offered: set[int] = field(default_factory=set)
    marks: deque[tuple[float, int]] = field(default_factory=deque)
    passes: int = 0
    saved: int = 0
    saved_at: float = float("-inf")
    behind: bool = False
    """The last pass read a full batch: the next one follows at once."""

    def run_once(self, engine: Engine) -> set[str]:
        """One pass (blocking): the ids of the webhooks given new deliveries."""
        if self.cursor is None:
            self.floor = self.saved = store.read_cursor(engine)
            self.cursor = self.floor
        woken: set[str] = set()
        late = store.event_ids(engine, above=self.floor, up_to=self.cursor) - self.offered
        if late:
            offered = store.offer_events(engine, after=self.floor, only=late)
            self.offered.update(offered.event_ids)
            woken |= offered.webhook_ids
        offered = store.offer_events(engine, after=self.cursor)
        self.offered.update(offered.event_ids)
        woken |= offered.webhook_ids
        self.cursor, self.behind = offered.last_event_id, offered.more
        self._advance_floor(engine)
        return woken

    def _advance_floor(self, engine: Engine) -> None:
        now = time.monotonic()
        assert self.cursor is not None
        self.marks.append((now, self.cursor))
        floor = self.floor
        while self.marks and now - self.marks[0][0] >= LOOKBACK_S:
            floor = max(floor, self.marks.popleft()[1])
        if floor > self.floor:
            self.floor = floor
            self.offered = {i for i in self.offered if i > floor}
        if self.floor > self.saved and now - self.saved_at >= LOOKBACK_S:
            # Kept for a restart only (reading again from an older place delivers nothing
            # twice), so written now and then, not on every pass.
            store.save_cursor(engine, self.floor)
            self.saved, self.saved_at = self.floor, now


async def fan_out(app: FastAPI, state: FanOut) -> None:
    """One pass, and the wake-ups it calls for."""
    settings: Settings = app.state.settings
    engine: Engine = app.state.engine
    woken = await run_in_threadpool(state.run_once, engine)
    state.passes += 1
    targets = {w: None for w in woken}
    if state.passes % REWAKE_EVERY == 0:
        pending = await run_in_threadpool(store.webhooks_with_pending, engine)
        targets.update({w: None for w, _ in pending})
    if not targets:
        return
    client = await temporal_client_of(app.state)
    tenants = await run_in_threadpool(_tenants_of, engine, list(targets))
    for webhook_id, tenant_id in tenants.items():
        await wake(client, settings, webhook_id=webhook_id, tenant_id=tenant_id)


def _tenants_of(engine: Engine, webhook_ids: list[str]) -> dict[str, str]:
    with Session(engine) as session:
        rows = (session.get(Webhook, i) for i in webhook_ids)
        return {w.id: w.tenant_id for w in rows if w is not None}


async def fan_out_forever(app: FastAPI) -> None:
    """Every `FLOWDECK_WEBHOOK_SWEEP_S`; a failed pass is logged and the next tries again."""
    settings: Settings = app.state.settings
    state = FanOut()
    while True:
        try:
            await fan_out(app, state)
        except Exception as exc:
            log.error("webhooks.fan_out_failed", error=f"{type(exc).__name__}: {exc}")
            state.behind = False
        await asyncio.sleep(0 if state.behind else settings.webhook_sweep_s)
