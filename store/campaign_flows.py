"""Flows assigned to a campaign's triggers: one per campaign, flow and trigger (409 twice)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.campaigns import get_campaign
from store.errors import ConflictError, NotFoundError
from store.flows import get_flow
from store.models import (
    CampaignFlow,
    Deployment,
    Execution,
    Flow,
    OutboxMessage,
    PhoneNumber,
    utcnow,
)


def _duplicate(trigger: str) -> ConflictError:
    return ConflictError(f"this flow is already assigned to the campaign for {trigger}")


def list_assignments(
    session: Session, *, tenant_id: str, campaign_id: str
) -> list[tuple[CampaignFlow, Flow]]:
    """The campaign's assignments with their flows (deleted flows left out), by trigger,
    priority (none last) and age."""
    get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    query = (
        select(CampaignFlow, Flow)
        .join(Flow, col(Flow.id) == col(CampaignFlow.flow_id))
        .where(
            CampaignFlow.tenant_id == tenant_id,
            CampaignFlow.campaign_id == campaign_id,
            col(Flow.deleted_at).is_(None),
        )
        .order_by(
            col(CampaignFlow.trigger),
            col(CampaignFlow.priority).is_(None),
            col(CampaignFlow.priority),
            col(CampaignFlow.created_at),
            col(CampaignFlow.id),
        )
    )
    return [(a, f) for a, f in session.exec(query).all()]


def get_assignment(
    session: Session, *, tenant_id: str, campaign_id: str, assignment_id: str
) -> CampaignFlow:
    get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    row = session.get(CampaignFlow, assignment_id)
    if row is None or row.tenant_id != tenant_id or row.campaign_id != campaign_id:
        raise NotFoundError(f"campaign flow {assignment_id} not found")
    return row


def assign(
    session: Session,
    *,
    tenant_id: str,
    campaign_id: str,
    flow_id: str,
    trigger: str,
    priority: int | None,
    conditions: list[dict[str, Any]],
    active: bool,
) -> CampaignFlow:
    """Assign the flow (404 unless the campaign and the flow are the tenant's); 409 when it is
    already assigned to the campaign for this trigger."""
    get_campaign(session, tenant_id=tenant_id, campaign_id=campaign_id)
    get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
    taken = session.exec(
        select(CampaignFlow.id).where(
            CampaignFlow.campaign_id == campaign_id,
            CampaignFlow.flow_id == flow_id,
            CampaignFlow.trigger == trigger,
        )
    ).first()
    if taken is not None:
        raise _duplicate(trigger)
    row = CampaignFlow(
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        flow_id=flow_id,
        trigger=trigger,
        priority=priority,
        conditions=conditions,
        active=active,
    )
    session.add(row)
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent request assigned it first
        session.rollback()
        raise _duplicate(trigger) from exc
    return row


def update_assignment(
    session: Session,
    *,
    tenant_id: str,
    campaign_id: str,
    assignment_id: str,
    changes: Mapping[str, Any],
) -> CampaignFlow:
    row = get_assignment(
        session, tenant_id=tenant_id, campaign_id=campaign_id, assignment_id=assignment_id
    )
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    session.commit()
    return row


def unassign(session: Session, *, tenant_id: str, campaign_id: str, assignment_id: str) -> None:
    row = get_assignment(
        session, tenant_id=tenant_id, campaign_id=campaign_id, assignment_id=assignment_id
    )
    session.delete(row)
    session.commit()


def triggered(
    session: Session, *, tenant_id: str, campaign_id: str, trigger: str
) -> list[tuple[CampaignFlow, Flow]]:
    """The campaign's assignments for this trigger, active or not, with their (undeleted)
    flows; the caller judges them."""
    return [
        (a, f)
        for a, f in list_assignments(session, tenant_id=tenant_id, campaign_id=campaign_id)
        if a.trigger == trigger
    ]


def deployed_campaign(
    session: Session, *, number: str, environment: str
) -> tuple[str, str, str] | None:
    """(tenant, campaign, deployment) of the number's active deployment in the environment,
    when it is deployed for a campaign."""
    query = (
        select(Deployment.tenant_id, Deployment.campaign_id, Deployment.id)
        .join(PhoneNumber, col(PhoneNumber.id) == col(Deployment.phone_number_id))
        .where(
            PhoneNumber.number == number,
            Deployment.environment == environment,
            col(Deployment.replaced_at).is_(None),
            col(Deployment.campaign_id).is_not(None),
        )
    )
    row = session.exec(query).first()
    if row is None or row[1] is None:
        return None
    return row[0], row[1], row[2]


@dataclass(frozen=True, kw_only=True)
class PlacedCall:
    """A call a run placed for a campaign (its `ai_call` step's outbox row and the run)."""

    tenant_id: str
    campaign_id: str
    execution_id: str
    contact_id: str | None
    agent_id: str | None
    to: str
    sender: str | None
    placed_by: dict[str, Any]
    """The trigger data of the run that placed the call."""
    contact: dict[str, Any]
    """The run's contact: with no stored contact, its phone, name and email make one."""

    def contact_fields(self) -> dict[str, Any]:
        """Fields of the contact to find (by phone) or create, when the run names none."""
        named = {k: self.contact.get(k) for k in ("name", "email")}
        return {"phone": self.to, **{k: v for k, v in named.items() if v}}


def placed_call(session: Session, *, call_sid: str) -> PlacedCall | None:
    """The call with this CallSid when a run (not a test) placed it for a campaign."""
    row = session.exec(
        select(OutboxMessage).where(
            OutboxMessage.provider_id == call_sid, OutboxMessage.channel == "voice"
        )
    ).first()
    if row is None or row.execution_id is None:
        return None
    execution = session.get(Execution, row.execution_id)
    if execution is None or execution.campaign_id is None or execution.test:
        return None
    content = row.content or {}
    return PlacedCall(
        tenant_id=execution.tenant_id,
        campaign_id=execution.campaign_id,
        execution_id=execution.id,
        contact_id=execution.contact_id,
        agent_id=content.get("agent_id"),
        to=row.to,
        sender=content.get("from"),
        placed_by=dict(execution.trigger or {}),
        contact=dict(execution.contact or {}),
    )
