"""Lead intake and engagement: store the contact, then start the one flow it matches.

A contact is stored first and never lost because engagement failed: the outcome of
engagement (started, skipped, no match, or the error) travels back beside it. Skips (a DNC
tag, the cooldown) are executions of their own, with status `skipped` and the reason, and
a `flow.skipped` event; no workflow runs for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.errors import ServiceUnavailableError
from api.services import runs
from schemas.execution import SIGNAL_CONTACT_UPDATED, ContactUpdate
from schemas.settings import Settings
from schemas.triggers import DNC_REASON, LEAD_CREATED, Match, choose_flow, is_dnc
from store import contacts, matching
from store.models import Contact, Flow

log = structlog.get_logger(__name__)

ClientSource = Callable[[], Awaitable[Client]]
"""How engagement gets the Temporal client: only when a flow is to start."""
SIGNAL_CONCURRENCY = 20


@dataclass(frozen=True, kw_only=True)
class Engaged:
    contact: Contact
    created: bool
    engagement: dict[str, Any]


def _trigger(contact: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": LEAD_CREATED,
        "contact_id": contact["id"],
        "lead_source": contact.get("lead_source"),
        "entry_type": contact.get("entry_type"),
    }


def _match(engine: Engine, *, tenant_id: str, contact: dict[str, Any]) -> tuple[Match, Flow | None]:
    with Session(engine, expire_on_commit=False) as session:
        flows = {f.id: f for f in matching.lead_flows(session, tenant_id=tenant_id)}
    match = choose_flow((matching.candidate_of(f) for f in flows.values()), contact)
    return match, flows.get(match.flow_id) if match.flow_id else None


def _skipped(execution_id: str, flow: Flow, reason: str, match: Match) -> dict[str, Any]:
    return {
        "status": "skipped",
        "reason": reason,
        "execution_id": execution_id,
        "flow_id": flow.id,
        "match": match.as_dict(),
    }


def _prepare(
    engine: Engine,
    *,
    settings: Settings,
    flow: Flow,
    contact: dict[str, Any],
    match: Match,
    trigger: dict[str, Any],
    variables: dict[str, Any],
    campaign_id: str | None,
) -> runs.PreparedRun:
    """The lead's execution, waiting for the flow's business hours before its first step."""
    with Session(engine, expire_on_commit=False) as session:
        return runs.prepare_run(
            session,
            settings=settings,
            tenant_id=flow.tenant_id,
            flow_id=flow.id,
            version=None,
            test=False,
            contact=contact,
            variables=variables,
            trigger=trigger,
            contact_id=contact["id"],
            match=match.as_dict(),
            respect_business_hours=True,
            campaign_id=campaign_id,
        )


async def start(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    flow: Flow,
    contact: dict[str, Any],
    match: Match,
    trigger: dict[str, Any] | None = None,
    variables: dict[str, Any] | None = None,
    campaign_id: str | None = None,
) -> dict[str, Any]:
    """Start the flow for the contact under the guards (DNC, cooldown, business hours), or
    record the skip; `trigger` is the run's trigger data (a new lead's by default),
    `variables` its starting `vars` (none by default), `campaign_id` the campaign the run is
    for (its recordings are filed under it, and the campaign is in use while it exists)."""
    trigger = trigger or _trigger(contact)
    if is_dnc(contact):
        skipped = await run_in_threadpool(
            matching.skip,
            engine,
            flow=flow,
            contact=contact,
            trigger=trigger,
            match=match.as_dict(),
            reason=DNC_REASON,
        )
        log.info(
            "lead skipped" if trigger.get("type") == LEAD_CREATED else "flow trigger skipped",
            trigger=trigger.get("type"),
            contact_id=contact["id"],
            flow_id=flow.id,
            reason=DNC_REASON,
        )
        return _skipped(skipped.id, flow, DNC_REASON, match)
    client = await client_source()
    prepared = await run_in_threadpool(
        _prepare,
        engine,
        settings=settings,
        flow=flow,
        contact=contact,
        match=match,
        trigger=trigger,
        variables=variables or {},
        campaign_id=campaign_id,
    )
    admission = await run_in_threadpool(
        matching.admit,
        engine,
        flow=flow,
        contact=contact,
        trigger=trigger,
        match=match.as_dict(),
        execution=prepared.execution,
    )
    if not admission.entered:
        assert admission.skipped is not None
        reason = admission.skipped.reason or "skipped"
        return _skipped(admission.skipped.id, flow, reason, match)
    try:
        execution = await runs.launch_run(
            engine=engine, client=client, settings=settings, prepared=prepared
        )
    except ServiceUnavailableError:
        # Temporal refused the start (the row says so): the lead did not enter, and its next
        # post may try again at once. Interrupted otherwise, the row stays pending and the
        # start sweeper makes the start, so the claim stands.
        await run_in_threadpool(
            matching.release_entry,
            engine,
            flow_id=flow.id,
            contact_id=contact["id"],
            execution_id=prepared.execution.id,
        )
        raise
    log.info(
        "lead engaged" if trigger.get("type") == LEAD_CREATED else "flow triggered",
        trigger=trigger.get("type"),
        contact_id=contact["id"],
        flow_id=flow.id,
        execution_id=execution.id,
    )
    return {
        "status": "started",
        "execution_id": execution.id,
        "flow_id": flow.id,
        "match": match.as_dict(),
    }


async def engage(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    contact: dict[str, Any],
) -> dict[str, Any]:
    """Start the flow this lead matches, or say why nothing started; never raises."""
    try:
        match, flow = await run_in_threadpool(_match, engine, tenant_id=tenant_id, contact=contact)
        if flow is None:
            return {"status": "no_match", "match": match.as_dict()}
        return await start(
            engine=engine,
            settings=settings,
            client_source=client_source,
            flow=flow,
            contact=contact,
            match=match,
        )
    except Exception as exc:  # the contact is stored whatever happens here; the reason is told
        log.warning("lead engagement failed", contact_id=contact.get("id"), error=str(exc))
        return {"status": "error", "reason": str(exc) or type(exc).__name__}


async def notify_executions(
    *, engine: Engine, client_source: ClientSource, tenant_id: str, contact: dict[str, Any]
) -> int:
    """Send the contact as it is now to its unfinished executions; returns how many took it."""
    with Session(engine, expire_on_commit=False) as session:
        live = await run_in_threadpool(
            matching.live_executions_of, session, tenant_id=tenant_id, contact_id=contact["id"]
        )
    if not live:
        return 0
    try:
        client = await client_source()
    except ServiceUnavailableError as exc:
        log.warning("contact update not signalled", contact_id=contact["id"], error=str(exc))
        return 0
    gate = asyncio.Semaphore(SIGNAL_CONCURRENCY)
    update = ContactUpdate(contact=contact)

    async def signal(workflow_id: str) -> bool:
        async with gate:
            try:
                await client.get_workflow_handle(workflow_id).signal(
                    SIGNAL_CONTACT_UPDATED, update, rpc_timeout=runs.RPC_TIMEOUT
                )
            except RPCError as exc:
                if exc.status != RPCStatusCode.NOT_FOUND:
                    log.warning(
                        "contact update not signalled", workflow_id=workflow_id, error=str(exc)
                    )
                return False  # NOT_FOUND: it finished meanwhile, nothing to tell it
            return True

    delivered = await asyncio.gather(*(signal(e.workflow_id) for e in live))
    return sum(delivered)


async def intake(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    fields: Mapping[str, Any],
) -> Engaged:
    """Store a lead (a known phone merges into its contact), then engage it."""
    saved = await run_in_threadpool(
        contacts.save_contact, engine, tenant_id=tenant_id, fields=fields
    )
    contact = contacts.contact_dict(saved.contact)
    if saved.changed and not saved.created:
        await notify_executions(
            engine=engine, client_source=client_source, tenant_id=tenant_id, contact=contact
        )
    engagement = await engage(
        engine=engine,
        settings=settings,
        client_source=client_source,
        tenant_id=tenant_id,
        contact=contact,
    )
    return Engaged(contact=saved.contact, created=saved.created, engagement=engagement)


async def change_contact(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    contact_id: str,
    changes: Mapping[str, Any],
) -> Engaged:
    """PATCH: tell running executions; a first lead source engages the contact as a new lead."""
    saved = await run_in_threadpool(
        contacts.update_contact,
        engine,
        tenant_id=tenant_id,
        contact_id=contact_id,
        changes=changes,
    )
    contact = contacts.contact_dict(saved.contact)
    if saved.changed:
        await notify_executions(
            engine=engine, client_source=client_source, tenant_id=tenant_id, contact=contact
        )
    engagement: dict[str, Any] = {"status": "not_triggered"}
    if saved.source_set:
        engagement = await engage(
            engine=engine,
            settings=settings,
            client_source=client_source,
            tenant_id=tenant_id,
            contact=contact,
        )
    return Engaged(contact=saved.contact, created=False, engagement=engagement)
