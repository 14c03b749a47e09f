"""Deploying a flow to phone numbers, and the history of its deployments."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.bodies import VersionNumber
from api.deps import EngineDep, ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.routes.phone_numbers import DeploymentOut, check_e164
from api.services.deploy import deploy_flow
from schemas.hours import BusinessHours
from store import telephony
from store.flows import get_flow

router = APIRouter(prefix="/flows", tags=["deployments"], responses=KEYED | NOT_FOUND)


class DeployBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_numbers: list[str] = Field(
        min_length=1, max_length=100, description="numbers registered in /api/phone-numbers"
    )
    environment: Literal["production", "staging"] = "production"
    schedule: BusinessHours | None = None
    """Outside it, calls go to the fallback flow."""
    fallback_flow_id: str | None = Field(default=None, max_length=32)
    """A published flow of the tenant, for calls outside the schedule or when the flow fails."""
    version: VersionNumber | None = None
    """Default: the published version."""
    campaign_id: str | None = Field(default=None, max_length=32)
    """The campaign calls to these numbers (and their recordings) belong to."""

    @field_validator("phone_numbers")
    @classmethod
    def _e164(cls, value: list[str]) -> list[str]:
        for number in value:
            check_e164(number)
        if len(set(value)) != len(value):
            raise ValueError("a number is listed twice")
        return value


class DeployOut(BaseModel):
    deployments: list[DeploymentOut]


@router.post("/{flow_id}/deploy", status_code=201, responses=CONFLICT)
def deploy(
    flow_id: str, body: DeployBody, session: SessionDep, engine: EngineDep, key: ManagerKey
) -> DeployOut:
    """Point the numbers at this flow in the environment; what they pointed at becomes history."""
    created = deploy_flow(
        session,
        engine,
        tenant_id=key.tenant_id,
        flow_id=flow_id,
        numbers=body.phone_numbers,
        environment=body.environment,
        schedule=body.schedule.model_dump() if body.schedule else None,
        fallback_flow_id=body.fallback_flow_id,
        version=body.version,
        campaign_id=body.campaign_id,
    )
    return DeployOut(deployments=[DeploymentOut.of(d) for d in created])


@router.get("/{flow_id}/deployments")
def list_deployments(flow_id: str, session: SessionDep, key: ViewerKey) -> list[DeploymentOut]:
    """Every deployment of the flow, newest first; replaced ones have `active: false`."""
    get_flow(session, tenant_id=key.tenant_id, flow_id=flow_id)
    rows = telephony.flow_deployments(session, tenant_id=key.tenant_id, flow_id=flow_id)
    return [DeploymentOut.of(d) for d in rows]
