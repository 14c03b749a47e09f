"""Deploying a flow to phone numbers, and the history of its deployments."""

from __future__ import annotations

from fastapi import APIRouter

from api.bodies.deploy import DeployBody, DeployOut
from api.bodies.phone_numbers import DeploymentOut
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from api.services.deploy import deploy_flow
from store import telephony
from store.flows import get_flow

router = APIRouter(prefix="/flows", tags=["deployments"], responses=KEYED | NOT_FOUND)


@router.post("/{flow_id}/deploy", status_code=201, responses=CONFLICT)
def deploy(
    flow_id: str,
    body: DeployBody,
    session: SessionDep,
    engine: EngineDep,
    key: ManagerKey,
    settings: SettingsDep,
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
        settings=settings,
        campaign_id=body.campaign_id,
    )
    return DeployOut(deployments=[DeploymentOut.of(d) for d in created])


@router.get("/{flow_id}/deployments")
def list_deployments(flow_id: str, session: SessionDep, key: ViewerKey) -> list[DeploymentOut]:
    """Every deployment of the flow, newest first; replaced ones have `active: false`."""
    get_flow(session, tenant_id=key.tenant_id, flow_id=flow_id)
    rows = telephony.flow_deployments(session, tenant_id=key.tenant_id, flow_id=flow_id)
    return [DeploymentOut.of(d) for d in rows]
