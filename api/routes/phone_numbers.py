"""Phone numbers (E.164) a tenant owns, and the flows that answer them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from sqlmodel import Session

from api.bodies.phone_numbers import (
    DeploymentOut,
    PhoneNumberCreate,
    PhoneNumberOut,
    PhoneNumberUpdate,
)
from api.deps import EngineDep, ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from store import telephony
from store.models import PhoneNumber

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"], responses=KEYED)


def _out(session: Session, rows: list[PhoneNumber]) -> list[PhoneNumberOut]:
    active = telephony.active_deployments(session, phone_number_ids=[r.id for r in rows])
    by_number: dict[str, dict[str, DeploymentOut | None]] = {
        r.id: dict.fromkeys(telephony.ENVIRONMENTS) for r in rows
    }
    for deployment in active:
        by_number[deployment.phone_number_id][deployment.environment] = DeploymentOut.of(deployment)
    return [
        PhoneNumberOut(
            id=r.id,
            number=r.number,
            label=r.label,
            deployments=by_number[r.id],
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


@router.get("")
def list_phone_numbers(session: SessionDep, key: ViewerKey) -> list[PhoneNumberOut]:
    return _out(session, telephony.list_phone_numbers(session, tenant_id=key.tenant_id))


@router.post("", status_code=201, responses=CONFLICT)
def create_phone_number(
    body: PhoneNumberCreate, session: SessionDep, key: ManagerKey
) -> PhoneNumberOut:
    """Register a number; 409 if it is registered already (by this or another tenant)."""
    row = telephony.create_phone_number(
        session, tenant_id=key.tenant_id, number=body.number, label=body.label
    )
    return _out(session, [row])[0]


@router.get("/{phone_number_id}", responses=NOT_FOUND)
def read_phone_number(phone_number_id: str, session: SessionDep, key: ViewerKey) -> PhoneNumberOut:
    """The number and its active deployment per environment."""
    row = telephony.get_phone_number(
        session, tenant_id=key.tenant_id, phone_number_id=phone_number_id
    )
    return _out(session, [row])[0]


@router.patch("/{phone_number_id}", responses=NOT_FOUND | CONFLICT)
def update_phone_number(
    phone_number_id: str, body: PhoneNumberUpdate, session: SessionDep, key: ManagerKey
) -> PhoneNumberOut:
    row = telephony.update_phone_number(
        session,
        tenant_id=key.tenant_id,
        phone_number_id=phone_number_id,
        changes=body.model_dump(exclude_unset=True),
    )
    return _out(session, [row])[0]


@router.delete("/{phone_number_id}/deployments/{environment}", responses=NOT_FOUND | CONFLICT)
def undeploy(
    phone_number_id: str,
    environment: Literal["production", "staging"],
    session: SessionDep,
    engine: EngineDep,
    key: ManagerKey,
) -> PhoneNumberOut:
    """Stop the number answering with a flow in `environment` (the deployment is kept in
    the flow's history); 404 when nothing is deployed there. Calls already under way go on."""
    telephony.undeploy(
        engine, tenant_id=key.tenant_id, phone_number_id=phone_number_id, environment=environment
    )
    row = telephony.get_phone_number(
        session, tenant_id=key.tenant_id, phone_number_id=phone_number_id
    )
    return _out(session, [row])[0]


@router.delete("/{phone_number_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_phone_number(phone_number_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove a number; 409 while a flow is deployed to it."""
    telephony.delete_phone_number(session, tenant_id=key.tenant_id, phone_number_id=phone_number_id)
    return Response(status_code=204)
