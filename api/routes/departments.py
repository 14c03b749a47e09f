"""Departments: where calls are transferred (their agents, else their queue)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND, UNAVAILABLE
from api.routes.phone_numbers import check_e164
from api.services import routing
from api.services.routing import TwilioHttpDep
from schemas.hours import BusinessHours
from store import telephony

router = APIRouter(prefix="/departments", tags=["departments"], responses=KEYED)


class _DepartmentFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone_number: str | None = Field(
        default=None,
        description="E.164: the department's line. With no queue, a transfer dials it when no "
        "agent is free; agents dialled see it as the caller ID.",
    )
    queue: str | None = Field(default=None, min_length=1, max_length=64)
    """Callers wait in the department's queue when no agent is available (the name is a
    label: Twilio's queue is named after the department, priority and skills)."""
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


@router.post("", status_code=201, responses=CONFLICT)
def create_department(
    body: DepartmentCreate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.create_department(session, tenant_id=key.tenant_id, fields=body.given())
    return DepartmentOut.model_validate(department)


@router.get("/{department_id}", responses=NOT_FOUND)
def read_department(department_id: str, session: SessionDep, key: ViewerKey) -> DepartmentOut:
    department = telephony.get_department(
        session, tenant_id=key.tenant_id, department_id=department_id
    )
    return DepartmentOut.model_validate(department)


@router.patch("/{department_id}", responses=NOT_FOUND | CONFLICT)
def update_department(
    department_id: str, body: DepartmentUpdate, session: SessionDep, key: ManagerKey
) -> DepartmentOut:
    department = telephony.update_department(
        session, tenant_id=key.tenant_id, department_id=department_id, changes=body.given()
    )
    return DepartmentOut.model_validate(department)


@router.delete("/{department_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_department(department_id: str, session: SessionDep, key: ManagerKey) -> Response:
    """Remove it: departments overflowing to it stop overflowing, its agents leave it."""
    telephony.delete_department(session, tenant_id=key.tenant_id, department_id=department_id)
    return Response(status_code=204)


class RouteCallBody(BaseModel):
    """Route a live call (by CallSid) to a department, with a priority (lower first) and
    context for the agent (the caller's path through its flow is added when known)."""

    model_config = ConfigDict(extra="forbid")

    call_sid: str = Field(pattern=r"^CA[0-9a-fA-F]{32}$")
    department: str = Field(min_length=1, max_length=200, description="id or name")
    priority: int = Field(default=5, ge=0, le=100)
    skills: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=50
    )
    context: dict[str, Any] = Field(default_factory=dict)


class RoutedAgentOut(BaseModel):
    id: str
    name: str
    phone: str | None
    client_identity: str | None


class RoutedDepartmentOut(BaseModel):
    id: str
    name: str


class RoutedCallOut(BaseModel):
    """Where the call went: `dialing` an agent, or `queued` at `position` in `queue`."""

    status: Literal["dialing", "queued"]
    agent: RoutedAgentOut | None = None
    queue: str | None = None
    position: int | None = None
    queue_entry_id: str
    department: RoutedDepartmentOut
    overflow_from: str | None = None
    """The department that was closed, when the call overflowed from it."""
    execution_id: str | None = None
    """The execution handling the call, when it runs through a flow."""


class QueuedCallOut(BaseModel):
    id: str
    position: int
    call_sid: str
    execution_id: str | None
    priority: int
    skills: list[str]
    enqueued_at: datetime
    waited_s: int
    context: dict[str, Any]


@router.post("/route", responses=NOT_FOUND | CONFLICT | UNAVAILABLE)
async def route_call(
    body: RouteCallBody,
    engine: EngineDep,
    settings: SettingsDep,
    http: TwilioHttpDep,
    key: ManagerKey,
) -> RoutedCallOut:
    """Straight to a free agent of the department (`dialing`), else into its queue
    (`queued`, with the position); the live call is redirected accordingly."""
    routed = await routing.route_call(
        engine=engine,
        settings=settings,
        http=http,
        tenant_id=key.tenant_id,
        call_sid=body.call_sid,
        department=body.department,
        priority=body.priority,
        skills=body.skills,
        context=body.context,
    )
    return RoutedCallOut.model_validate(routed)


@router.get("/{department_id}/queue", responses=NOT_FOUND)
def read_queue(department_id: str, engine: EngineDep, key: ViewerKey) -> list[QueuedCallOut]:
    """The callers waiting in the department, in the order they will be served."""
    entries = routing.queue_of(engine, tenant_id=key.tenant_id, department_id=department_id)
    return [QueuedCallOut.model_validate(e) for e in entries]
