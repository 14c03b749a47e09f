"""Campaign flows: a call's trigger (`outbound_start`, `inbound_start`, `manual`) starts the
best-priority active assignment of the campaign whose conditions hold and whose flow is enabled
and published, through the lead guards (DNC, cooldown, business hours: `engagement.start`),
with `trigger.call_id`, `trigger.agent_id`, `trigger.campaign_id` and `trigger.context`; a
`flow.assigned` event records the choice. The answer says what started, or why nothing did.

Calls fire their campaign's triggers on their own, once per CallSid (`fire_for_call`):
- `inbound_start`: a call to a number deployed for a campaign (`on_inbound_call`);
- `outbound_start`: a call a run placed for a campaign (an `ai_call` of a run that carries a
  `campaign_id`), when it is answered (`on_outbound_call`): its `agent_id` is the step's, its
  contact the run's. A run that the campaign's own `outbound_start` started fires nothing
  more, so a flow assigned to it that places calls does not start itself again and again.
A retried webhook or a repeated status callback finds the call's claim (the `event_post` row
keyed `call:<trigger>:<CallSid>`) and starts nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.services import engagement
from api.services.engagement import ClientSource
from schemas.campaign_triggers import CampaignCondition, judge, trigger_data
from schemas.settings import Settings
from schemas.triggers import E164, Candidate, choose
from store import campaign_flows, contacts, events
from store import event_triggers as claims
from store.campaigns import get_campaign
from store.models import CampaignFlow, Flow

log = structlog.get_logger(__name__)


def _assignments(
    engine: Engine, *, tenant_id: str, campaign_id: str, trigger: str
) -> list[tuple[CampaignFlow, Flow]]:
    with Session(engine, expire_on_commit=False) as session:
        get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
        return campaign_flows.triggered(
            session, tenant_id=tenant_id, campaign_id=campaign_id, trigger=trigger
        )


def _verdict(
    assignment: CampaignFlow, flow: Flow, data: dict[str, Any], contact: dict[str, Any]
) -> tuple[bool, str]:
    if not assignment.active:
        return False, "the assignment is inactive"
    if not flow.enabled:
        return False, "the flow is disabled"
    if flow.published_version is None:
        return False, "the flow has no published version"
    try:
        conditions = [CampaignCondition.model_validate(c) for c in assignment.conditions]
    except ValidationError as exc:
        return False, f"invalid condition: {exc.errors()[0]['msg']}"
    matched, reason = judge(conditions, data, contact)
    return (True, reason) if matched else (False, f"conditions false: {reason}")


def _record_assigned(
    engine: Engine, *, flow: Flow, assignment: CampaignFlow, outcome: dict[str, Any]
) -> None:
    with Session(engine) as session:
        events.record_event(
            session,
            tenant_id=flow.tenant_id,
            type_="flow.assigned",
            flow_id=flow.id,
            execution_id=outcome.get("execution_id"),
            data={
                "campaign_id": assignment.campaign_id,
                "assignment_id": assignment.id,
                "trigger": assignment.trigger,
                "status": outcome["status"],
            },
        )
        session.commit()


async def fire(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    tenant_id: str,
    campaign_id: str,
    trigger: str,
    call_id: str,
    agent_id: str | None,
    context: dict[str, Any],
    contact_id: str | None,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Start the campaign's best matching flow for this trigger, or say why none started."""
    pairs = await run_in_threadpool(
        _assignments, engine, tenant_id=tenant_id, campaign_id=campaign_id, trigger=trigger
    )
    contact, changed = await run_in_threadpool(
        contacts.given_contact, engine, tenant_id=tenant_id, contact_id=contact_id, fields=fields
    )
    if changed:
        await engagement.notify_executions(
            engine=engine, client_source=client_source, tenant_id=tenant_id, contact=contact
        )
    data = trigger_data(
        trigger,
        campaign_id=campaign_id,
        call_id=call_id,
        agent_id=agent_id,
        contact_id=contact["id"],
        context=context,
    )
    by_flow = {flow.id: (assignment, flow) for assignment, flow in pairs}
    candidates = [
        Candidate(
            flow_id=flow.id,
            name=flow.name,
            priority=assignment.priority,
            created_at=assignment.created_at,
        )
        for assignment, flow in pairs
    ]
    match = choose(
        candidates,
        lambda c: _verdict(*by_flow[c.flow_id], data, contact),
        none_reason=f"no active {trigger} assignment of an enabled, published flow matches",
    )
    passed_over = [
        {
            "assignment_id": by_flow[v.flow_id][0].id,
            "flow_id": v.flow_id,
            "flow_name": v.name,
            "reason": v.reason,
        }
        for v in match.candidates
        if v.flow_id != match.flow_id
    ]
    answer: dict[str, Any] = {
        "campaign_id": campaign_id,
        "trigger": trigger,
        "contact_id": contact["id"],
        "passed_over": passed_over,
    }
    if match.flow_id is None:
        log.info("campaign flow not matched", campaign_id=campaign_id, trigger=trigger)
        return {**answer, "status": "no_match", "reason": match.reason}
    assignment, flow = by_flow[match.flow_id]
    outcome = await engagement.start(
        engine=engine,
        settings=settings,
        client_source=client_source,
        flow=flow,
        contact=contact,
        match=match,
        trigger=data,
        campaign_id=campaign_id,
    )
    await run_in_threadpool(
        _record_assigned, engine, flow=flow, assignment=assignment, outcome=outcome
    )
    log.info(
        "campaign flow fired",
        campaign_id=campaign_id,
        trigger=trigger,
        flow_id=flow.id,
        status=outcome["status"],
    )
    return {
        **answer,
        "status": outcome["status"],
        "reason": match.reason if outcome["status"] == "started" else outcome["reason"],
        "assignment_id": assignment.id,
        "flow_id": flow.id,
        "flow_name": flow.name,
        "execution_id": outcome["execution_id"],
    }


async def fire_for_call(
    *,
    engine: Engine,
    tenant_id: str,
    campaign_id: str,
    trigger: str,
    call_id: str,
    **rest: Any,
) -> dict[str, Any] | None:
    """`fire` (`rest`: its other arguments), once for the call: None when this call already
    fired this trigger."""
    key = f"call:{trigger}:{call_id}"
    fingerprint = hashlib.sha256(f"{campaign_id}:{trigger}:{call_id}".encode()).hexdigest()
    claim = await run_in_threadpool(
        claims.claim,
        engine,
        tenant_id=tenant_id,
        key=key,
        event=f"campaign.{trigger}",
        fingerprint=fingerprint,
    )
    if not claim.ours:
        log.info("campaign call already fired", campaign_id=campaign_id, trigger=trigger)
        return None
    try:
        answer = await fire(
            engine=engine,
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            trigger=trigger,
            call_id=call_id,
            **rest,
        )
    except BaseException:
        await run_in_threadpool(claims.release, engine, tenant_id=tenant_id, key=key)
        raise
    await run_in_threadpool(claims.remember, engine, tenant_id=tenant_id, key=key, result=answer)
    return answer


def _deployed(engine: Engine, *, number: str, environment: str) -> tuple[str, str, str] | None:
    with Session(engine) as session:
        return campaign_flows.deployed_campaign(session, number=number, environment=environment)


async def on_inbound_call(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    form: Mapping[str, str],
    environment: str,
) -> None:
    """A call to a number deployed for a campaign fires the campaign's `inbound_start` (once
    per call), for the caller (found or created by phone), beside the call's answer (before
    Twilio has the TwiML); never raises."""
    number, caller = form.get("To", ""), form.get("From", "")
    try:
        deployed = await run_in_threadpool(
            _deployed, engine, number=number, environment=environment
        )
        if deployed is None or not E164.match(caller):
            return
        tenant_id, campaign_id, deployment_id = deployed
        await fire_for_call(
            engine=engine,
            settings=settings,
            client_source=client_source,
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            trigger="inbound_start",
            call_id=form.get("CallSid", ""),
            agent_id=None,
            context={
                "from": caller,
                "to": number,
                "environment": environment,
                "deployment_id": deployment_id,
            },
            contact_id=None,
            fields={"phone": caller},
        )
    except Exception as exc:  # the call is answered whatever happens here
        log.warning("campaign inbound_start failed", to=number, error=str(exc))


ANSWERED = frozenset({"in-progress", "completed"})
"""Call statuses of a call someone took (`completed`: taken, then ended)."""


def answered(status: str, answered_by: str | None) -> bool:
    """A person took the call: in progress, or ended after it was taken, not by a machine."""
    machine = (answered_by or "").startswith(("machine", "fax"))
    return status in ANSWERED and not machine


def _placed(engine: Engine, call_sid: str) -> campaign_flows.PlacedCall | None:
    with Session(engine) as session:
        return campaign_flows.placed_call(session, call_sid=call_sid)


async def on_outbound_call(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    call_sid: str,
    status: str,
    answered_by: str | None,
) -> dict[str, Any] | None:
    """An answered call that a run placed for a campaign fires the campaign's `outbound_start`
    (once per call), with the `ai_call` step's agent and the run's contact; never raises."""
    if not call_sid or not answered(status, answered_by):
        return None
    try:
        placed = await run_in_threadpool(_placed, engine, call_sid)
        if placed is None:
            return None
        by = placed.placed_by
        if by.get("campaign_trigger") == "outbound_start" and (
            by.get("campaign_id") == placed.campaign_id
        ):
            log.info(
                "campaign outbound_start not fired again",
                campaign_id=placed.campaign_id,
                execution_id=placed.execution_id,
                reason="the call was placed by a run the campaign's outbound_start started",
            )
            return None
        return await fire_for_call(
            engine=engine,
            settings=settings,
            client_source=client_source,
            tenant_id=placed.tenant_id,
            campaign_id=placed.campaign_id,
            trigger="outbound_start",
            call_id=call_sid,
            agent_id=placed.agent_id,
            context={
                "execution_id": placed.execution_id,
                "to": placed.to,
                "from": placed.sender,
                "answered_by": answered_by,
            },
            contact_id=placed.contact_id,
            fields={} if placed.contact_id else placed.contact_fields(),
        )
    except Exception as exc:  # the status callback is answered whatever happens here
        log.warning("campaign outbound_start failed", error=str(exc))
        return None
