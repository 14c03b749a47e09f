"""Phone numbers (E.164) a tenant owns, and the flows that answer them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import Session

from api.deps import EngineDep, ManagerKey, SessionDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND
from schemas.triggers import E164
from store import telephony
from store.models import Deployment, PhoneNumber

router = APIRouter(prefix="/phone-numbers", tags=["phone numbers"], responses=KEYED)


def check_e164(value: str | None) -> str | None:
    if value is not None and not E164.match(value):
        raise ValueError("not an E.164 phone number (`+` then 7 to 15 digits)")
    return value


class PhoneNumberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(description="E.164, e.g. +15550100001; registered by one tenant only")
    label: str | None = Field(default=None, max_length=200)

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str) -> str | None:
        return check_e164(value)


class PhoneNumberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str | None = None
    label: str | None = Field(default=None, max_length=200)

    @field_validator("number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("`number` cannot be null")
        return check_e164(value)


class DeploymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    flow_id: str
    version: int
    phone_number_id: str
    number: str
    environment: str
    schedule: dict[str, Any] | None
    fallback_flow_id: str | None
    campaign_id: str | None = None
    active: bool
    created_at: datetime
    replaced_at: datetime | None

    @classmethod
    def of(cls, deployment: Deployment) -> DeploymentOut:
        return cls.model_validate(
            {**deployment.model_dump(), "active": deployment.replaced_at is None}
        )


class PhoneNumberOut(BaseModel):
    id: str
    number: str
    label: str | None
    deployments: dict[str, DeploymentOut | None]
    """The active deployment of each environment (production, staging), or null."""
    created_at: datetime
    updated_at: datetime


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
