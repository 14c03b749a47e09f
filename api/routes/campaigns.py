"""Campaigns: what executions, deployments and recordings are grouped and permitted by."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.deps import ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from store import campaigns

router = APIRouter(prefix="/campaigns", tags=["campaigns"], responses=KEYED)


class CampaignCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="unique in the tenant")
    description: str | None = Field(default=None, max_length=10_000)


class CampaignUpdate(BaseModel):
    """Only the fields given change; `null` clears the description."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _name_not_null(self) -> CampaignUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("`name` cannot be null")
        return self


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str | None
    created_at: datetime
    updated_at: datetime


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
