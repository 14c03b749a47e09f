"""Campaigns: what executions, deployments and recordings are grouped and permitted by."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.bodies.campaigns import CampaignCreate, CampaignOut, CampaignUpdate
from api.deps import ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from store import campaigns

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
