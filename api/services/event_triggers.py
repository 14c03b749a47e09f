"""Posted events: every enabled, published flow whose `event` trigger names the event and whose
conditions on `trigger.*` hold starts for the contact, under the lead guards (DNC, cooldown,
business hours: `engagement.start`); the answer says what started and what was skipped, why.

With an `Idempotency-Key`, the post first claims the key (`store.event_triggers.claim`); a
retry with the key gets the stored answer and starts nothing.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.errors import ForbiddenError
from api.services import engagement
from api.services.engagement import ClientSource
from schemas.event_triggers import EventTrigger, judge, trigger_data
from schemas.settings import Settings
from schemas.triggers import Match
from store import contacts
from store import event_triggers as posts
from store.errors import ConflictError
from store.models import Flow

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Fired:
    result: dict[str, Any]
    replayed: bool
    """The stored answer of an earlier post with the same `Idempotency-Key`."""


def fingerprint(name: str, body: Mapping[str, Any]) -> str:
    raw = json.dumps({"event": name, "body": body}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _flows(engine: Engine, *, tenant_id: str, name: str) -> list[Flow]:
    with Session(engine, expire_on_commit=False) as session:
        return posts.event_flows(session, tenant_id=tenant_id, name=name)


def _why_not(flow: Flow, data: dict[str, Any]) -> tuple[str | None, str]:
    """Why this flow does not start (None: it does), and the reason it matched."""
    if not flow.enabled:
        return "the flow is disabled", ""
    if flow.published_version is None:
        return "the flow has no published version", ""
    try:
        trigger = EventTrigger.model_validate(flow.trigger)
    except ValidationError as exc:
        return f"invalid event trigger: {exc.errors()[0]['msg']}", ""
    matched, reason = judge(trigger.conditions, data)
    return (None, reason) if matched else (f"conditions false: {reason}", reason)


def _skip(flow: Flow, reason: str, execution_id: str | None = None) -> dict[str, Any]:
    return {
        "flow_id": flow.id,
        "flow_name": flow.name,
        "reason": reason,
        "execution_id": execution_id,
    }


async def _handle(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    name: str,
    contact_id: str | None,
    fields: Mapping[str, Any],
    payload: dict[str, Any],
    only_flow_id: str | None,
) -> dict[str, Any]:
    contact, changed = await run_in_threadpool(
        contacts.given_contact, engine, tenant_id=tenant_id, contact_id=contact_id, fields=fields
    )
    if changed:
        await engagement.notify_executions(
            engine=engine, client_source=client_source, tenant_id=tenant_id, contact=contact
        )
    data = trigger_data(name, contact_id=contact["id"], payload=payload)
    started: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    flows = await run_in_threadpool(_flows, engine, tenant_id=tenant_id, name=name)
    for flow in (f for f in flows if only_flow_id in (None, f.id)):
        why_not, reason = _why_not(flow, data)
        if why_not is not None:
            skipped.append(_skip(flow, why_not))
            continue
        match = Match(flow_id=flow.id, priority=flow.priority, reason=reason)
        outcome = await engagement.start(
            engine=engine,
            settings=settings,
            client_source=client_source,
            flow=flow,
            contact=contact,
            match=match,
            trigger=data,
        )
        if outcome["status"] == "started":
            started.append(
                {
                    "flow_id": flow.id,
                    "flow_name": flow.name,
                    "execution_id": outcome["execution_id"],
                }
            )
        else:
            skipped.append(_skip(flow, outcome["reason"], outcome["execution_id"]))
    log.info("event posted", event_name=name, started=len(started), skipped=len(skipped))
    return {"event": name, "contact_id": contact["id"], "started": started, "skipped": skipped}


async def fire(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    name: str,
    contact_id: str | None,
    fields: Mapping[str, Any],
    payload: dict[str, Any],
    idempotency_key: str | None,
    request_fingerprint: str,
    only_flow_id: str | None = None,
) -> Fired:
    """Start the flows the event triggers (only `only_flow_id`, when given: a flow's inbound
    hook), once per `idempotency_key` (when given)."""
    handle = functools.partial(
        _handle,
        engine=engine,
        settings=settings,
        client_source=client_source,
        tenant_id=tenant_id,
        name=name,
        contact_id=contact_id,
        fields=fields,
        payload=payload,
        only_flow_id=only_flow_id,
    )
    if idempotency_key is None:
        return Fired(result=await handle(), replayed=False)
    claim = await run_in_threadpool(
        posts.claim,
        engine,
        tenant_id=tenant_id,
        key=idempotency_key,
        event=name,
        fingerprint=request_fingerprint,
    )
    if not claim.ours:
        earlier = claim.earlier
        if earlier is None:  # claimed, then given up by a post that failed: try again
            raise ConflictError("a post with this Idempotency-Key failed just now; retry it")
        if earlier.fingerprint != request_fingerprint:
            raise ConflictError("this Idempotency-Key was used for another request")
        if earlier.result is None:
            raise ConflictError("a post with this Idempotency-Key is being handled; retry later")
        return Fired(result=earlier.result, replayed=True)
    try:
        result = await handle()
    except BaseException:
        await run_in_threadpool(posts.release, engine, tenant_id=tenant_id, key=idempotency_key)
        raise
    await run_in_threadpool(
        posts.remember, engine, tenant_id=tenant_id, key=idempotency_key, result=result
    )
    return Fired(result=result, replayed=False)


SIGNATURE_HEADER = "Flowdeck-Signature"
TOLERANCE_S = 300
"""How far a signed request's timestamp may be from our clock, either way (replays)."""


def new_secret() -> str:
    return "fdhook_" + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `Flowdeck-Signature` value: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, body: bytes, header: str | None, *, now: float | None = None) -> None:
    """Raise ForbiddenError (403) unless the header signs this body with the secret, with a
    timestamp within the tolerance; several `v1=` (a rotation) are accepted."""
    parts = [p.strip().partition("=") for p in (header or "").split(",")]
    stamps = [v for k, _, v in parts if k == "t"]
    signatures = [v for k, _, v in parts if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isascii() or not stamps[0].isdigit() or not signatures:
        raise ForbiddenError(f"missing or malformed {SIGNATURE_HEADER} header")
    timestamp = int(stamps[0])
    if abs((now if now is not None else time.time()) - timestamp) > TOLERANCE_S:
        raise ForbiddenError(f"the signature's timestamp is more than {TOLERANCE_S} s off")
    expected = sign(secret, body, timestamp=timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected.encode(), s.encode()) for s in signatures):
        raise ForbiddenError("bad signature")
