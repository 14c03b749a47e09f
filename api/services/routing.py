"""Routing from the API: an existing call to a department, agents freed by hand, queues read.

The live call is redirected through Twilio's REST API (`calls(sid).update(twiml=...)`) when
voice goes through Twilio; in sandbox mode the TwiML is recorded in the outbox instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

import httpx
import structlog
from fastapi import Depends, FastAPI, Request
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from twilio.base.exceptions import TwilioException, TwilioRestException

from api import twiml
from api.deps import get_temporal
from api.errors import ServiceUnavailableError
from providers import offers
from providers.twilio_rest import TwilioNotConfigured, client_over
from schemas.call import Routed, dial_port, queue_port
from schemas.settings import Settings
from store import routing, telephony
from store.db import session_scope
from store.errors import ConflictError, NotFoundError
from store.models import Agent, ApiKey, OutboxMessage, utcnow
from store.outbox import insert_message_once

log = structlog.get_logger(__name__)


class TwilioHttp:
    """The HTTP client the API's Twilio requests go through, opened on first use (most
    requests never need one); tests hand in one routed to a fake Twilio."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client
        self._owned = client is None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._owned and self._client is not None:
            await self._client.aclose()


async def get_twilio_http() -> AsyncIterator[TwilioHttp]:
    holder = TwilioHttp()
    try:
        yield holder
    finally:
        await holder.aclose()


TwilioHttpDep = Annotated[TwilioHttp, Depends(get_twilio_http)]


async def temporal_or_none(request: Request) -> Client | None:
    """The app's Temporal client, or None when Temporal is down: a caller's workflow not
    hearing about its agent must not stop the agent's call."""
    try:
        return await get_temporal(request)
    except ServiceUnavailableError:
        return None


# --- routing an existing call --------------------------------------------------------------


def _route(
    engine: Engine,
    *,
    tenant_id: str,
    call_sid: str,
    department: str,
    priority: int,
    skills: Sequence[str],
    context: dict[str, Any],
) -> tuple[Routed, str | None]:
    with session_scope(engine) as session:
        try:
            found = routing.find_department(session, tenant_id=tenant_id, department=department)
        except routing.RoutingError as exc:
            raise NotFoundError(str(exc)) from None
        execution = routing.execution_for_call(session, tenant_id=tenant_id, call_sid=call_sid)
        if execution is not None:
            context = {**context, "path": routing.path_of(session, execution_id=execution.id)}
        execution_id = execution.id if execution is not None else None
    try:
        routed = routing.route(
            engine,
            tenant_id=tenant_id,
            department=found.id,
            skills=skills,
            execution_id=execution_id,
            call_sid=call_sid,
            priority=priority,
            context=context,
        )
    except routing.RoutingError as exc:
        raise ConflictError(str(exc)) from None
    return routed, execution_id


async def _redirect(settings: Settings, http: TwilioHttp, call_sid: str, document: str) -> None:
    try:
        await client_over(settings, http.client).calls(call_sid).update_async(twiml=document)
    except TwilioRestException as exc:
        if 400 <= exc.status < 500 and exc.status not in (408, 429):
            raise ConflictError(
                f"Twilio refused to redirect call {call_sid}: {exc.status} {exc.msg}"
            ) from None
        raise ServiceUnavailableError(f"Twilio answered {exc.status}: {exc.msg}") from None
    except (TwilioException, httpx.HTTPError) as exc:
        raise ServiceUnavailableError(f"Twilio is unreachable: {exc}") from None
    except TwilioNotConfigured as exc:
        raise ServiceUnavailableError(str(exc)) from None


async def route_call(
    *,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    tenant_id: str,
    call_sid: str,
    department: str,
    priority: int,
    skills: Sequence[str],
    context: dict[str, Any],
) -> dict[str, Any]:
    """Route a live call to a department: straight to an available agent, else its queue."""
    routed, execution_id = await run_in_threadpool(
        _route,
        engine,
        tenant_id=tenant_id,
        call_sid=call_sid,
        department=department,
        priority=priority,
        skills=skills,
        context=context,
    )
    document = twiml.routed(routed, base_url=settings.public_base_url)
    if settings.provider_voice == "twilio":
        try:
            await _redirect(settings, http, call_sid, document)
        except (ConflictError, ServiceUnavailableError):
            # The call never reached the agent or the queue: undo the claim.
            await run_in_threadpool(
                routing.release,
                engine,
                tenant_id=tenant_id,
                agent_id=routed.agent_id,
                queue_entry_id=routed.queue_entry_id,
                outcome="failed",
            )
            raise
    else:
        message = OutboxMessage(
            tenant_id=tenant_id,
            execution_id=execution_id,
            channel="voice",
            to=call_sid,
            content={"purpose": "route_call", "twiml": document, "call_sid": call_sid},
            idempotency_key=f"route-call:{routed.queue_entry_id}",
        )
        await run_in_threadpool(insert_message_once, engine, message)
    log.info(
        "call.routed",
        call_sid=call_sid,
        action=routed.action,
        agent_id=routed.agent_id,
        queue_entry_id=routed.queue_entry_id,
    )
    answer: dict[str, Any] = {
        "queue_entry_id": routed.queue_entry_id,
        "department": {"id": routed.department_id, "name": routed.department},
        "overflow_from": routed.overflow_from,
        "execution_id": execution_id,
    }
    if routed.action == "dial":
        agent = {
            "id": routed.agent_id,
            "name": routed.agent_name,
            "phone": routed.number,
            "client_identity": routed.client,
        }
        return {"status": "dialing", "agent": agent, **answer}
    return {"status": "queued", "queue": routed.queue, "position": routed.position, **answer}


# --- agents freed by hand ------------------------------------------------------------------


def may_set_status(key: ApiKey, agent: Agent) -> bool:
    """Managers and admins set any agent's status; an agent key its own agent's: the key's
    name is the agent's id or name, as a human task's assignee names the key."""
    if key.role in ("admin", "manager"):
        return True
    return key.role == "agent" and key.name in (agent.id, agent.name)


async def agent_available(
    *,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
    tenant_id: str,
    agent_id: str,
) -> routing.Offer | None:
    """An agent says it is free: its open offers end, and the next waiting caller is offered
    to it. A failed call to the agent leaves the caller waiting and the agent available."""
    await run_in_threadpool(
        routing.close_offers, engine, tenant_id=tenant_id, agent_id=agent_id, outcome="released"
    )
    return await offer_waiting(
        engine=engine,
        settings=settings,
        http=http,
        temporal=temporal,
        tenant_id=tenant_id,
        agent_id=agent_id,
    )


async def offer_waiting(
    *,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
    tenant_id: str,
    agent_id: str,
) -> routing.Offer | None:
    """The first waiting caller an available agent can take (its departments, its skills),
    offered to it at once; None when there is none or the call to the agent failed."""
    offer = await run_in_threadpool(
        routing.next_offer, engine, tenant_id=tenant_id, agent_id=agent_id
    )
    if offer is None or not await _dispatch(offer, engine, settings, http, temporal):
        return None
    return offer


async def _dispatch(
    offer: routing.Offer,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
) -> bool:
    """Call the agent into the queue; False (logged, the offer withdrawn) when that failed."""
    try:
        await offers.dispatch_offer(
            offer, engine=engine, settings=settings, http=http.client, temporal=temporal
        )
    except offers.DispatchError as exc:
        log.warning("agent.offer_failed", agent_id=offer.agent_id, error=str(exc))
        return False
    return True


MISSED = frozenset({"no-answer", "busy", "failed", "canceled"})


async def offer_ended(
    *,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
    queue_entry_id: str,
    agent_id: str,
    call_status: str,
) -> routing.Offer | None:
    """The status callback of an agent's call into a queue. A missed one (no answer, busy,
    failed) puts the caller back in line, sets the agent offline and offers the caller to
    the longest-idle available agent of its department; a completed one changes nothing (the
    caller's `<Enqueue>` action ends the transfer)."""
    if call_status not in MISSED:
        return None
    tenant_id, candidates = await run_in_threadpool(
        routing.missed_offer, engine, queue_entry_id=queue_entry_id, agent_id=agent_id
    )
    log.info("queue_offer.missed", queue_entry_id=queue_entry_id, agent_id=agent_id)
    return await _offer_to_first(
        candidates, tenant_id=tenant_id, engine=engine, settings=settings, http=http,
        temporal=temporal,
    )  # fmt: skip


async def _offer_to_first(
    candidates: Sequence[str],
    *,
    tenant_id: str,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
) -> routing.Offer | None:
    """Offer the first of `candidates` (available agents) that takes a waiting caller."""
    for candidate in candidates:
        offer = await run_in_threadpool(
            routing.next_offer, engine, tenant_id=tenant_id, agent_id=candidate
        )
        if offer is not None and await _dispatch(offer, engine, settings, http, temporal):
            return offer
    return None


# --- the end of a call routed by the API ------------------------------------------------------


class UnknownEntry(LookupError):
    """A routed-call callback names a queue entry we do not have."""


async def routed_call_ended(
    *,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
    temporal: Client | None,
    queue_entry_id: str,
    agent_id: str | None,
    fields: dict[str, str],
) -> str:
    """The `<Dial>` (of `agent_id`) or `<Enqueue>` of a call routed by the API ended; the
    TwiML that follows.

    A dialled agent who did not answer (busy, no answer, failed) is set offline, as a missed
    queue offer is, and the caller waits in the department's queue, offered at once to the
    longest-idle available agent. Otherwise the transfer is over: its entry closed with the
    outcome (connected, no_answer, failed), its agent available again and offered the next
    waiting caller, and the call hangs up. A retried callback gets the same TwiML and
    changes nothing more.
    """
    state = await run_in_threadpool(routing.entry_state, engine, queue_entry_id=queue_entry_id)
    if state is None:
        raise UnknownEntry(f"no routed call {queue_entry_id!r}")
    base = settings.public_base_url
    if "DialCallStatus" in fields:
        outcome = dial_port(fields["DialCallStatus"])
        if outcome != "connected" and state.queue and state.status != routing.DONE:
            requeue = Routed(action="enqueue", queue=state.queue, queue_entry_id=queue_entry_id)
            notice = "Nobody could take your call just now. Please hold."
            tenant_id, candidates = "", list[str]()
            if agent_id is not None:
                tenant_id, candidates = await run_in_threadpool(
                    routing.missed_offer, engine, queue_entry_id=queue_entry_id, agent_id=agent_id
                )
            if tenant_id:  # else a retried callback: the caller is back in line already
                log.info("routed_call.missed", queue_entry_id=queue_entry_id, outcome=outcome)
                await _offer_to_first(
                    candidates, tenant_id=tenant_id, engine=engine, settings=settings,
                    http=http, temporal=temporal,
                )  # fmt: skip
            return twiml.routed(requeue, base_url=base, notice=notice)
    else:
        outcome = queue_port(fields.get("QueueResult"))
    offer = await run_in_threadpool(
        routing.release,
        engine,
        tenant_id=state.tenant_id,
        agent_id=None,
        queue_entry_id=queue_entry_id,
        outcome=outcome,
    )
    log.info("routed_call.ended", queue_entry_id=queue_entry_id, outcome=outcome)
    if offer is not None:
        await _dispatch(offer, engine, settings, http, temporal)
    return twiml.hangup()


# --- offers whose dispatch died --------------------------------------------------------------


async def sweep_stale_offers(
    *, engine: Engine, settings: Settings, http: TwilioHttp, temporal: Client | None
) -> list[str]:
    """Put back in line the callers of offers claimed more than `FLOWDECK_OFFER_GRACE_S` ago
    whose call to the agent was never placed, and offer each to the longest-idle available
    agent of its department; the queue entries swept."""
    before = utcnow() - timedelta(seconds=settings.offer_grace_s)
    reclaimed = await run_in_threadpool(routing.reclaim_stale_offers, engine, offered_before=before)
    for entry in reclaimed:
        log.warning("queue_offer.reclaimed", queue_entry_id=entry.queue_entry_id)
        await _offer_to_first(
            entry.agents, tenant_id=entry.tenant_id, engine=engine, settings=settings,
            http=http, temporal=temporal,
        )  # fmt: skip
    return [entry.queue_entry_id for entry in reclaimed]


async def sweep_offers_forever(app: FastAPI) -> None:
    """Every `FLOWDECK_OFFER_SWEEP_S`, `sweep_stale_offers`; a failed sweep is logged and
    the next one tries again. Several API processes may sweep: each entry is taken once."""
    settings: Settings = app.state.settings
    http = TwilioHttp()
    try:
        while True:
            await asyncio.sleep(settings.offer_sweep_s)
            try:
                await sweep_stale_offers(
                    engine=app.state.engine,
                    settings=settings,
                    http=http,
                    temporal=app.state.temporal_client,
                )
            except Exception as exc:
                log.error("queue_offer.sweep_failed", error=f"{type(exc).__name__}: {exc}")
    finally:
        await http.aclose()


# --- a department's queue ------------------------------------------------------------------


def queue_of(engine: Engine, *, tenant_id: str, department_id: str) -> list[dict[str, Any]]:
    """The callers waiting in a department, in the order they will be served."""
    now: datetime = utcnow()
    with session_scope(engine) as session:
        telephony.get_department(session, tenant_id=tenant_id, department_id=department_id)
        entries = routing.waiting_entries(session, tenant_id=tenant_id, department_id=department_id)
    return [
        {
            "id": e.id,
            "position": i,
            "call_sid": e.call_sid,
            "execution_id": e.execution_id,
            "priority": e.priority,
            "skills": list(e.skills or []),
            "enqueued_at": e.enqueued_at,
            "waited_s": max(0, int((now - e.enqueued_at).total_seconds())),
            "context": e.context or {},
        }
        for i, e in enumerate(entries, start=1)
    ]
