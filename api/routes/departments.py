"""Departments: where calls are transferred (their agents, else their queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.deps import ManagerKey, SessionDep, ViewerKey
from api.routes.phone_numbers import check_e164
from schemas.hours import BusinessHours
from store import telephony

router = APIRouter(prefix="/departments", tags=["departments"])


class _DepartmentFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str | None = Field(default=None, description="E.164: dialled on transfer")
    queue: str | None = Field(default=None, min_length=1, max_length=64)
    """The Twilio queue callers wait in when no agent is available."""
    business_hours: BusinessHours | None = None
    overflow_department_id: str | None = Field(default=None, max_length=32)
    """A department of the tenant that takes the calls this one cannot."""

    @field_validator("phone_number")
    @classmethod
    def _e164(cls, value: str | None) -> str | None:
        return check_e164(value)

    def given(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class DepartmentCreate(_DepartmentFields):
    """A department needs a `phone_number` or a `queue`; its name is unique in the tenant."""

    name: str = Field(min_length=1, max_length=200)


class DepartmentUpdate(_DepartmentFields):
    """Only the fields given change; `null` clears the optional ones."""

    name: str | None = Field(default=None, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _name_not_null(self) -> DepartmentUpdate:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("`name` cannot be null")
        return self


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    phone_number: str | None
    queue: str | None
    business_hours: dict[str, Any] | None
    overflow_department_id: str | None
    created_at: datetime
    updated_at: datetime


@router.get("")
def list_departments(session: SessionDep, key: ViewerKey) -> list[DepartmentOut]:
    rows = telephony.list_departments(session, tenant_id=key.tenant_id)
    return [DepartmentOut.model_validate(d) for d in rows]


@router.post("", status_code=201)
def create_department(
    body: DepartmentCreate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.create_department(session, tenant_id=key.tenant_id, fields=body.given())
    return DepartmentOut.model_validate(department)


@router.get("/{department_id}")
def read_department(department_id: str, session: SessionDep, key: ViewerKey) -> DepartmentOut:
    department = telephony.get_department(
        session, tenant_id=key.tenant_id, department_id=department_id
    )
    return DepartmentOut.model_validate(department)


@router.patch("/{department_id}")
def update_department(
    department_id: str, body: DepartmentUpdate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.update_department(
        session, tenant_id=key.tenant_id, department_id=department_id, changes=body.given()
    )
    return DepartmentOut.model_validate(department)


@router.delete("/{department_id}", status_code=204)
def delete_department(department_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove it: departments overflowing to it stop overflowing, its agents leave it."""
    telephony.delete_department(session, tenant_id=key.tenant_id, department_id=department_id)
    return Response(status_code=204)
