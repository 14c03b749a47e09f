"""Campaigns: what executions, deployments and recordings are grouped and permitted by."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from temporalio.client import Client

from api.bodies.campaigns import (
    CampaignCreate,
    CampaignFlowCreate,
    CampaignFlowOut,
    CampaignFlowUpdate,
    CampaignOut,
    CampaignTriggered,
    CampaignTriggerIn,
    CampaignUpdate,
)
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey, get_temporal
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services import campaign_flows as campaign_triggers
from store import campaign_flows, campaigns
from store.flows import get_flow
from store.models import CampaignFlow, Flow

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=KEYED)


@router.get("")
def list_campaigns(session: SessionDep, key: ViewerKey) -> list[CampaignOut]:
    """The tenant's campaigns, by name."""
    rows = campaigns.list_campaigns(session, tenant_id=key.tenant_id)
    return [CampaignOut.model_validate(c) for c in rows]


@router.post("", status_code=201, responses=CONFLICT)
def create_campaign(body: CampaignCreate, session: SessionDep, key: ManagerKey) -> CampaignOut:
    """A new campaign; 409 if the tenant has one of that name."""
    row = campaigns.create_campaign(
        session, tenant_id=key.tenant_id, name=body.name, description=body.description
    )
    return CampaignOut.model_validate(row)


@router.get("/{campaign_id}", responses=NOT_FOUND)
def read_campaign(campaign_id: str, session: SessionDep, key: ViewerKey) -> CampaignOut:
    row = campaigns.get_campaign(session, tenant_id=key.tenant_id, campaign_id=campaign_id)
    return CampaignOut.model_validate(row)


@router.patch("/{campaign_id}", responses=NOT_FOUND | CONFLICT)
def update_campaign(
    campaign_id: str, body: CampaignUpdate, session: SessionDep, key: ManagerKey
) -> CampaignOut:
    row = campaigns.update_campaign(
        session,
        tenant_id=key.tenant_id,
        campaign_id=campaign_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return CampaignOut.model_validate(row)


@router.delete("/{campaign_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_campaign(campaign_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove an unused campaign; 409 once executions, deployments or recordings refer to it."""
    campaigns.delete_campaign(session, tenant_id=key.tenant_id, campaign_id=campaign_id)
    return Response(status_code=204)


def _assignment_out(assignment: CampaignFlow, flow: Flow) -> CampaignFlowOut:
    return CampaignFlowOut.model_validate(
        {**assignment.model_dump(), "flow_name": flow.name}, from_attributes=False
    )


@router.get("/{campaign_id}/flows", responses=NOT_FOUND)
def list_campaign_flows(
    campaign_id: str, session: SessionDep, key: ViewerKey
) -> list[CampaignFlowOut]:
    """The flows assigned to the campaign, by trigger, then priority (lower first)."""
    pairs = campaign_flows.list_assignments(
        session, tenant_id=key.tenant_id, campaign_id=campaign_id
    )
    return [_assignment_out(a, f) for a, f in pairs]


@router.post("/{campaign_id}/flows", status_code=201, responses=NOT_FOUND | CONFLICT)
def assign_campaign_flow(
    campaign_id: str, body: CampaignFlowCreate, session: SessionDep, key: ManagerKey
) -> CampaignFlowOut:
    """Assign a flow of the tenant to the campaign for a trigger; 409 if it already is."""
    row = campaign_flows.assign(
        session,
        tenant_id=key.tenant_id,
        campaign_id=campaign_id,
        flow_id=body.flow_id,
        trigger=body.trigger,
        priority=body.priority,
        conditions=[c.model_dump(mode="json") for c in body.conditions],
        active=body.active,
    )
    flow = get_flow(session, tenant_id=key.tenant_id, flow_id=row.flow_id)
    return _assignment_out(row, flow)


@router.patch("/{campaign_id}/flows/{assignment_id}", responses=NOT_FOUND)
def update_campaign_flow(
    campaign_id: str,
    assignment_id: str,
    body: CampaignFlowUpdate,
    session: SessionDep,
    key: ManagerKey,
) -> CampaignFlowOut:
    """Change an assignment's priority, conditions or active switch."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    row = campaign_flows.update_assignment(
        session,
        tenant_id=key.tenant_id,
        campaign_id=campaign_id,
        assignment_id=assignment_id,
        changes=changes,
    )
    flow = session.get(Flow, row.flow_id)
    assert flow is not None
    return _assignment_out(row, flow)


@router.delete("/{campaign_id}/flows/{assignment_id}", status_code=204, responses=NOT_FOUND)
def unassign_campaign_flow(
    campaign_id: str, assignment_id: str, session: SessionDep, key: ManagerKey
) -> Response:
    campaign_flows.unassign(
        session, tenant_id=key.tenant_id, campaign_id=campaign_id, assignment_id=assignment_id
    )
    return Response(status_code=204)


@router.post("/{campaign_id}/flows/trigger", responses=NOT_FOUND)
async def trigger_campaign_flow(
    campaign_id: str,
    body: CampaignTriggerIn,
    request: Request,
    engine: EngineDep,
    settings: SettingsDep,
    key: ManagerKey,
) -> CampaignTriggered:
    """Start the active assignment for `trigger` with the best priority whose conditions hold
    and whose flow is enabled and published (DNC, cooldown and business hours apply as for
    leads), with `trigger.call_id`, `trigger.agent_id`, `trigger.campaign_id` and
    `trigger.context`; the answer says what started, or why nothing did."""

    async def client_source() -> Client:
        return await get_temporal(request)

    fields = body.contact.given()
    fields.pop("id", None)
    result = await campaign_triggers.fire(
        engine=engine,
        settings=settings,
        client_source=client_source,
        tenant_id=key.tenant_id,
        campaign_id=campaign_id,
        trigger=body.trigger,
        call_id=body.call_id,
        agent_id=body.agent_id,
        context=body.context,
        contact_id=body.contact.id,
        fields=fields,
    )
    return CampaignTriggered.model_validate(result)
